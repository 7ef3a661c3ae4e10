"""Executing the runbook through a fake Automation API workspace (no Pulumi CLI): order, gates,
the activation step, refresh of what it changed, up with the policy pack, stopping on the first
failure, stopping (not failing) awaiting an approval, and resuming."""

from __future__ import annotations

import pytest

from reskflow_dr import drill, orchestrate
from tests.automation_fakes import FakeWorkspace

WEST = "us-west-2"
URNS = ("urn:a", "urn:b")


def gate_on(ws: FakeWorkspace, failing: set[tuple[str, str]] | None = None) -> orchestrate.Gate:
    def gate(stack: str, mode: drill.Mode, peer_lost: bool) -> tuple[bool, str]:
        ws.log.append(("gate", stack, mode, peer_lost))
        ok = (stack, mode) not in (failing or set())
        return ok, "all checks passed" if ok else "replica lag 7 min > RPO 5 min"

    return gate


def activate_with(
    ws: FakeWorkspace, outcome: str = "completed", message: str = ""
) -> orchestrate.Activate:
    def activate(t: drill.Transition, step: drill.Step) -> tuple[str, str]:
        ws.log.append(("activate", t.move.promote, drill.activation_mode(t)))
        return outcome, message

    return activate


def run(
    scenario: drill.Scenario,
    ws: FakeWorkspace,
    failing: set[tuple[str, str]] | None = None,
    activate: orchestrate.Activate | None = None,
    start: int = 1,
) -> tuple[orchestrate.Outcome, str]:
    t = drill.transition(scenario)
    refresh = {s: URNS for s in (t.move.promote, t.move.demote) if s}
    steps = drill.runbook(t, (), refresh)
    lines: list[str] = []
    outcome = orchestrate.execute(
        t, steps, ws, gate_on(ws, failing), activate or activate_with(ws), start, lines.append
    )
    return outcome, orchestrate.render_outcome(t, steps, outcome)


def test_failover_order_activates_then_configures_refreshes_and_promotes_before_demoting() -> None:
    ws = FakeWorkspace()
    outcome, text = run("failover", ws)
    assert outcome.ok and outcome.completed == list(range(1, 8))
    assert ws.actions() == [
        ("gate", "dr", "ready", False),
        ("activate", "dr", "graceful"),
        ("config", "prod", "reskflow:role", "passive"),
        ("config", "prod", "reskflow:peerRole", "active"),
        ("config", "prod", "reskflow:cachePrimaryRegion", WEST),
        ("config", "prod", "reskflow:docdbPrimaryRegion", WEST),
        ("config", "prod", "reskflow:dbGeneration", "3"),
        ("config", "prod", "reskflow:retainedDbGenerations", "[1]"),
        ("config", "prod", "reskflow:peerDbGeneration", "2"),
        ("config", "dr", "reskflow:role", "active"),
        ("config", "dr", "reskflow:peerRole", "passive"),
        ("config", "dr", "reskflow:cachePrimaryRegion", WEST),
        ("config", "dr", "reskflow:docdbPrimaryRegion", WEST),
        ("refresh", "dr", URNS),
        ("refresh", "prod", URNS),
        ("up", "dr"),
        ("gate", "dr", "promoted", False),
        ("up", "prod"),
        ("gate", "prod", "ready", False),
    ]
    assert text == "Executed steps 1-7: done."


def test_a_failed_readiness_gate_stops_before_anything_changes() -> None:
    ws = FakeWorkspace()
    outcome, text = run("failover", ws, failing={("dr", "ready")})
    assert outcome.stopped_at == 1
    assert ws.actions() == [("gate", "dr", "ready", False)]
    assert text == (
        "Stopped at step 1 (Readiness of dr: replica lag under RPO): readiness dr "
        "(ready) failed: replica lag 7 min > RPO 5 min\n"
        "Fix the cause, then resume from that step: "
        "reskflow-dr drill failover --execute --from-step 1"
    )


def test_a_failed_activation_stops_before_the_config() -> None:
    ws = FakeWorkspace()
    activate = activate_with(ws, "failed", "promote-postgres failed: StepError: boom")
    outcome, _ = run("failover", ws, activate=activate)
    assert (outcome.stopped_at, outcome.awaiting) == (2, False)
    assert outcome.reason == "activation failed: promote-postgres failed: StepError: boom"
    assert [e[0] for e in ws.actions()] == ["gate", "activate"]


def test_an_activation_awaiting_approval_stops_as_awaiting_not_failed() -> None:
    ws = FakeWorkspace()
    outcome, text = run(
        "disaster", ws, activate=activate_with(ws, "awaiting-approval", "no source")
    )
    assert (outcome.stopped_at, outcome.awaiting, outcome.ok) == (2, True, False)
    assert text == (
        "Stopped awaiting approval at step 2 ("
        + drill.runbook(drill.transition("disaster"))[1].title
        + "): no source\nApprove, then resume: reskflow-dr drill disaster --execute --from-step 2"
    )
    assert not [e for e in ws.log if e[0] in ("config", "up")]


def test_a_declined_activation_is_a_failure() -> None:
    ws = FakeWorkspace()
    outcome, _ = run(
        "failover", ws, activate=activate_with(ws, "declined", "declined at the terminal by ops")
    )
    assert (outcome.stopped_at, outcome.awaiting) == (2, False)
    assert outcome.reason == "activation declined: declined at the terminal by ops"


def test_a_failed_refresh_stops_before_up() -> None:
    ws = FakeWorkspace()
    ws.failing_refreshes.add("prod")
    outcome, _ = run("failover", ws)
    assert (outcome.stopped_at, outcome.reason) == (5, "pulumi refresh -s prod: failed")
    assert not [e for e in ws.log if e[0] == "up"]


def test_a_failed_up_stops_and_never_demotes() -> None:
    ws = FakeWorkspace()
    ws.failing_ups.add("dr")
    outcome, text = run("failover", ws)
    assert outcome.stopped_at == 6 and outcome.reason == "pulumi up -s dr: failed"
    assert ("up", "prod") not in ws.log
    assert text.endswith("reskflow-dr drill failover --execute --from-step 6")


def test_verification_after_promotion_gates_the_demotion() -> None:
    ws = FakeWorkspace()
    outcome, _ = run("failover", ws, failing={("dr", "promoted")})
    assert outcome.stopped_at == 6
    assert ws.actions()[-2:] == [("up", "dr"), ("gate", "dr", "promoted", False)]
    assert ("up", "prod") not in ws.log


def test_an_automation_api_error_stops_with_its_first_line() -> None:
    ws = FakeWorkspace()
    ws.broken_config.add(("dr", "reskflow:role"))
    outcome, _ = run("failover", ws)
    assert (outcome.stopped_at, outcome.reason) == (3, "RuntimeError: error: could not set config")
    assert ("up", "dr") not in ws.log


def test_resume_skips_the_steps_already_done() -> None:
    ws = FakeWorkspace()
    outcome, _ = run("failover", ws, start=6)
    assert outcome.ok and outcome.completed == [6, 7]
    assert ws.actions()[0] == ("up", "dr")
    assert not [e for e in ws.log if e[0] in ("config", "activate", "refresh")]


def test_disaster_touches_only_dr_gates_without_the_peer_and_leaves_the_return_for_later() -> None:
    ws = FakeWorkspace()
    outcome, _ = run("disaster", ws)
    assert outcome.ok and outcome.completed == [1, 2, 3, 4, 5]
    assert {e[1] for e in ws.log if e[0] == "select"} == {"dr"}
    assert all(e[3] is True for e in ws.log if e[0] == "gate")
    assert ("activate", "dr", "ungraceful") in ws.log
    assert [e for e in ws.log if e[0] == "refresh"] == [("refresh", "dr", URNS)]


@pytest.mark.parametrize("scenario", ["failback"])
def test_failback_promotes_prod_first(scenario: drill.Scenario) -> None:
    ws = FakeWorkspace()
    run(scenario, ws)
    assert [e[1] for e in ws.log if e[0] == "up"] == ["prod", "dr"]
    assert ("activate", "prod", "graceful") in ws.log
