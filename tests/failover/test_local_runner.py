"""The local runner against fake executors (no AWS): order, groups, approvals (terminal,
environment, none -> stop, refusal -> stop, never skipped), the journal, resume after a failure
injected at each step, and a harmless re-run."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from failover_steps.workflows import MODES, Mode, Step, activation_steps
from reskflow_dr.failover.approvals import (
    APPROVER_ENV,
    NO_APPROVAL_SOURCE,
    Approval,
    ApprovalRequest,
    default_approver,
)
from reskflow_dr.failover.journal import JournalError
from reskflow_dr.failover.local import Executors, StepEvent, run_local

WEST = "us-west-2"


class FakeWorld:
    """Executors over a tiny model of the stores: each call changes what is not yet in the
    wanted state and reports it, like the real handlers."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str]] = []
        self.done: set[str] = set()
        self.fail_once: set[str] = set()

    def call(self, step: Step, target: str, mode: Mode) -> Mapping[str, Any]:
        self.calls.append((step.name, step.kind, target, mode))
        if step.name in self.fail_once:
            self.fail_once.discard(step.name)
            raise RuntimeError(f"injected failure in {step.name}")
        changed = [] if step.name in self.done else [f"changed by {step.name}"]
        self.done.add(step.name)
        return {"changed": changed}

    def executors(self) -> Executors:
        return Executors(self.call, self.call, self.call, self.call)


def approve_as(name: str) -> Any:
    return lambda request: Approval(True, name, "environment")


def run(
    world: FakeWorld, journal: Path, mode: Mode = "ungraceful", approver: Any = None
) -> tuple[Any, list[StepEvent]]:
    events: list[StepEvent] = []
    ticks = iter(range(0, 10_000, 2))
    result = run_local(
        WEST,
        mode,
        world.executors(),
        journal,
        approver=approver or approve_as("ops-lead"),
        on_event=events.append,
        clock=lambda: float(next(ticks)),
    )
    return result, events


def names(mode: Mode) -> list[str]:
    return [s.name for s in activation_steps(mode)]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (
            "graceful",
            [
                ("scale-target", "eks_scaling"),
                ("fence-peer", "lambda"),
                ("promote-postgres", "lambda"),
                ("failover-cache", "lambda"),
                ("failover-docdb", "docdb_global"),
                ("verify-writable", "lambda"),
                ("switch-traffic", "routing_control"),
            ],
        ),
        (
            "ungraceful",
            [
                ("scale-target", "eks_scaling"),
                ("promote-postgres", "lambda"),
                ("failover-cache", "lambda"),
                ("failover-docdb", "docdb_global"),
                ("verify-writable", "lambda"),
                ("switch-traffic", "routing_control"),
            ],
        ),
    ],
)
def test_steps_run_in_the_declared_order(
    tmp_path: Path, mode: Mode, expected: list[tuple[str, str]]
) -> None:
    world = FakeWorld()
    result, events = run(world, tmp_path / "j.json", mode)

    assert result.outcome == "completed"
    assert [(n, k) for n, k, _, _ in world.calls] == expected
    assert {(t, m) for _, _, t, m in world.calls} == {(WEST, mode)}
    assert [(e.kind, e.step.name) for e in events if e.kind == "start"] == [
        ("start", n) for n in names(mode)
    ]
    assert [e.step.name for e in events if e.step.group == "promote" and e.kind == "end"] == [
        "promote-postgres",
        "failover-cache",
        "failover-docdb",
    ]
    assert result.durations == {n: 2.0 for n in names(mode)}


def test_journal_records_each_step(tmp_path: Path) -> None:
    journal = tmp_path / "run" / "journal.json"
    run(FakeWorld(), journal)

    body = json.loads(journal.read_text())
    assert (body["target_region"], body["mode"], body["version"]) == (WEST, "ungraceful", 1)
    assert [(s["name"], s["status"], s["attempts"], s["duration_s"]) for s in body["steps"]] == [
        (n, "completed", 1, 2.0) for n in names("ungraceful")
    ]
    assert body["steps"][0]["result"] == {"approved_by": "ops-lead", "how": "environment"}
    assert body["steps"][1]["result"] == {"changed": ["changed by scale-target"]}
    assert all(s["started_at"] and s["ended_at"] for s in body["steps"])
    assert sorted(p.name for p in journal.parent.iterdir()) == ["journal.json"]


def test_a_journal_of_another_activation_is_refused(tmp_path: Path) -> None:
    journal = tmp_path / "j.json"
    run(FakeWorld(), journal, "ungraceful")
    with pytest.raises(JournalError) as err:
        run(FakeWorld(), journal, "graceful")
    assert str(err.value) == (
        f"{journal}: journal of another activation (target us-west-2, ungraceful); "
        "move it away to start a new one"
    )


def test_without_an_approval_source_the_run_stops_before_any_change(tmp_path: Path) -> None:
    world = FakeWorld()
    approver = default_approver(environ={}, stdin=io.StringIO(""), stdout=io.StringIO())

    result, events = run(world, tmp_path / "j.json", approver=approver)

    assert (result.outcome, result.stopped_at, result.message) == (
        "awaiting-approval",
        "approve",
        NO_APPROVAL_SOURCE,
    )
    assert world.calls == []
    assert [(e.kind, e.step.name) for e in events] == [
        ("start", "approve"),
        ("awaiting-approval", "approve"),
    ]
    assert json.loads((tmp_path / "j.json").read_text())["steps"][0]["status"] == (
        "awaiting-approval"
    )

    later, _ = run(world, tmp_path / "j.json", approver=default_approver({APPROVER_ENV: "octo"}))
    assert later.outcome == "completed"
    assert later.records[0].result == {"approved_by": "octo", "how": "environment"}
    assert later.records[0].attempts == 2


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "outcome"), [("us-west-2\n", "completed"), ("y\n", "declined")])
def test_terminal_approval_needs_the_region_name(tmp_path: Path, answer: str, outcome: str) -> None:
    world = FakeWorld()
    prompt = io.StringIO()
    approver = default_approver(environ={}, stdin=Tty(answer), stdout=prompt)

    result, _ = run(world, tmp_path / "j.json", approver=approver)

    assert result.outcome == outcome
    assert "Type us-west-2 to approve" in prompt.getvalue()
    assert len(world.calls) == (6 if outcome == "completed" else 0)
    first = result.records[0]
    if outcome == "completed":
        assert (first.status, first.result["how"]) == ("completed", "terminal")
    else:
        assert (first.status, first.error.startswith("declined at the terminal by ")) == (
            "declined",
            True,
        )


def test_the_environment_approval_wins_over_the_terminal(tmp_path: Path) -> None:
    seen: list[ApprovalRequest] = []
    base = default_approver(environ={APPROVER_ENV: "octo"}, stdin=Tty("no\n"))

    def approver(request: ApprovalRequest) -> Approval | None:
        seen.append(request)
        return base(request)

    result, _ = run(FakeWorld(), tmp_path / "j.json", approver=approver)
    assert result.outcome == "completed"
    assert seen == [
        ApprovalRequest("approve", activation_steps("ungraceful")[0].summary, WEST, "ungraceful")
    ]


STEPS_TO_FAIL = [
    (mode, s.name) for mode in MODES for s in activation_steps(mode) if s.kind != "approval"
]


@pytest.mark.parametrize(("mode", "failing"), STEPS_TO_FAIL)
def test_resume_after_a_failure_at_each_step(tmp_path: Path, mode: Mode, failing: str) -> None:
    world = FakeWorld()
    world.fail_once.add(failing)
    journal = tmp_path / "j.json"
    order = names(mode)
    before = order[1 : order.index(failing)]

    first, _ = run(world, journal, mode)

    assert (first.outcome, first.stopped_at) == ("failed", failing)
    assert first.message == f"{failing} failed: RuntimeError: injected failure in {failing}"
    assert [c[0] for c in world.calls] == [*before, failing]
    statuses = {r.name: r.status for r in first.records}
    assert statuses == {
        n: ("completed" if i < order.index(failing) else "failed" if n == failing else "pending")
        for i, n in enumerate(order)
    }

    second, events = run(world, journal, mode)

    assert second.outcome == "completed"
    assert [e.step.name for e in events if e.kind == "skip"] == order[: order.index(failing)]
    assert [c[0] for c in world.calls] == [*before, failing, *order[order.index(failing) :]]
    attempts = {r.name: r.attempts for r in second.records}
    assert attempts == {n: 2 if n == failing else 1 for n in order}


def test_a_completed_run_is_not_repeated_and_a_fresh_rerun_changes_nothing(
    tmp_path: Path,
) -> None:
    world = FakeWorld()
    run(world, tmp_path / "a.json")
    calls = len(world.calls)

    again, events = run(world, tmp_path / "a.json")
    assert again.outcome == "completed" and len(world.calls) == calls
    assert {e.kind for e in events} == {"skip"}

    fresh, _ = run(world, tmp_path / "b.json")
    assert fresh.outcome == "completed"
    assert [r.result for r in fresh.records[1:]] == [{"changed": []}] * 6
