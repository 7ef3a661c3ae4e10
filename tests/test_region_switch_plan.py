"""The Region switch plan component under the Pulumi mocks: the plan resource with both workflows,
for both traffic modes, and its execution role's trust and exact permissions."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.region_switch import RegionSwitchPlan, RegionSwitchPlanArgs
from failover_steps.contract import TrafficMode
from reskflow_dr.engine import Plan
from tests.component_plan import ACCOUNT, of_type, provider, run_components
from tests.region_switch_expected import (
    CLUSTER,
    CONTROLS,
    EAST,
    PANEL,
    REGIONS,
    WEST,
    context,
    expected_workflow,
    fn,
)


def camel(value: Any) -> Any:
    """Provider input names as the engine records them."""
    if isinstance(value, dict):
        return {
            k.split("_")[0] + "".join(p.title() for p in k.split("_")[1:]): camel(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def plan_of(mode: TrafficMode) -> Plan:
    def build() -> None:
        RegionSwitchPlan(
            "region-switch",
            RegionSwitchPlanArgs(
                context=context(mode),
                cluster_arn=CLUSTER if mode == "arc" else None,
                control_panel_arn=PANEL if mode == "arc" else None,
            ),
            pulumi.ResourceOptions(provider=provider(EAST)),
        )

    return run_components(build, region=EAST)


ROLE = f"arn:aws:iam::{ACCOUNT}:role/reskflow-dr-region-switch"


@pytest.mark.parametrize("mode", ["arc", "signal"])
def test_plan_resource_holds_both_workflows(mode: TrafficMode) -> None:
    plan = plan_of(mode)
    declared = of_type(plan, "aws:arcregionswitch/plan:Plan")["region-switch-plan"]
    assert declared.inputs == {
        "name": "reskflow-dr",
        "description": "activate one region of ReskFlow (docs/traffic-switch.md)",
        "executionRole": ROLE,
        "recoveryApproach": "activePassive",
        "regions": list(REGIONS),
        "primaryRegion": EAST,
        "recoveryTimeObjectiveMinutes": 15,
        "workflows": [camel(expected_workflow(r, mode)) for r in REGIONS],
    }
    policy = of_type(plan, "aws:iam/rolePolicy:RolePolicy")["region-switch-execution-policy"]
    assert declared.options["dependsOn"] == [policy.urn]
    assert declared.region == EAST


LAMBDA_ACTIONS = {
    "arc": ["failover-cache", "fence-region", "promote-postgres", "verify-writable"],
    "signal": [
        "failover-cache",
        "fence-region",
        "promote-postgres",
        "set-traffic-signal",
        "verify-writable",
    ],
}


def expected_execution_policy(mode: TrafficMode) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": ["lambda:GetFunction", "lambda:InvokeFunction"],
            "Resource": [fn(r, a) for r in REGIONS for a in LAMBDA_ACTIONS[mode]],
        },
        {
            "Effect": "Allow",
            "Action": [
                "rds:DescribeDBClusters",
                "rds:DescribeGlobalClusters",
                "rds:FailoverGlobalCluster",
                "rds:SwitchoverGlobalCluster",
            ],
            "Resource": [
                f"arn:aws:rds::{ACCOUNT}:global-cluster:reskflow-docdb",
                f"arn:aws:rds:{EAST}:{ACCOUNT}:cluster:reskflow-docdb-{EAST}",
                f"arn:aws:rds:{WEST}:{ACCOUNT}:cluster:reskflow-docdb-{WEST}",
            ],
        },
        {
            "Effect": "Allow",
            "Action": "eks:DescribeCluster",
            "Resource": [f"arn:aws:eks:{r}:{ACCOUNT}:cluster/reskflow-{r}" for r in REGIONS],
        },
        {
            "Effect": "Allow",
            "Action": "eks:ListAssociatedAccessPolicies",
            "Resource": [f"arn:aws:eks:{r}:{ACCOUNT}:access-entry/reskflow-{r}/*" for r in REGIONS],
        },
    ]
    if mode == "arc":
        statements += [
            {
                "Effect": "Allow",
                "Action": [
                    "route53-recovery-control-config:DescribeCluster",
                    "route53-recovery-control-config:DescribeControlPanel",
                ],
                "Resource": [CLUSTER, PANEL],
            },
            {
                "Effect": "Allow",
                "Action": [
                    "route53-recovery-cluster:GetRoutingControlState",
                    "route53-recovery-cluster:UpdateRoutingControlStates",
                ],
                "Resource": [CONTROLS[EAST], CONTROLS[WEST]],
            },
        ]
    return statements


@pytest.mark.parametrize("mode", ["arc", "signal"])
def test_execution_role_may_run_exactly_the_plan_blocks(mode: TrafficMode) -> None:
    plan = plan_of(mode)
    role = of_type(plan, "aws:iam/role:Role")["region-switch-execution-role"]
    assert role.inputs["name"] == "reskflow-dr-region-switch"
    assert json.loads(role.inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "arc-region-switch.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    policy = of_type(plan, "aws:iam/rolePolicy:RolePolicy")["region-switch-execution-policy"]
    assert policy.inputs["role"] == "reskflow-dr-region-switch"
    assert json.loads(policy.inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": expected_execution_policy(mode),
    }


def test_arc_plan_without_the_switch_is_refused() -> None:
    errors: list[str] = []

    def build() -> None:
        try:
            RegionSwitchPlan("region-switch", RegionSwitchPlanArgs(context=context("arc")))
        except ValueError as err:
            errors.append(str(err))

    plan = run_components(build, region=EAST)
    assert errors == ["traffic mode 'arc' needs the cluster, control panel and controls"]
    assert [r.type for r in plan.resources if r.custom] == []
