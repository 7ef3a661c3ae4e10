"""The Region switch plan as the tests expect it, written out by hand (not computed by the code
under test): the context of the default stacks and each target region's workflow."""

from __future__ import annotations

from typing import Any

from components.region_switch_steps import PlanContext
from failover_steps.contract import TrafficMode
from tests.component_plan import ACCOUNT

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
