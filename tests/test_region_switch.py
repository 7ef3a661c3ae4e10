"""The Region switch plan's workflows built from the activation runbook, for both traffic modes and
both target regions (blocks, order, regions, approvals, Lambda actions and their ARNs, parallel
groups, ungraceful behaviour), and who runs each step in a graceful and an ungraceful execution
(the data the offline drill shows)."""

from __future__ import annotations

from typing import Any

import pytest

from components.region_switch_steps import (
    PlanContext,
    function_arn,
    plan_steps,
    render_workflows,
    workflow_args,
    workflow_problems,
)
from failover_steps.contract import TrafficMode
from failover_steps.workflows import activation_steps
from tests.component_plan import ACCOUNT
from tests.region_switch_expected import EAST, REGIONS, WEST, context, expected_workflow


@pytest.mark.parametrize("mode", ["arc", "signal"])
@pytest.mark.parametrize("target", REGIONS)
def test_workflow_of_each_target_region(target: str, mode: TrafficMode) -> None:
    assert workflow_args(target, context(mode)) == expected_workflow(target, mode)


def test_arc_workflow_needs_the_routing_controls() -> None:
    ctx = context("signal")
    arc = PlanContext(**{**ctx.__dict__, "traffic_mode": "arc"})
    with pytest.raises(ValueError, match="routing control ARNs"):
        workflow_args(WEST, arc)


def test_plan_steps_are_the_graceful_runbook_and_the_ungraceful_one_is_a_subsequence() -> None:
    graceful = [s.name for s in activation_steps("graceful")]
    assert [s.name for s in plan_steps("arc")] == graceful
    assert [s.name for s in plan_steps("signal")] == graceful
    ungraceful = [s.name for s in activation_steps("ungraceful")]
    assert [n for n in graceful if n in ungraceful] == ungraceful
    assert set(graceful) - set(ungraceful) == {"fence-peer"}


RS, LOCAL, SKIPPED = "region-switch", "local", "skipped"
#: step -> (kind, block, group, acts on target?, action, timeout, graceful, ungraceful)
ROWS: dict[str, tuple[str, str, str, bool, str, int, str, str]] = {
    "approve": ("approval", "ManualApproval", "", True, "", 60, RS, RS),
    "scale-target": ("eks_scaling", "EKSResourceScaling", "", True, "", 30, RS, RS),
    "fence-peer": ("lambda", "CustomActionLambda", "", False, "fence_region", 10, RS, SKIPPED),
    "promote-postgres": (
        "lambda",
        "CustomActionLambda",
        "promote",
        True,
        "promote_postgres",
        45,
        RS,
        LOCAL,
    ),
    "failover-cache": (
        "lambda",
        "CustomActionLambda",
        "promote",
        True,
        "failover_cache",
        30,
        RS,
        LOCAL,
    ),
    "failover-docdb": ("docdb_global", "DocumentDb", "promote", True, "", 30, RS, RS),
    "verify-writable": (
        "lambda",
        "CustomActionLambda",
        "",
        True,
        "verify_writable",
        10,
        RS,
        LOCAL,
    ),
}
TRAFFIC = {
    "arc": ("routing_control", "ARCRoutingControl", "", True, "", 10, RS, LOCAL),
    "signal": ("lambda", "CustomActionLambda", "", True, "set_traffic_signal", 10, RS, LOCAL),
}


@pytest.mark.parametrize("mode", ["arc", "signal"])
def test_rendered_workflows_for_the_offline_drill(mode: TrafficMode) -> None:
    expected = []
    for target in REGIONS:
        peer = WEST if target == EAST else EAST
        for step, row in [*ROWS.items(), ("switch-traffic", TRAFFIC[mode])]:
            kind, block, group, on_target, action, timeout, graceful, ungraceful = row
            expected.append(
                {
                    "target": target,
                    "step": step,
                    "kind": kind,
                    "block": block,
                    "group": group,
                    "acts_on": target if on_target else peer,
                    "action": action,
                    "lambdas": [function_arn(r, ACCOUNT, action) for r in REGIONS]
                    if kind == "lambda"
                    else [],
                    "handler": f"failover_steps.lambda_entry.{action}" if action else "",
                    "timeout_minutes": timeout,
                    "graceful": graceful,
                    "ungraceful": ungraceful,
                }
            )
    assert render_workflows(REGIONS, ACCOUNT, mode) == expected


def test_local_steps_of_an_ungraceful_execution_keep_the_runbook_order() -> None:
    """What Region switch does not run in a disaster, the tool runs afterwards, in order."""
    rows = [r for r in render_workflows(REGIONS, ACCOUNT, "arc") if r["target"] == WEST]
    assert [r["step"] for r in rows if r["ungraceful"] == RS] == [
        "approve",
        "scale-target",
        "failover-docdb",
    ]
    assert [r["step"] for r in rows if r["ungraceful"] == LOCAL] == [
        "promote-postgres",
        "failover-cache",
        "verify-writable",
        "switch-traffic",
    ]


# The plan component under the mocks ----------------------------------------------------------


@pytest.mark.parametrize("mode", ["arc", "signal"])
def test_declared_workflows_have_no_problems(mode: TrafficMode) -> None:
    assert workflow_problems(render_workflows(REGIONS, ACCOUNT, mode), REGIONS) == []


def _rows() -> list[dict[str, Any]]:
    return render_workflows(REGIONS, ACCOUNT, "arc")


def _without(rows: list[dict[str, Any]], target: str, step: str) -> list[dict[str, Any]]:
    return [r for r in rows if (r["target"], r["step"]) != (target, step)]


def _moved_last(rows: list[dict[str, Any]], target: str, step: str) -> list[dict[str, Any]]:
    moved = [r for r in rows if (r["target"], r["step"]) == (target, step)]
    return _without(rows, target, step) + moved


def _edited(rows: list[dict[str, Any]], target: str, step: str, **kw: Any) -> list[dict[str, Any]]:
    return [{**r, **kw} if (r["target"], r["step"]) == (target, step) else r for r in rows]


UNSAFE = [
    ([r for r in _rows() if r["target"] == EAST], [f"{WEST}: no activate workflow"]),
    (
        _moved_last(_rows(), WEST, "verify-writable"),
        [f"{WEST}: the last step is verify-writable, not the traffic switch"],
    ),
    (
        _without(_rows(), EAST, "fence-peer"),
        [f"{EAST}: a graceful execution promotes before fencing the peer"],
    ),
    (
        _moved_last(_moved_last(_rows(), WEST, "fence-peer"), WEST, "switch-traffic"),
        [f"{WEST}: a graceful execution promotes before fencing the peer"],
    ),
    (
        _edited(_rows(), WEST, "fence-peer", acts_on=WEST),
        [f"{WEST}: fence-peer acts on {WEST}, not {EAST}"],
    ),
    (
        _edited(_rows(), EAST, "promote-postgres", acts_on=WEST),
        [f"{EAST}: promote-postgres acts on {WEST}, not {EAST}"],
    ),
    (
        _edited(_rows(), WEST, "failover-cache", lambdas=[function_arn(WEST, ACCOUNT, "x")]),
        [f"{WEST}: failover-cache lacks a function in every region"],
    ),
]


@pytest.mark.parametrize(("rows", "problems"), UNSAFE)
def test_unsafe_workflows_are_named(rows: list[dict[str, Any]], problems: list[str]) -> None:
    assert workflow_problems(rows, REGIONS) == problems
