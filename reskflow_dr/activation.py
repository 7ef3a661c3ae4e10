"""Activate a region: the step config, then Region switch (start and follow the plan's execution,
then the steps an ungraceful execution skips, run here) or the local runner (every step, with its
journal and resume). ``reskflow-dr failover`` and the drills' ``--execute`` both come here.

- :func:`load_step_config` is the one source of :class:`~failover_steps.contract.StepConfig`:
  deterministic identifiers from the two stacks' validated settings, plus what only a deployment
  knows (fence security groups, routing controls, ARC cluster endpoints) from stack outputs read
  through the Automation API. In a disaster only the surviving stack's outputs are read.
- :func:`activate` runs the activation and writes an **activation report** (JSON): the runner,
  the outcome, each step's measured seconds and Region switch's own recovery time. It is what
  ``reskflow-dr rto-rpo STACK --measured FILE`` reads to replace the budget's assumptions.
- Nothing here calls the peer region in an ungraceful activation: the Region switch client is
  in the target region, the local steps avoid the lost region (``failover_steps``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from components.region_switch_steps import LOCAL, executor
from failover_steps.contract import ClusterEndpoint, RegionFacts, StepConfig, TrafficMode
from failover_steps.workflows import Mode, Step, activation_steps
from infra.settings import (
    DOCDB_GLOBAL_IDENTIFIER,
    docdb_cluster_identifier,
    postgres_identifier,
    redis_replication_group_id,
)
from infra.settings.stack import StackSettings as Settings
from reskflow_dr import jsonio
from reskflow_dr.failover import local, regionswitch
from reskflow_dr.failover.approvals import Approver
from reskflow_dr.failover.journal import JournalError
from reskflow_dr.orchestrate import OrchestrationError

# Stack outputs the tool reads (exported by the stack that owns each piece; absent -> not used).
FENCE_GROUPS_OUTPUT = "fenceSecurityGroupIds"
"""``{"postgres": sg, "docdb": sg, "cache": sg}``: the region's no-ingress fence groups."""
ROUTING_CONTROLS_OUTPUT = "routingControlArns"
"""dr stack, ARC mode: ``{region: routing control ARN}``."""
CLUSTER_ENDPOINTS_OUTPUT = "clusterEndpoints"
"""dr stack, ARC mode: ``[{"region": r, "endpoint": url}]``, the cluster's data-plane endpoints."""
TRAFFIC_MODE_OUTPUT = "trafficMode"
SIGNAL_REGIONS_OUTPUT = "signalRegions"
PLAN_ARN_OUTPUT = "regionSwitchPlanArn"
"""The Region switch plan's ARN; read from the surviving stack's outputs (or ``--plan-arn``)."""

Outputs = Mapping[str, Any]
Runner = Literal["region-switch", "local"]
Outcome = Literal["completed", "failed", "awaiting-approval", "declined"]
REPORT_VERSION = 1


class ActivationError(OrchestrationError):
    """The activation cannot start (missing facts, a journal of another run): exit 2, one line."""


def load_step_config(
    settings: Mapping[str, Settings],
    outputs: Mapping[str, Outputs] | None = None,
) -> StepConfig:
    """The StepConfig of the two stacks (``settings`` keyed by region), from their deterministic
    identifiers and, where present, their stack outputs (keyed by region; a lost region has
    none). Swapping to the stacks' own ``step_config(settings)`` is this function's body only."""
    outputs = outputs or {}
    if len(settings) != 2:
        raise ActivationError(f"the step config needs both regions' settings, got {list(settings)}")
    any_settings = next(iter(settings.values()))
    merged: dict[str, Any] = {}
    for region_outputs in outputs.values():
        for key in (ROUTING_CONTROLS_OUTPUT, CLUSTER_ENDPOINTS_OUTPUT, TRAFFIC_MODE_OUTPUT):
            if region_outputs.get(key) and key not in merged:
                merged[key] = region_outputs[key]
    routing = merged.get(ROUTING_CONTROLS_OUTPUT) or {}
    regions = {
        region: RegionFacts(
            region=region,
            postgres_id=postgres_identifier(s.database.generation),
            docdb_cluster_id=docdb_cluster_identifier(region),
            cache_group_id=redis_replication_group_id(region),
            fence_security_group_ids=dict(outputs.get(region, {}).get(FENCE_GROUPS_OUTPUT) or {}),
            routing_control_arn=str(routing.get(region, "")),
        )
        for region, s in sorted(settings.items())
    }
    datastore = next(
        (d for d in (s.database.cache_global_datastore_id for s in settings.values()) if d), ""
    )
    mode: TrafficMode = "signal" if merged.get(TRAFFIC_MODE_OUTPUT) == "signal" else "arc"
    signal = next(
        (o[SIGNAL_REGIONS_OUTPUT] for o in outputs.values() if o.get(SIGNAL_REGIONS_OUTPUT)), None
    )
    return StepConfig(
        account_id=any_settings.account_id,
        regions=regions,
        docdb_global_id=DOCDB_GLOBAL_IDENTIFIER,
        cache_global_id=datastore,
        traffic_mode=mode,
        cluster_endpoints=tuple(
            ClusterEndpoint(str(e["region"]), str(e["endpoint"]))
            for e in merged.get(CLUSTER_ENDPOINTS_OUTPUT) or ()
        ),
        signal_regions=tuple(signal) if signal else tuple(sorted(settings)),
    )


def skipped_by_region_switch(mode: Mode, traffic_mode: TrafficMode) -> tuple[str, ...]:
    """The steps an execution of ``mode`` leaves to the tool (AWS: an ungraceful execution skips
    custom Lambda and routing-control blocks), in the runbook's order."""
    return tuple(
        s.name
        for s in activation_steps(mode)
        if executor(_as_planned(s, traffic_mode), mode) == LOCAL
    )


def _as_planned(step: Step, traffic_mode: TrafficMode) -> Step:
    if traffic_mode == "signal" and step.kind == "routing_control":
        return replace(step, kind="lambda", action="set_traffic_signal")
    return step


@dataclass(frozen=True)
class ActivationReport:
    """What an activation did; written as JSON beside the journal, read by ``--measured``."""

    target_region: str
    mode: Mode
    runner: Runner
    outcome: Outcome
    message: str = ""
    durations: dict[str, float] = field(default_factory=dict)
    """Measured seconds of each finished step (Region switch's execution record, the journal)."""
    ran_by: dict[str, str] = field(default_factory=dict)
    """Step -> ``region-switch`` or ``local``."""
    actual_recovery_s: float | None = None
    execution_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "activation",
            "version": REPORT_VERSION,
            "targetRegion": self.target_region,
            "mode": self.mode,
            "runner": self.runner,
            "outcome": self.outcome,
            "message": self.message,
            "executionId": self.execution_id,
            "actualRecoverySeconds": self.actual_recovery_s,
            "steps": [
                {"step": name, "ranBy": self.ran_by.get(name, ""), "seconds": secs}
                for name, secs in self.durations.items()
            ],
        }


def report_path(directory: Path, target_region: str) -> Path:
    return directory / f"activation-{target_region}.json"


def measured_seconds(path: Path) -> tuple[dict[str, float], float | None]:
    """Step durations from an activation report (or a local runner journal), and Region switch's
    recovery time if recorded. Raises :class:`ActivationError` naming the file when unreadable."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("kind") == "activation":
            steps = {str(s["step"]): float(s["seconds"]) for s in raw["steps"]}
            actual = raw.get("actualRecoverySeconds")
            return steps, float(actual) if actual is not None else None
        steps = {
            str(s["name"]): float(s["duration_s"])
            for s in raw["steps"]
            if s.get("status") == "completed" and s.get("duration_s") is not None
        }
        return steps, None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ActivationError(
            f"--measured {path}: not an activation report or failover journal "
            f"({type(err).__name__})"
        ) from None


Say = Callable[[str], None]


def _local_event(say: Say) -> Callable[[local.StepEvent], None]:
    def on_event(e: local.StepEvent) -> None:
        took = f" ({e.duration_s:.1f} s)" if e.duration_s is not None else ""
        detail = f": {e.detail}" if e.detail else ""
        say(f"    [{e.index}/{e.total}] {e.step.name} {e.kind}{took}{detail}")

    return on_event


def _execution_state(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in raw.items()}
    except (OSError, ValueError) as err:
        raise ActivationError(f"{path}: unreadable execution record ({err})") from None


RS_OUTCOMES: dict[str, Outcome] = {
    "completed": "completed",
    "awaiting-approval": "awaiting-approval",
    "declined": "declined",
}


def activate(
    target_region: str,
    mode: Mode,
    config: StepConfig,
    executors: local.Executors,
    directory: Path,
    *,
    approver: Approver,
    plan_arn: str = "",
    rs: Any = None,
    say: Say = print,
    poll_s: float = 10.0,
    timeout_s: float = 3600.0,
    sleep: Callable[[float], None] | None = None,
    new_token: Callable[[str, str, str], str] | None = None,
) -> ActivationReport:
    """Activate ``target_region``. With ``plan_arn``: start (or, after an interruption, keep
    following) the Region switch execution, then, ungraceful, run the skipped steps here. Without:
    the local runner runs every step. Both journal under ``directory`` and resume when run again."""
    directory.mkdir(parents=True, exist_ok=True)
    if not plan_arn:
        say(f"  local runner: activate {target_region} ({mode})")
        result = _run_local(target_region, mode, executors, directory, approver, say, ())
        return _finish(directory, target_region, mode, result, "local", {})
    client = rs if rs is not None else regionswitch.regionswitch_client(target_region)
    record_path = directory / f"activation-{target_region}-{mode}.execution.json"
    state = _execution_state(record_path)
    if state.get("planArn", plan_arn) != plan_arn:
        raise ActivationError(
            f"{record_path}: an execution of another plan; move it away to start anew"
        )
    execution_id = state.get("executionId", "")
    if execution_id:
        say(f"  Region switch: following execution {execution_id} (started earlier)")
    else:
        token = state.get("clientToken") or (new_token or _token)(plan_arn, target_region, mode)
        jsonio.write_json(record_path, {"planArn": plan_arn, "clientToken": token})
        execution_id = regionswitch.start_execution(
            client, plan_arn, target_region, mode, comment="reskflow-dr", client_token=token
        )
        jsonio.write_json(
            record_path, {"planArn": plan_arn, "clientToken": token, "executionId": execution_id}
        )
        say(f"  Region switch: started execution {execution_id} ({mode}) in {target_region}")
    followed = regionswitch.follow_execution(
        client,
        plan_arn,
        execution_id,
        target_region=target_region,
        mode=mode,
        approver=approver,
        on_event=lambda e: say(f"    {e.type} {e.step}: {e.description or e.error}".rstrip(": ")),
        on_step=lambda p: say(f"    step {p.name}: {p.status}"),
        poll_s=poll_s,
        timeout_s=timeout_s,
        sleep=sleep or time.sleep,
    )
    durations = dict(followed.step_durations)
    ran_by = {name: "region-switch" for name in durations}
    usable = followed.outcome == "completed" or (
        mode == "ungraceful" and followed.outcome == "completed-with-exceptions"
    )
    if not usable:
        outcome = RS_OUTCOMES.get(followed.outcome, "failed")
        message = followed.message or f"Region switch execution {execution_id}: {followed.state}"
        return _write(
            directory,
            ActivationReport(
                target_region,
                mode,
                "region-switch",
                outcome,
                message,
                durations,
                ran_by,
                followed.actual_recovery_s,
                execution_id,
            ),
        )
    left = skipped_by_region_switch(mode, config.traffic_mode)
    if not left:
        return _write(
            directory,
            ActivationReport(
                target_region,
                mode,
                "region-switch",
                "completed",
                "",
                durations,
                ran_by,
                followed.actual_recovery_s,
                execution_id,
            ),
        )
    say(f"  the tool runs what an ungraceful execution skips: {', '.join(left)}")
    result = _run_local(target_region, mode, executors, directory, approver, say, left)
    return _finish(
        directory,
        target_region,
        mode,
        result,
        "region-switch",
        durations,
        followed.actual_recovery_s,
        execution_id,
    )


def _token(plan_arn: str, target_region: str, mode: str) -> str:
    import uuid

    seed = f"{plan_arn}|{target_region}|{mode}|{uuid.uuid4()}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def _run_local(
    target_region: str,
    mode: Mode,
    executors: local.Executors,
    directory: Path,
    approver: Approver,
    say: Say,
    only: Collection[str],
) -> local.RunResult:
    journal = (
        directory / f"activation-{target_region}-{mode}{'-local' if only else ''}.journal.json"
    )
    try:
        return local.run_local(
            target_region,
            mode,
            executors,
            journal,
            approver=approver,
            on_event=_local_event(say),
            only=only,
        )
    except JournalError as err:
        raise ActivationError(str(err)) from None


def _finish(
    directory: Path,
    target_region: str,
    mode: Mode,
    result: local.RunResult,
    runner: Runner,
    durations: dict[str, float],
    actual: float | None = None,
    execution_id: str = "",
) -> ActivationReport:
    ran_by = {name: "region-switch" for name in durations}
    for name, secs in result.durations.items():
        durations[name] = secs
        ran_by[name] = "local"
    report = ActivationReport(
        target_region,
        mode,
        runner,
        result.outcome,
        result.message,
        durations,
        ran_by,
        actual,
        execution_id,
    )
    return _write(directory, report)


def _write(directory: Path, report: ActivationReport) -> ActivationReport:
    """Write the report; once an activation has completed, archive its execution record and
    journals (renamed with a UTC time stamp), so the next activation starts anew instead of
    resuming a finished one."""
    jsonio.write_json(report_path(directory, report.target_region), report.to_json())
    if report.outcome == "completed":
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        prefix = f"activation-{report.target_region}-{report.mode}"
        for path in sorted(directory.glob(f"{prefix}*.json")):
            path.rename(path.with_name(f"{path.stem}.{stamp}.done.json"))
    return report
