"""Starting and following a Region switch execution against a botocore Stubber of the
``arc-region-switch`` client (moto does not implement Region switch): start, events reported once
and in order, approvals (environment, none, refusal), completion with measured durations,
failure, timeout, pagination."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from failover_steps.aws import client_config
from reskflow_dr.failover.approvals import (
    APPROVER_ENV,
    NO_APPROVAL_SOURCE,
    Approval,
    environment_approver,
)
from reskflow_dr.failover.regionswitch import (
    ExecutionEvent,
    StepProgress,
    follow_execution,
    iso_duration_s,
    regionswitch_client,
    start_execution,
)

WEST = "us-west-2"
PLAN = "arn:aws:arc-region-switch::123456789012:plan/reskflow-dr:abc123"
EXECUTION = "us-west-2/0123456789abcdef"
IDS = {"planArn": PLAN, "executionId": EXECUTION}
T0 = dt.datetime(2026, 12, 4, 17, 0, 0, tzinfo=dt.UTC)


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.fixture
def rs() -> Any:
    return boto3.session.Session().client(
        "arc-region-switch", region_name=WEST, config=client_config()
    )


def execution(state: str, steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        **IDS,
        "startTime": T0,
        "mode": "ungraceful",
        "executionState": state,
        "executionAction": "activate",
        "executionRegion": WEST,
        "stepStates": steps,
        **extra,
    }


def event(n: int, kind: str, step: str = "", **extra: Any) -> dict[str, Any]:
    return {"eventId": f"e{n}", "timestamp": at(n), "type": kind, "stepName": step, **extra}


def poll(stub: Stubber, state: str, steps: list[dict[str, Any]], events: list[Any], **extra: Any):  # type: ignore[no-untyped-def]
    stub.add_response("get_plan_execution", execution(state, steps, **extra), IDS)
    stub.add_response("list_plan_execution_events", {"items": events}, IDS)


class Sleeper:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def follow(rs: Any, approver: Any, sleeper: Sleeper, events: list[ExecutionEvent], **kw: Any):  # type: ignore[no-untyped-def]
    return follow_execution(
        rs,
        PLAN,
        EXECUTION,
        target_region=WEST,
        mode="ungraceful",
        approver=approver,
        on_event=events.append,
        sleep=sleeper.sleep,
        clock=sleeper.clock,
        **kw,
    )


def test_start_activates_the_target_with_a_client_token(rs: Any) -> None:
    with Stubber(rs) as stub:
        stub.add_response(
            "start_plan_execution",
            {"executionId": EXECUTION, "plan": PLAN, "activateRegion": WEST},
            {
                "planArn": PLAN,
                "targetRegion": WEST,
                "action": "activate",
                "mode": "ungraceful",
                "comment": "us-east-1 lost",
                "clientToken": "drill-42",
            },
        )
        found = start_execution(
            rs, PLAN, WEST, "ungraceful", comment="us-east-1 lost", client_token="drill-42"
        )
    assert found == EXECUTION


def test_the_client_is_regional_in_the_activated_region() -> None:
    rs = regionswitch_client(WEST)
    assert (rs.meta.region_name, rs.meta.endpoint_url) == (
        WEST,
        "https://arc-region-switch.us-west-2.amazonaws.com",
    )


def test_follow_approves_reports_events_once_and_measures_steps(rs: Any) -> None:
    sleeper = Sleeper()
    seen: list[ExecutionEvent] = []
    changes: list[tuple[str, str]] = []
    first = [event(1, "executionStarted"), event(2, "stepPendingApproval", "approve")]
    second = [*first, event(3, "stepSucceeded", "approve"), event(4, "stepStarted", "promote")]
    third = [*second, event(5, "stepSucceeded", "promote"), event(6, "executionSucceeded")]
    with Stubber(rs) as stub:
        poll(
            stub, "pendingManualApproval", [{"name": "approve", "status": "pendingApproval"}], first
        )
        stub.add_response(
            "approve_plan_execution_step",
            {},
            {
                **IDS,
                "stepName": "approve",
                "approval": "approve",
                "comment": "approved by octo (environment) through reskflow-dr",
            },
        )
        poll(
            stub,
            "inProgress",
            [
                {"name": "approve", "status": "completed", "startTime": at(1), "endTime": at(3)},
                {"name": "promote", "status": "running", "startTime": at(4)},
            ],
            second,
        )
        poll(
            stub,
            "completed",
            [
                {"name": "approve", "status": "completed", "startTime": at(1), "endTime": at(3)},
                {"name": "promote", "status": "completed", "startTime": at(4), "endTime": at(424)},
            ],
            third,
            actualRecoveryTime="PT9M30S",
        )
        report = follow(
            rs,
            environment_approver({APPROVER_ENV: "octo"}),
            sleeper,
            seen,
            on_step=lambda step: changes.append((step.name, step.status)),
        )

    assert report.outcome == "completed"
    assert [(e.event_id, e.type, e.step) for e in seen] == [
        ("e1", "executionStarted", ""),
        ("e2", "stepPendingApproval", "approve"),
        ("e3", "stepSucceeded", "approve"),
        ("e4", "stepStarted", "promote"),
        ("e5", "stepSucceeded", "promote"),
        ("e6", "executionSucceeded", ""),
    ]
    assert report.step_durations == {"approve": 2.0, "promote": 420.0}
    assert report.actual_recovery_s == 570.0
    assert report.approvals == ("approve",)
    assert sleeper.slept == [10.0, 10.0]
    assert changes == [
        ("approve", "pendingApproval"),
        ("approve", "completed"),
        ("promote", "running"),
        ("promote", "completed"),
    ]


def test_without_an_approval_source_following_stops_and_nothing_is_approved(rs: Any) -> None:
    with Stubber(rs) as stub:
        poll(stub, "pendingManualApproval", [{"name": "approve", "status": "pendingApproval"}], [])
        report = follow(rs, environment_approver({}), Sleeper(), [])
        stub.assert_no_pending_responses()
    assert (report.outcome, report.message, report.approvals) == (
        "awaiting-approval",
        NO_APPROVAL_SOURCE,
        (),
    )


def test_a_refusal_is_sent_as_decline(rs: Any) -> None:
    with Stubber(rs) as stub:
        poll(stub, "pendingManualApproval", [{"name": "approve", "status": "pendingApproval"}], [])
        stub.add_response(
            "approve_plan_execution_step",
            {},
            {
                **IDS,
                "stepName": "approve",
                "approval": "decline",
                "comment": "declined by ana (terminal) through reskflow-dr",
            },
        )
        report = follow(rs, lambda request: Approval(False, "ana", "terminal"), Sleeper(), [])
    assert (report.outcome, report.message) == ("declined", "declined at the terminal by ana")


def test_a_failed_execution_reports_the_failing_step(rs: Any) -> None:
    seen: list[ExecutionEvent] = []
    with Stubber(rs) as stub:
        poll(
            stub,
            "failed",
            [{"name": "verify-writable", "status": "failed", "startTime": at(1), "endTime": at(7)}],
            [event(1, "stepFailed", "verify-writable", error="docdb-writer: writer is us-east-1")],
        )
        report = follow(rs, environment_approver({}), Sleeper(), seen)
    assert report.outcome == "failed"
    assert report.steps == (StepProgress("verify-writable", "failed", 6.0),)
    assert [(e.step, e.error) for e in seen] == [
        ("verify-writable", "docdb-writer: writer is us-east-1")
    ]


def test_following_is_bounded(rs: Any) -> None:
    sleeper = Sleeper()
    with Stubber(rs) as stub:
        for _ in range(4):
            poll(stub, "inProgress", [{"name": "promote", "status": "running"}], [])
        report = follow(rs, environment_approver({}), sleeper, [], timeout_s=25)
    assert (report.outcome, report.message) == (
        "timed-out",
        f"execution {EXECUTION} still inProgress after 25 s",
    )
    assert sleeper.slept == [10.0, 10.0, 5.0]


def test_step_states_and_events_are_read_across_pages(rs: Any) -> None:
    with Stubber(rs) as stub:
        page1 = execution("completed", [{"name": "a", "status": "completed"}], nextToken="p2")
        stub.add_response("get_plan_execution", page1, IDS)
        page2 = execution("completed", [{"name": "b", "status": "completed"}])
        stub.add_response("get_plan_execution", page2, {**IDS, "nextToken": "p2"})
        stub.add_response(
            "list_plan_execution_events", {"items": [event(1, "x")], "nextToken": "q2"}, IDS
        )
        stub.add_response(
            "list_plan_execution_events", {"items": [event(2, "y")]}, {**IDS, "nextToken": "q2"}
        )
        seen: list[ExecutionEvent] = []
        report = follow(rs, environment_approver({}), Sleeper(), seen)
    assert [s.name for s in report.steps] == ["a", "b"]
    assert [e.event_id for e in seen] == ["e1", "e2"]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT9M30S", 570.0),
        ("PT1H", 3600.0),
        ("P1DT2S", 86402.0),
        ("PT0.5S", 0.5),
        ("", None),
        ("PT", None),
        ("9m", None),
    ],
)
def test_iso_durations(text: str, seconds: float | None) -> None:
    assert iso_duration_s(text) == seconds
