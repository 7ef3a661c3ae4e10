"""The local runner: the activation steps of :func:`failover_steps.workflows.activation_steps`,
in their order, through the same handlers Region switch invokes as Lambda functions, for regions,
partitions or accounts without Region switch.

- Steps of one ``group`` (a Region switch parallel block) run one after the other here, in their
  declared order; Region switch runs them in parallel. Either order is safe: every step of a group
  acts on a different store.
- A JSON journal records each step's start, end, duration, result or error (atomic rewrites). A
  run given an existing journal resumes: completed steps are skipped, the failed or interrupted
  step runs again. Running a completed step again is harmless: every step looks before it acts.
- An approval step asks the :class:`~reskflow_dr.failover.approvals.Approver`; it is never
  skipped. No source -> the run stops with ``awaiting-approval``; a refusal -> ``declined``.
- ``eks_scaling`` and the traffic switch are callables the caller supplies (kubectl or Pulumi
  for the workloads), as are, in tests, all the others (:class:`Executors`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from failover_steps import actions
from failover_steps.aws import StepError
from failover_steps.contract import StepConfig
from failover_steps.promote import failover_docdb
from failover_steps.workflows import Mode, Step, activation_steps
from reskflow_dr.failover.approvals import NO_APPROVAL_SOURCE, ApprovalRequest, Approver
from reskflow_dr.failover.journal import Journal, StepRecord

Outcome = Literal["completed", "failed", "awaiting-approval", "declined"]
EventKind = Literal["start", "end", "skip", "fail", "awaiting-approval", "declined"]

#: (step, target region, mode) -> a JSON-able result; raises on failure.
StepCall = Callable[[Step, str, Mode], Mapping[str, Any]]


@dataclass(frozen=True)
class Executors:
    """What runs each kind of step. ``lambda_action`` serves every ``lambda`` step."""

    lambda_action: StepCall
    docdb_global: StepCall
    eks_scaling: StepCall
    routing_control: StepCall

    def for_kind(self, kind: str) -> StepCall:
        calls: dict[str, StepCall] = {
            "lambda": self.lambda_action,
            "docdb_global": self.docdb_global,
            "eks_scaling": self.eks_scaling,
            "routing_control": self.routing_control,
        }
        return calls[kind]


def aws_executors(config: StepConfig, eks_scaling: StepCall) -> Executors:
    """The real handlers for ``config``; ``eks_scaling`` comes from the caller. Each promotion
    waits, bounded by its step's timeout, until AWS shows the change, so verification follows a
    finished change."""

    def lambda_action(step: Step, target: str, mode: Mode) -> Mapping[str, Any]:
        wait_s = step.timeout_minutes * 60.0
        return actions.run_action(step.action, config, target, mode, wait_s=wait_s).to_dict()

    def docdb_global(step: Step, target: str, mode: Mode) -> Mapping[str, Any]:
        wait_s = step.timeout_minutes * 60.0
        return failover_docdb(config, target, mode, wait_s=wait_s).to_dict()

    def routing_control(step: Step, target: str, mode: Mode) -> Mapping[str, Any]:
        result = actions.switch_traffic(config, target, mode)
        if not result.ok:
            failed = "; ".join(f"{c.name}: {c.detail}" for c in result.checks if not c.ok)
            raise StepError(f"traffic switch to {target} not confirmed: {failed}")
        return result.to_dict()

    return Executors(lambda_action, docdb_global, eks_scaling, routing_control)


@dataclass(frozen=True)
class StepEvent:
    kind: EventKind
    step: Step
    index: int
    """1-based position in the activation."""
    total: int
    detail: str = ""
    duration_s: float | None = None


@dataclass(frozen=True)
class RunResult:
    outcome: Outcome
    journal: Path
    records: tuple[StepRecord, ...]
    stopped_at: str = ""
    """The step that failed or waits for approval ("" when completed)."""
    message: str = ""

    @property
    def durations(self) -> dict[str, float]:
        """Measured seconds of each completed step (for the RTO budget)."""
        return {
            r.name: r.duration_s
            for r in self.records
            if r.status == "completed" and r.duration_s is not None
        }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def run_local(
    target_region: str,
    mode: Mode,
    executors: Executors,
    journal_path: Path,
    *,
    approver: Approver,
    on_event: Callable[[StepEvent], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    only: Collection[str] = (),
) -> RunResult:
    """Activate ``target_region`` (``mode``) step by step, journaled in ``journal_path``.
    ``only``: run just these steps of the activation, in its order (after an ungraceful Region
    switch execution, the steps it does not run)."""
    steps = tuple(s for s in activation_steps(mode) if not only or s.name in only)
    journal = Journal.open(journal_path, target_region, mode, [s.name for s in steps])
    emit = on_event or (lambda _event: None)

    def stop(outcome: Outcome, step: Step, message: str) -> RunResult:
        return RunResult(outcome, journal_path, tuple(journal.steps.values()), step.name, message)

    for index, step in enumerate(steps, start=1):
        record = journal.steps[step.name]
        if record.status == "completed":
            emit(StepEvent("skip", step, index, len(steps), "completed in an earlier run"))
            continue
        record.status, record.started_at, record.ended_at = "running", _now(), ""
        record.attempts += 1
        record.error = ""
        journal.save()
        emit(StepEvent("start", step, index, len(steps), step.summary))
        began = clock()
        if step.kind == "approval":
            approval = approver(ApprovalRequest(step.name, step.summary, target_region, mode))
            if approval is None:
                record.status, record.error = "awaiting-approval", NO_APPROVAL_SOURCE
                journal.save()
                emit(StepEvent("awaiting-approval", step, index, len(steps), NO_APPROVAL_SOURCE))
                return stop("awaiting-approval", step, NO_APPROVAL_SOURCE)
            if not approval.approved:
                message = f"declined at the {approval.how} by {approval.by}"
                record.status, record.error = "declined", message
                journal.save()
                emit(StepEvent("declined", step, index, len(steps), message))
                return stop("declined", step, message)
            result: Mapping[str, Any] = {"approved_by": approval.by, "how": approval.how}
        else:
            try:
                result = executors.for_kind(step.kind)(step, target_region, mode)
            except Exception as err:  # noqa: BLE001 - any step failure is journaled and stops the run
                record.status, record.ended_at = "failed", _now()
                record.duration_s = round(clock() - began, 3)
                record.error = f"{type(err).__name__}: {err}"
                journal.save()
                emit(StepEvent("fail", step, index, len(steps), record.error, record.duration_s))
                return stop("failed", step, f"{step.name} failed: {record.error}")
        record.status, record.ended_at = "completed", _now()
        record.duration_s = round(clock() - began, 3)
        record.result = dict(result)
        journal.save()
        emit(StepEvent("end", step, index, len(steps), "", record.duration_s))
    return RunResult("completed", journal_path, tuple(journal.steps.values()))
