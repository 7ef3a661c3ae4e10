"""Executing the runbook through a fake Automation API workspace (no Pulumi CLI): order, gates,
stopping on the first failure, and resuming."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from reskflow_dr import drill, orchestrate

Log = list[tuple[Any, ...]]


class FakeStack:
    def __init__(self, name: str, ws: FakeWorkspace) -> None:
        self.name, self.ws = name, ws

    def set_config(self, key: str, value: Any) -> None:
        if (self.name, key) in self.ws.broken_config:
            raise RuntimeError("error: could not set config\nsecond line")
        self.ws.log.append(("config", self.name, key, value.value))

    def up(
        self,
        *,
        on_output: Callable[[str], Any] | None = None,
        policy_packs: list[str] | None = None,
    ) -> Any:
        assert policy_packs == self.ws.policy_packs, "every up runs with the policy pack"
        self.ws.log.append(("up", self.name))
        if on_output:
            on_output("Updating (dr)\n")
        result = "failed" if self.name in self.ws.failing_ups else "succeeded"
        return SimpleNamespace(summary=SimpleNamespace(result=result))


class FakeWorkspace:
    def __init__(self) -> None:
        self.log: Log = []
        self.policy_packs = ["/project/policy"]
        self.failing_ups: set[str] = set()
        self.broken_config: set[tuple[str, str]] = set()

    def select(self, stack: str) -> FakeStack:
        self.log.append(("select", stack))
        return FakeStack(stack, self)

    def config_value(self, value: str) -> Any:
        return SimpleNamespace(value=value)


def gate_on(ws: FakeWorkspace, failing: set[tuple[str, str]] | None = None) -> orchestrate.Gate:
    def gate(stack: str, mode: drill.Mode, peer_lost: bool) -> tuple[bool, str]:
        ws.log.append(("gate", stack, mode, peer_lost))
        ok = (stack, mode) not in (failing or set())
        return ok, "all checks passed" if ok else "replica lag 7 min > RPO 5 min"

    return gate


def yes(_number: int, _step: drill.Step) -> bool:
    return True


def run(
    scenario: drill.Scenario,
    ws: FakeWorkspace,
    failing: set[tuple[str, str]] | None = None,
    confirm: orchestrate.Confirm = yes,
    start: int = 1,
) -> tuple[orchestrate.Outcome, str]:
    t = drill.transition(scenario)
    steps = drill.runbook(t)
    lines: list[str] = []
    outcome = orchestrate.execute(t, steps, ws, gate_on(ws, failing), confirm, start, lines.append)
    return outcome, orchestrate.render_outcome(t, steps, outcome)


def actions(ws: FakeWorkspace) -> Log:
    return [e for e in ws.log if e[0] != "select"]


WEST = ("us-west-2", "us-west-2")


def test_failover_order_promotes_dr_before_demoting_prod() -> None:
    ws = FakeWorkspace()
    outcome, text = run("failover", ws)
    assert outcome.ok and outcome.completed == list(range(1, 12))
    assert actions(ws) == [
        ("gate", "dr", "ready", False),
        ("gate", "dr", "ready", False),
        # step 5 (global primaries) is manual: confirmed, nothing executed
        ("config", "prod", "reskflow:role", "passive"),
        ("config", "prod", "reskflow:peerRole", "active"),
        ("config", "prod", "reskflow:cachePrimaryRegion", WEST[0]),
        ("config", "prod", "reskflow:docdbPrimaryRegion", WEST[1]),
        ("config", "prod", "reskflow:dbGeneration", "3"),
        ("config", "prod", "reskflow:retainedDbGenerations", "[1]"),
        ("config", "prod", "reskflow:peerDbGeneration", "2"),
        ("config", "dr", "reskflow:role", "active"),
        ("config", "dr", "reskflow:peerRole", "passive"),
        ("config", "dr", "reskflow:cachePrimaryRegion", WEST[0]),
        ("config", "dr", "reskflow:docdbPrimaryRegion", WEST[1]),
        ("up", "dr"),
        ("gate", "dr", "promoted", False),
        ("up", "prod"),
        ("gate", "prod", "ready", False),
    ]
    assert text == "Executed steps 1-11: done."


def test_a_failed_readiness_gate_stops_before_anything_changes() -> None:
    ws = FakeWorkspace()
    outcome, text = run("failover", ws, failing={("dr", "ready")})
    assert outcome.stopped_at == 2
    assert actions(ws) == [("gate", "dr", "ready", False)]
    assert text == (
        "Stopped at step 2 (Readiness of dr: replica lag under RPO, data synced): readiness dr "
        "(ready) failed: replica lag 7 min > RPO 5 min\n"
        "Fix the cause, then resume from that step: "
        "reskflow-dr drill failover --execute --from-step 2"
    )


def test_a_failed_up_stops_and_never_demotes() -> None:
    ws = FakeWorkspace()
    ws.failing_ups.add("dr")
    outcome, text = run("failover", ws)
    assert outcome.stopped_at == 7 and outcome.reason == "pulumi up -s dr: failed"
    assert ("up", "prod") not in ws.log
    assert text.endswith("reskflow-dr drill failover --execute --from-step 7")


def test_verification_after_promotion_gates_the_demotion() -> None:
    ws = FakeWorkspace()
    outcome, _ = run("failover", ws, failing={("dr", "promoted")})
    assert outcome.stopped_at == 7
    assert actions(ws)[-2:] == [("up", "dr"), ("gate", "dr", "promoted", False)]
    assert ("up", "prod") not in ws.log


def test_an_unconfirmed_manual_step_stops_the_run() -> None:
    ws = FakeWorkspace()

    def only_first(number: int, _step: drill.Step) -> bool:
        return number == 1

    outcome, _ = run("failover", ws, confirm=only_first)
    assert (outcome.stopped_at, outcome.reason) == (3, "manual step not confirmed as done")
    assert [e[0] for e in actions(ws)] == ["gate"]


def test_an_automation_api_error_stops_with_its_first_line() -> None:
    ws = FakeWorkspace()
    ws.broken_config.add(("dr", "reskflow:role"))
    outcome, _ = run("failover", ws)
    assert (outcome.stopped_at, outcome.reason) == (6, "RuntimeError: error: could not set config")
    assert ("up", "dr") not in ws.log


def test_resume_skips_the_steps_already_done() -> None:
    ws = FakeWorkspace()
    outcome, _ = run("failover", ws, start=7)
    assert outcome.ok and outcome.completed == list(range(7, 12))
    assert actions(ws)[0] == ("up", "dr")
    assert not [e for e in ws.log if e[0] == "config"]


def test_disaster_touches_only_dr_and_gates_without_the_peer() -> None:
    ws = FakeWorkspace()
    outcome, _ = run("disaster", ws)
    assert outcome.ok
    assert {e[1] for e in ws.log if e[0] == "select"} == {"dr"}
    assert all(e[3] is True for e in ws.log if e[0] == "gate")


@pytest.mark.parametrize("scenario", ["failback"])
def test_failback_promotes_prod_first(scenario: drill.Scenario) -> None:
    ws = FakeWorkspace()
    run(scenario, ws)
    assert [e[1] for e in ws.log if e[0] == "up"] == ["prod", "dr"]
