"""The Region switch plan built from the activation runbook, for both traffic modes and both target
regions: its workflows (blocks, order, regions, approvals, Lambda actions and their ARNs,
parallel groups, ungraceful behaviour), its execution role, and who runs each step in a graceful
and an ungraceful execution (the data the offline drill shows)."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.region_switch import RegionSwitchPlan, RegionSwitchPlanArgs
from components.region_switch_steps import (
    PlanContext,
    function_arn,
    plan_steps,
    render_workflows,
    workflow_args,
)
from failover_steps.contract import TrafficMode
from failover_steps.workflows import activation_steps
from reskflow_dr.engine import Plan
from tests.component_plan import ACCOUNT, of_type, provider, run_components

EAST, WEST = "us-east-1", "us-west-2"
REGIONS = (EAST, WEST)
APPROVER = f"arn:aws:iam::{ACCOUNT}:role/reskflow-dr-approver"
CLUSTER = "arn:aws:route53-recovery-control::111122223333:cluster/c1"
PANEL = "arn:aws:route53-recovery-control::111122223333:controlpanel/p1"
CONTROLS = {r: f"{PANEL}/routingcontrol/{r}" for r in REGIONS}
DEPLOYMENTS = ("api-gateway", "order-service")


def context(mode: TrafficMode) -> PlanContext:
    return PlanContext(
        regions=REGIONS,
        account_id=ACCOUNT,
        traffic_mode=mode,
        approval_role_arn=APPROVER,
        docdb_global_id="reskflow-docdb",
        docdb_cluster_ids={r: f"reskflow-docdb-{r}" for r in REGIONS},
        eks_cluster_names={r: f"reskflow-{r}" for r in REGIONS},
        namespace="reskflow",
        deployments=DEPLOYMENTS,
        routing_control_arns=CONTROLS if mode == "arc" else None,
    )


def fn(region: str, action: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:reskflow-dr-{action}"


def lambda_block(name: str, summary: str, action: str, timeout: int) -> dict[str, Any]:
    return {
        "name": name,
        "execution_block_type": "CustomActionLambda",
        "description": summary,
        "custom_action_lambda_configs": [
            {
                "region_to_run": "activatingRegion",
                "retry_interval_minutes": 1.0,
                "timeout_minutes": timeout,
                "lambdas": [{"arn": fn(EAST, action)}, {"arn": fn(WEST, action)}],
                "ungracefuls": [{"behavior": "skip"}],
            }
        ],
    }


def expected_workflow(target: str, mode: TrafficMode) -> dict[str, Any]:
    scale = {
        "name": "scale-target",
        "execution_block_type": "EKSResourceScaling",
        "description": "scale the target region's workloads to the active size",
        "eks_resource_scaling_configs": [
            {
                "capacity_monitoring_approach": "sampledMaxInLast24Hours",
                "target_percent": 100,
                "timeout_minutes": 30,
                "eks_clusters": [
                    {"cluster_arn": f"arn:aws:eks:{r}:{ACCOUNT}:cluster/reskflow-{r}"}
                    for r in REGIONS
                ],
                "kubernetes_resource_types": [{"api_version": "apps/v1", "kind": "Deployment"}],
                "scaling_resources": [
                    {
                        "namespace": r,
                        "resources": [
                            {"resource_name": d, "name": d, "namespace": "reskflow", "hpa_name": d}
                            for d in DEPLOYMENTS
                        ],
                    }
                    for r in REGIONS
                ],
            }
        ],
    }
    docdb = {
        "name": "failover-docdb",
        "execution_block_type": "DocumentDb",
        "description": "make the target region's DocumentDB cluster the global writer",
        "document_db_configs": [
            {
                "behavior": "switchoverOnly",
                "global_cluster_identifier": "reskflow-docdb",
                "database_cluster_arns": [
                    f"arn:aws:rds:{r}:{ACCOUNT}:cluster:reskflow-docdb-{r}" for r in REGIONS
                ],
                "timeout_minutes": 30,
                "ungracefuls": [{"ungraceful": "failover"}],
            }
        ],
    }
    traffic_summary = (
        "route traffic to the target region only (routing controls: target on, peer off)"
    )
    if mode == "arc":
        traffic = {
            "name": "switch-traffic",
            "execution_block_type": "ARCRoutingControl",
            "description": traffic_summary,
            "arc_routing_control_configs": [
                {
                    "timeout_minutes": 10,
                    "region_and_routing_controls": [
                        {
                            "region": r,
                            "routing_controls": [
                                {
                                    "routing_control_arn": CONTROLS[r],
                                    "state": "On" if r == target else "Off",
                                }
                            ],
                        }
                        for r in REGIONS
                    ],
                }
            ],
        }
    else:
        traffic = lambda_block("switch-traffic", traffic_summary, "set-traffic-signal", 10)
    return {
        "workflow_target_action": "activate",
        "workflow_target_region": target,
        "workflow_description": f"make {target} the only writable, serving region",
        "steps": [
            {
                "name": "approve",
                "execution_block_type": "ManualApproval",
                "description": "a person approves activating the target region",
                "execution_approval_configs": [{"approval_role": APPROVER, "timeout_minutes": 60}],
            },
            scale,
            lambda_block(
                "fence-peer",
                "attach the fence security groups to the peer region's data stores",
                "fence-region",
                10,
            ),
            {
                "name": "promote",
                "execution_block_type": "Parallel",
                "description": "promote the target region's PostgreSQL replica; make the target "
                "region's Redis the Global Datastore primary; make the target region's "
                "DocumentDB cluster the global writer",
                "parallel_configs": [
                    {
                        "steps": [
                            lambda_block(
                                "promote-postgres",
                                "promote the target region's PostgreSQL replica",
                                "promote-postgres",
                                45,
                            ),
                            lambda_block(
                                "failover-cache",
                                "make the target region's Redis the Global Datastore primary",
                                "failover-cache",
                                30,
                            ),
                            docdb,
                        ]
                    }
                ],
            },
            lambda_block(
                "verify-writable",
                "check every store in the target region accepts writes",
                "verify-writable",
                10,
            ),
            traffic,
        ],
    }


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
