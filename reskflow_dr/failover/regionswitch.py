"""Start and follow an ARC Region switch execution.

The client is created in the region being activated: Region switch "is built on a Regional data
plane architecture, where Region switch plans are executed from the Region being activated"
(AWS announcement of Region switch). AWS lists the execution operations (start, get, events,
approve, cancel) as data-plane APIs and plan management (CreatePlan, GetPlan, UpdatePlan) as not
(https://docs.aws.amazon.com/r53recovery/latest/dg/actions.region-switch.html); botocore's
endpoint rules agree: only plan management goes to the partition's control-plane endpoint. This
module calls regional data-plane operations only.

Following is bounded (``timeout_s``) and polls every ``poll_s``. Approvals come from the same
:class:`~reskflow_dr.failover.approvals.Approver` as the local runner: none -> the follower stops
with ``awaiting-approval`` and the execution keeps waiting in AWS (approve it later, in the
console or by following again); a refusal is sent to Region switch as ``decline``.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from failover_steps.aws import client
from failover_steps.workflows import Mode
from reskflow_dr.failover.approvals import NO_APPROVAL_SOURCE, ApprovalRequest, Approver

Outcome = Literal[
    "completed",
    "completed-with-exceptions",
    "failed",
    "paused",
    "awaiting-approval",
    "declined",
    "timed-out",
]

#: Region switch execution states at which following stops, and what they mean here.
FINAL_STATES: dict[str, Outcome] = {
    "completed": "completed",
    "completedMonitoringApplicationHealth": "completed",
    "completedWithExceptions": "completed-with-exceptions",
    "failed": "failed",
    "canceled": "failed",
    "planExecutionTimedOut": "failed",
    "pausedByFailedStep": "paused",
    "pausedByOperator": "paused",
}


@dataclass(frozen=True)
class ExecutionEvent:
    event_id: str
    timestamp: dt.datetime | None
    type: str
    step: str
    description: str
    error: str


@dataclass(frozen=True)
class StepProgress:
    name: str
    status: str
    duration_s: float | None


@dataclass(frozen=True)
class ExecutionReport:
    outcome: Outcome
    execution_id: str
    state: str
    steps: tuple[StepProgress, ...]
    events: tuple[ExecutionEvent, ...]
    actual_recovery_s: float | None = None
    """Region switch's own measure of the execution's recovery time."""
    message: str = ""
    approvals: tuple[str, ...] = field(default=())

    @property
    def step_durations(self) -> dict[str, float]:
        """Measured seconds of each finished step, from the execution record (for the budget)."""
        return {s.name: s.duration_s for s in self.steps if s.duration_s is not None}


def regionswitch_client(target_region: str) -> Any:
    """An ``arc-region-switch`` client in the region being activated."""
    return client("arc-region-switch", target_region)


def start_execution(
    rs: Any,
    plan_arn: str,
    target_region: str,
    mode: Mode,
    *,
    comment: str = "",
    client_token: str = "",
) -> str:
    """StartPlanExecution (``activate``); returns the execution id. A ``client_token`` makes a
    retried start return the first execution instead of starting a second one."""
    extra = {"clientToken": client_token} if client_token else {}
    started = rs.start_plan_execution(
        planArn=plan_arn,
        targetRegion=target_region,
        action="activate",
        mode=mode,
        comment=comment,
        **extra,
    )
    return str(started["executionId"])


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def iso_duration_s(text: str) -> float | None:
    """``PT12M30S`` -> 750.0 (days, hours, minutes, seconds; None when not of that form)."""
    found = _DURATION.match(text or "")
    if not found or text in ("P", "PT"):
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in found.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def _pages(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> Iterator[Any]:
    token = ""
    while True:
        page = call(**kwargs, **({"nextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("nextToken", "")
        if not token:
            return


def _execution(rs: Any, plan_arn: str, execution_id: str) -> tuple[dict[str, Any], list[Any]]:
    first: dict[str, Any] = {}
    steps: list[Any] = []

    def call(**kwargs: Any) -> dict[str, Any]:
        page: dict[str, Any] = rs.get_plan_execution(**kwargs)
        if not first:
            first.update(page)
        return page

    steps = list(_pages(call, "stepStates", planArn=plan_arn, executionId=execution_id))
    return first, steps


def _progress(raw: dict[str, Any]) -> StepProgress:
    start, end = raw.get("startTime"), raw.get("endTime")
    took = (end - start).total_seconds() if start and end else None
    return StepProgress(str(raw.get("name", "")), str(raw.get("status", "")), took)


def follow_execution(
    rs: Any,
    plan_arn: str,
    execution_id: str,
    *,
    target_region: str,
    mode: Mode,
    approver: Approver,
    on_event: Callable[[ExecutionEvent], None] | None = None,
    on_step: Callable[[StepProgress], None] | None = None,
    poll_s: float = 10.0,
    timeout_s: float = 3600.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ExecutionReport:
    """Poll the execution until it ends, pauses, needs an approval no source can give, or
    ``timeout_s`` passes; report each new event once, in time order, through ``on_event``, and
    each step whose status changed since the last poll through ``on_step``."""
    emit = on_event or (lambda _event: None)
    step_changed = on_step or (lambda _step: None)
    statuses: dict[str, str] = {}
    seen: dict[str, ExecutionEvent] = {}
    approved: list[str] = []
    deadline = clock() + timeout_s

    def report(
        outcome: Outcome, state: str, steps: list[Any], record: dict[str, Any], msg: str
    ) -> ExecutionReport:
        return ExecutionReport(
            outcome,
            execution_id,
            state,
            tuple(_progress(s) for s in steps),
            tuple(seen.values()),
            iso_duration_s(str(record.get("actualRecoveryTime", ""))),
            msg,
            tuple(approved),
        )

    while True:
        record, steps = _execution(rs, plan_arn, execution_id)
        fresh = [
            ExecutionEvent(
                str(e["eventId"]),
                e.get("timestamp"),
                str(e.get("type", "")),
                str(e.get("stepName", "")),
                str(e.get("description", "")),
                str(e.get("error", "")),
            )
            for e in _pages(
                rs.list_plan_execution_events, "items", planArn=plan_arn, executionId=execution_id
            )
            if e["eventId"] not in seen
        ]
        for event in sorted(fresh, key=lambda e: (e.timestamp is None, e.timestamp or 0)):
            seen[event.event_id] = event
            emit(event)
        for progress in (_progress(raw) for raw in steps):
            if statuses.get(progress.name) != progress.status:
                statuses[progress.name] = progress.status
                step_changed(progress)
        state = str(record.get("executionState", ""))
        if state in FINAL_STATES:
            return report(FINAL_STATES[state], state, steps, record, "")
        for step in steps:
            name = str(step.get("name", ""))
            if step.get("status") != "pendingApproval" or name in approved:
                continue
            request = ApprovalRequest(
                name, f"Region switch step {name} awaits approval", target_region, mode
            )
            approval = approver(request)
            if approval is None:
                return report("awaiting-approval", state, steps, record, NO_APPROVAL_SOURCE)
            rs.approve_plan_execution_step(
                planArn=plan_arn,
                executionId=execution_id,
                stepName=name,
                approval="approve" if approval.approved else "decline",
                comment=f"{'approved' if approval.approved else 'declined'} by {approval.by} "
                f"({approval.how}) through reskflow-dr",
            )
            if not approval.approved:
                msg = f"declined at the {approval.how} by {approval.by}"
                return report("declined", state, steps, record, msg)
            approved.append(name)
        left = deadline - clock()
        if left <= 0:
            msg = f"execution {execution_id} still {state} after {timeout_s:.0f} s"
            return report("timed-out", state, steps, record, msg)
        sleep(min(poll_s, left))
