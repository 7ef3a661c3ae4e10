"""Execute a drill's runbook through the Pulumi Automation API.

Steps run in the runbook's order (RUN-002: promote the standby before demoting the old primary):
gates run the readiness checks; the activation step runs the Region switch execution or the local
runner (:mod:`reskflow_dr.activation`, through the ``activate`` callable); the config step sets
every change with ``Stack.set_config``; ``refresh`` steps run ``Stack.refresh`` on the data stores
the activation changed outside Pulumi; ``up`` steps run ``Stack.up`` with the policy pack and then
the readiness check for the new role. ``after`` steps (a lost region's return) are not run. The
first failure stops the run, which prints where it stopped and the command that resumes from that
step; an activation awaiting an approval stops with ``awaiting`` set (exit 4, not a failure).

Stacks are selected, never created: creating a missing stack during a drill would plan to create
every resource anew. Without a ``pulumi`` CLI on PATH nothing runs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
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
        policy_pack_configs: list[str] | None = None,
    ) -> Any: ...

    def refresh(
        self, *, on_output: Callable[[str], Any] | None = None, target: list[str] | None = None
    ) -> Any: ...

    def outputs(self) -> Mapping[str, Any]: ...


class Workspace(Protocol):
    policy_packs: list[str]
    """Policy packs every ``up`` runs with (the pack is never skipped)."""

    def select(self, stack: str) -> StackLike: ...

    def config_value(self, value: str) -> Any: ...


#: (stack, readiness mode, peer lost) -> (passed, one-line detail)
Gate = Callable[[str, Mode, bool], tuple[bool, str]]
#: (transition, activation step) -> (outcome, message): ``completed``, ``failed``,
#: ``declined`` or ``awaiting-approval`` (reskflow_dr.activation.Outcome)
Activate = Callable[[Transition, Step], tuple[str, str]]


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
    awaiting: bool = False
    """Stopped at an approval no source could give (not a failure: exit 4)."""

    @property
    def ok(self) -> bool:
        return self.stopped_at is None


def _summary_result(result: Any) -> str:
    return str(getattr(getattr(result, "summary", None), "result", "unknown"))


class AwaitingApprovalError(Exception):
    """The activation waits for an approval; ``str(err)`` says how to give it."""


def _run_step(
    step: Step,
    t: Transition,
    ws: Workspace,
    gate: Gate,
    activate: Activate,
    say: Callable[[str], None],
) -> str | None:
    """Run one step; the reason it failed, or None."""
    peer_lost = t.move.peer_lost
    if step.kind == "activate":
        outcome, message = activate(t, step)
        if outcome == "awaiting-approval":
            raise AwaitingApprovalError(message)
        return None if outcome == "completed" else f"activation {outcome}: {message}"
    if step.kind == "config":
        for change in t.changes:
            say(f"    {change.command}")
            ws.select(change.stack).set_config(change.key, ws.config_value(change.value))
        return None
    assert step.stack is not None
    if step.kind == "refresh":
        say(f"    {step.commands[0]}")
        result = ws.select(step.stack).refresh(
            on_output=lambda line: say(f"      {line.rstrip()}"), target=list(step.targets) or None
        )
        ok = _summary_result(result) == "succeeded"
        return None if ok else f"pulumi refresh -s {step.stack}: {_summary_result(result)}"
    assert step.check is not None
    if step.kind == "up":
        say(f"    {step.commands[0]}")
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
    activate: Activate,
    start: int = 1,
    say: Callable[[str], None] = print,
) -> Outcome:
    """Run ``steps`` from ``start`` (1-based), stopping at the first failure or at an approval
    no source can give; ``after`` steps are shown, not run."""
    outcome = Outcome()
    for number, step in enumerate(steps, 1):
        if number < start:
            continue
        if step.kind == "after":
            say(f"Step {number}/{len(steps)} [after] {step.title}: later, not run now")
            continue
        say(f"Step {number}/{len(steps)} [{step.kind}] {step.title}")
        try:
            reason = _run_step(step, t, ws, gate, activate, say)
        except AwaitingApprovalError as waiting:
            outcome.stopped_at, outcome.reason, outcome.awaiting = number, str(waiting), True
            return outcome
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
        span = f"{o.completed[0]}-{o.completed[-1]}" if o.completed else "none"
        return f"Executed steps {span}: done."
    assert o.stopped_at is not None
    step = steps[o.stopped_at - 1]
    if o.awaiting:
        return (
            f"Stopped awaiting approval at step {o.stopped_at} ({step.title}): {o.reason}\n"
            f"Approve, then resume: {resume_command(t, o.stopped_at)}"
        )
    return (
        f"Stopped at step {o.stopped_at} ({step.title}): {o.reason}\n"
        f"Fix the cause, then resume from that step: {resume_command(t, o.stopped_at)}"
    )
