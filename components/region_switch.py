"""The ARC Region switch plan that activates either region, and the role it executes with.

The plan holds one ``activate`` workflow per region, built from the activation runbook
(:mod:`components.region_switch_steps`). Region switch plans are global resources whose
configuration API (CreatePlan, UpdatePlan, GetPlan) is served by one control-plane endpoint in
the partition's leader region, us-east-1, while executions (StartPlanExecution, approvals,
GetPlanExecution) go to a data plane in each region: a plan is executed from the region being
activated (botocore's endpoint rules for ``arc-region-switch``: ``UseControlPlaneEndpoint`` on the
configuration calls; AWS's Region switch launch post). Hence the ``prod`` stack owns the plan:
it can only be changed while us-east-1 is up, which is when prod can be deployed anyway, and its
declaration never depends on the stacks' roles, so no role switch touches it; during a
us-east-1 outage the existing plan is executed from us-west-2 without us-east-1, prod's state or
any control plane. See docs/traffic-switch.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.common import policy_json, service_trust
from components.region_switch_steps import (
    PlanContext,
    function_arn,
    plan_steps,
    workflow_args,
)

#: The seed's recovery time objective; Region switch compares each execution's actual recovery
#: time with it.
RTO_MINUTES = 15


@dataclass(frozen=True)
class RegionSwitchPlanArgs:
    """Inputs of :class:`RegionSwitchPlan`."""

    context: PlanContext
    """What the plan's blocks refer to (regions, stores, clusters, approval role, switch)."""
    name: str = "reskflow-dr"
    """Plan name (1-32 letters, digits and hyphens)."""
    cluster_arn: pulumi.Input[str] | None = None
    """ARC mode: the routing control cluster (the block reads it)."""
    control_panel_arn: pulumi.Input[str] | None = None
    """ARC mode: the control panel holding the routing controls."""
    recovery_time_objective_minutes: int = RTO_MINUTES


def execution_statements(
    ctx: PlanContext,
    cluster_arn: pulumi.Input[str] | None = None,
    control_panel_arn: pulumi.Input[str] | None = None,
) -> list[dict[str, Any]]:
    """What the execution role may do: one statement per kind of block in the plan, on the
    plan's resources only (the blocks' sample policies in the ARC developer guide, narrowed from
    ``*`` to the named resources where the sample leaves them open)."""
    steps = plan_steps(ctx.traffic_mode)
    kinds = {s.kind for s in steps}
    statements: list[dict[str, Any]] = []
    if "lambda" in kinds:
        actions = sorted({s.action for s in steps if s.kind == "lambda"})
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["lambda:GetFunction", "lambda:InvokeFunction"],
                "Resource": sorted(
                    function_arn(r, ctx.account_id, a) for a in actions for r in ctx.regions
                ),
            }
        )
    if "docdb_global" in kinds:
        statements.append(
            {
                "Effect": "Allow",
                "Action": [
                    "rds:DescribeDBClusters",
                    "rds:DescribeGlobalClusters",
                    "rds:FailoverGlobalCluster",
                    "rds:SwitchoverGlobalCluster",
                ],
                "Resource": [
                    f"arn:aws:rds::{ctx.account_id}:global-cluster:{ctx.docdb_global_id}",
                    *(ctx.docdb_cluster_arn(r) for r in ctx.regions),
                ],
            }
        )
    if "eks_scaling" in kinds:
        statements += [
            {
                "Effect": "Allow",
                "Action": "eks:DescribeCluster",
                "Resource": [ctx.eks_cluster_arn(r) for r in ctx.regions],
            },
            {
                "Effect": "Allow",
                "Action": "eks:ListAssociatedAccessPolicies",
                "Resource": [
                    f"arn:aws:eks:{r}:{ctx.account_id}:access-entry/{ctx.eks_cluster_names[r]}/*"
                    for r in ctx.regions
                ],
            },
        ]
    if "routing_control" in kinds:
        if ctx.routing_control_arns is None or cluster_arn is None or control_panel_arn is None:
            raise ValueError("traffic mode 'arc' needs the cluster, control panel and controls")
        statements += [
            {
                "Effect": "Allow",
                "Action": [
                    "route53-recovery-control-config:DescribeCluster",
                    "route53-recovery-control-config:DescribeControlPanel",
                ],
                "Resource": [cluster_arn, control_panel_arn],
            },
            {
                "Effect": "Allow",
                "Action": [
                    "route53-recovery-cluster:GetRoutingControlState",
                    "route53-recovery-cluster:UpdateRoutingControlStates",
                ],
                "Resource": [ctx.routing_control_arns[r] for r in ctx.regions],
            },
        ]
    return statements


REGION_SWITCH_TRUST = service_trust("arc-region-switch.amazonaws.com")


def _resolved(value: Any) -> pulumi.Output[Any]:
    """Statements may hold outputs (the switch's ARNs): one output of plain data."""
    if isinstance(value, dict):
        keys = list(value)
        return pulumi.Output.all(*(_resolved(value[k]) for k in keys)).apply(
            lambda vs: dict(zip(keys, vs, strict=True))
        )
    if isinstance(value, list):
        return pulumi.Output.all(*(_resolved(v) for v in value)).apply(list)
    return pulumi.Output.from_input(value)


class RegionSwitchPlan(pulumi.ComponentResource):
    """The plan and its execution role (see the module doc for who owns it)."""

    plan_arn: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: RegionSwitchPlanArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:failover:RegionSwitchPlan", name, None, opts)
        ctx = args.context
        child = pulumi.ResourceOptions(parent=self)
        statements = execution_statements(ctx, args.cluster_arn, args.control_panel_arn)
        role = aws.iam.Role(
            f"{name}-execution-role",
            name=f"{args.name}-region-switch",
            assume_role_policy=REGION_SWITCH_TRUST,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-execution-policy",
            role=role.id,
            name="region-switch-blocks",
            policy=_resolved(statements).apply(policy_json),
            opts=child,
        )
        # Plain dicts in the provider's ``PlanWorkflowArgsDict`` shape; typed ``Any`` because
        # checking them against the provider's nested unions exhausts mypy's memory.
        workflows: Any = [workflow_args(r, ctx) for r in ctx.regions]
        plan = aws.arcregionswitch.Plan(
            f"{name}-plan",
            name=args.name,
            description="activate one region of ReskFlow (docs/traffic-switch.md)",
            execution_role=role.arn,
            recovery_approach="activePassive",
            regions=list(ctx.regions),
            primary_region=ctx.regions[0],
            recovery_time_objective_minutes=args.recovery_time_objective_minutes,
            workflows=workflows,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.plan_arn = plan.arn
        self.execution_role_arn = role.arn
        self.register_outputs({"plan_arn": self.plan_arn, "execution_role_arn": role.arn})
