"""Execute a drill's runbook through the Pulumi Automation API.

Steps run in the runbook's order (RUN-002: promote the standby before demoting the old primary):
manual steps need a confirmation, gates run the readiness checks, the config step sets every
change with ``Stack.set_config``, ``up`` steps run ``Stack.up`` and then the readiness check for
the new role. The first failure stops the run, which prints where it stopped and the command
that resumes from that step.

Stacks are selected, never created: creating a missing stack during a drill would plan to create
every resource anew. Without a ``pulumi`` CLI on PATH nothing runs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from reskflow_dr import readiness
from reskflow_dr.drill import Mode, Step, Transition, stack_plans
from reskflow_dr.preview import ROOT, validated


class OrchestrationError(Exception):
    """The runbook cannot be executed at all. ``str(err)`` is the one-line message."""


class NoPulumiCliError(OrchestrationError):
    pass


class StackLike(Protocol):
    """The part of ``pulumi.automation.Stack`` the orchestrator uses."""

    def set_config(self, key: str, value: Any) -> None: ...

    def up(
        self,
        *,
        on_output: Callable[[str], Any] | None = None,
        policy_packs: list[str] | None = None,
    ) -> Any: ...


class Workspace(Protocol):
    policy_packs: list[str]
    """Policy packs every ``up`` runs with (the pack is never skipped)."""

    def select(self, stack: str) -> StackLike: ...

    def config_value(self, value: str) -> Any: ...


#: (stack, readiness mode, peer lost) -> (passed, one-line detail)
Gate = Callable[[str, Mode, bool], tuple[bool, str]]
#: (step number, step) -> whether the operator confirms the manual step is done
Confirm = Callable[[int, Step], bool]


class AutomationWorkspace:
    """The real thing: ``pulumi.automation`` stacks of the project in ``root``."""

    def __init__(self, root: Path = ROOT) -> None:
        if shutil.which("pulumi") is None:
            raise NoPulumiCliError(
                "no pulumi CLI on PATH: --execute needs it (https://www.pulumi.com/docs/install/); "
                "the offline drill above is complete without it"
            )
        self.root = root
        self.policy_packs = [str(root / "policy")]

    def select(self, stack: str) -> StackLike:
        from pulumi import automation as auto

        selected: StackLike = auto.select_stack(stack_name=stack, work_dir=str(self.root))
        return selected

    def config_value(self, value: str) -> Any:
        from pulumi import automation as auto

        return auto.ConfigValue(value=value)


def live_gate(root: Path = ROOT, endpoint_url: str | None = None) -> Gate:
    """Readiness checks against AWS, on targets read from fresh offline plans."""

    def gate(stack: str, mode: Mode, peer_lost: bool) -> tuple[bool, str]:
        rows = check_stack(stack, mode, peer_lost, root, endpoint_url)
        failed = [f"{r.check} {r.target}: {r.detail}" for r in rows if r.status == "fail"]
        return not failed, "; ".join(failed) or f"{len(rows)} checks passed"

    return gate


def check_stack(
    stack: str,
    mode: Mode,
    peer_lost: bool,
    root: Path = ROOT,
    endpoint_url: str | None = None,
) -> list[readiness.CheckResult]:
    """Preview ``stack`` and its peer offline, then run the readiness checks for ``mode``."""
    plan, peer_plan = stack_plans(stack, root)
    settings = validated(root, stack)
    ctx = readiness.Context(
        targets=readiness.targets_from_plans(plan, peer_plan),
        clients=readiness.Clients(endpoint_url=endpoint_url),
        rpo_seconds=settings.recovery.rpo_minutes * 60,
        now=readiness.now_utc(),
        peer_lost=peer_lost or settings.peer_lost,
    )
    return readiness.run(ctx, mode)


@dataclass
class Outcome:
    completed: list[int] = field(default_factory=list)
    stopped_at: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.stopped_at is None


def _summary_result(result: Any) -> str:
    return str(getattr(getattr(result, "summary", None), "result", "unknown"))


def _run_step(
    number: int,
    step: Step,
    t: Transition,
    ws: Workspace,
    gate: Gate,
    confirm: Confirm,
    say: Callable[[str], None],
) -> str | None:
    """Run one step; the reason it failed, or None."""
    peer_lost = t.move.peer_lost
    if step.kind == "manual":
        return None if confirm(number, step) else "manual step not confirmed as done"
    if step.kind == "config":
        for change in t.changes:
            say(f"    {change.command}")
            ws.select(change.stack).set_config(change.key, ws.config_value(change.value))
        return None
    assert step.stack is not None and step.check is not None
    if step.kind == "up":
        say(f"    pulumi up -s {step.stack} --policy-pack policy")
        result = ws.select(step.stack).up(
            on_output=lambda line: say(f"      {line.rstrip()}"), policy_packs=ws.policy_packs
        )
        if _summary_result(result) != "succeeded":
            return f"pulumi up -s {step.stack}: {_summary_result(result)}"
    ok, detail = gate(step.stack, step.check, peer_lost)
    say(f"    readiness {step.stack} ({step.check}): {detail}")
    return None if ok else f"readiness {step.stack} ({step.check}) failed: {detail}"


def execute(
    t: Transition,
    steps: Sequence[Step],
    ws: Workspace,
    gate: Gate,
    confirm: Confirm,
    start: int = 1,
    say: Callable[[str], None] = print,
) -> Outcome:
    """Run ``steps`` from ``start`` (1-based), stopping at the first failure."""
    outcome = Outcome()
    for number, step in enumerate(steps, 1):
        if number < start:
            continue
        say(f"Step {number}/{len(steps)} [{step.kind}] {step.title}")
        try:
            reason = _run_step(number, step, t, ws, gate, confirm, say)
        except Exception as err:  # noqa: BLE001 - the Automation API raises many types
            reason = _first_line(err)
        if reason is not None:
            outcome.stopped_at, outcome.reason = number, reason
            return outcome
        outcome.completed.append(number)
    return outcome


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def resume_command(t: Transition, step: int) -> str:
    return f"reskflow-dr drill {t.scenario} --execute --from-step {step}"


def render_outcome(t: Transition, steps: Sequence[Step], o: Outcome) -> str:
    if o.ok:
        return f"Executed steps {o.completed[0] if o.completed else '-'}-{len(steps)}: done."
    assert o.stopped_at is not None
    step = steps[o.stopped_at - 1]
    return (
        f"Stopped at step {o.stopped_at} ({step.title}): {o.reason}\n"
        f"Fix the cause, then resume from that step: {resume_command(t, o.stopped_at)}"
    )
