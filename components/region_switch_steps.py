"""The Region switch plan's workflows, built from the activation runbook
(:func:`failover_steps.workflows.activation_steps`), as pure data.

A Region switch workflow is chosen by target region and action only, not by execution mode: the
same ``activate`` workflow runs graceful (planned failover, failback) and ungraceful (disaster)
executions, and each block says what it does in an ungraceful execution. So one workflow per
target region holds the graceful steps, in their order, and each step's ungraceful behaviour
follows from the ungraceful runbook:

- a step that the ungraceful runbook leaves out (fencing the unreachable peer) is skipped;
- AWS documents that an ungraceful execution skips custom action Lambda blocks ("Custom action
  Lambda execution block", ARC developer guide) and that the ARC routing control block does not
  support ungraceful mode ("ARC routing control execution block"): those steps are declared with
  ``skip`` and the tool runs them itself, in the same order, through the same handlers, once the
  execution has finished (:data:`LOCAL`);
- the DocumentDB block switches over when graceful and fails over when ungraceful.

:func:`workflow_args` gives the ``arcregionswitch.Plan`` workflow inputs; :func:`render_workflows`
the same steps as plain data for the offline drill.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import pulumi

from failover_steps.contract import ACTIONS, TrafficMode
from failover_steps.workflows import MODES, Mode, Step, activation_steps

Executor = Literal["region-switch", "local", "skipped"]
REGION_SWITCH: Executor = "region-switch"
LOCAL: Executor = "local"
SKIPPED: Executor = "skipped"

#: Region switch execution block type of each step kind (ARC API reference, Step).
BLOCK_TYPES = {
    "approval": "ManualApproval",
    "lambda": "CustomActionLambda",
    "docdb_global": "DocumentDb",
    "eks_scaling": "EKSResourceScaling",
    "routing_control": "ARCRoutingControl",
}
#: Kinds whose blocks Region switch does not run in an ungraceful execution (see module doc).
NOT_RUN_UNGRACEFUL = frozenset({"lambda", "routing_control"})
FUNCTION_PREFIX = "reskflow-dr"
LAMBDA_RETRY_MINUTES = 1.0
#: EKS block: scale the activating region to 100 % of the capacity the deactivating region ran
#: at its peak of the last 24 hours (the only approach the API documents for EKS).
EKS_CAPACITY_APPROACH = "sampledMaxInLast24Hours"
EKS_TARGET_PERCENT = 100


def function_name(action: str) -> str:
    """The Lambda function of an action: the same name in every region."""
    return f"{FUNCTION_PREFIX}-{action.replace('_', '-')}"


def function_arn(region: str, account_id: str, action: str) -> str:
    """Deterministic, so the plan can name the peer region's function without its stack."""
    return f"arn:aws:lambda:{region}:{account_id}:function:{function_name(action)}"


def plan_steps(traffic_mode: TrafficMode) -> tuple[Step, ...]:
    """The graceful runbook, with the traffic step as the traffic mode runs it: an ARC routing
    control block, or the ``set_traffic_signal`` custom action."""
    steps = activation_steps("graceful")
    ungraceful = [s.name for s in activation_steps("ungraceful")]
    if [s.name for s in steps if s.name in ungraceful] != ungraceful:
        raise ValueError("the ungraceful runbook must be the graceful one with steps left out")
    if traffic_mode == "arc":
        return steps
    return tuple(
        replace(s, kind="lambda", action="set_traffic_signal") if s.kind == "routing_control" else s
        for s in steps
    )


def executor(step: Step, mode: Mode) -> Executor:
    """Who runs a plan step in an execution of ``mode``."""
    if mode == "graceful":
        return REGION_SWITCH
    if step.name not in {s.name for s in activation_steps("ungraceful")}:
        return SKIPPED
    return LOCAL if step.kind in NOT_RUN_UNGRACEFUL else REGION_SWITCH


@dataclass(frozen=True)
class PlanContext:
    """What the blocks refer to, in both regions."""

    regions: tuple[str, str]
    """Primary first."""
    account_id: str
    traffic_mode: TrafficMode
    approval_role_arn: pulumi.Input[str]
    """Role an approver assumes to approve the execution approval step."""
    docdb_global_id: str
    docdb_cluster_ids: Mapping[str, str]
    """Region -> DocumentDB cluster identifier (member of the global cluster)."""
    eks_cluster_names: Mapping[str, str]
    """Region -> EKS cluster name."""
    namespace: str
    """Namespace of the workloads."""
    deployments: Sequence[str]
    """Deployments to scale; each has a HorizontalPodAutoscaler of the same name
    (components/workloads.py)."""
    routing_control_arns: Mapping[str, pulumi.Input[str]] | None = None
    """ARC mode: region -> routing control ARN."""

    def peer(self, region: str) -> str:
        return self.regions[1] if region == self.regions[0] else self.regions[0]

    def docdb_cluster_arn(self, region: str) -> str:
        return f"arn:aws:rds:{region}:{self.account_id}:cluster:{self.docdb_cluster_ids[region]}"

    def eks_cluster_arn(self, region: str) -> str:
        return f"arn:aws:eks:{region}:{self.account_id}:cluster/{self.eks_cluster_names[region]}"


def _block(step: Step, target: str, ctx: PlanContext) -> dict[str, Any]:
    block: dict[str, Any] = {
        "name": step.name,
        "execution_block_type": BLOCK_TYPES[step.kind],
        "description": step.summary,
    }
    timeout = step.timeout_minutes
    if step.kind == "approval":
        block["execution_approval_configs"] = [
            {"approval_role": ctx.approval_role_arn, "timeout_minutes": timeout}
        ]
    elif step.kind == "lambda":
        block["custom_action_lambda_configs"] = [
            {
                # Always the activating region's function: it survives the peer's loss (AWS
                # advises against depending on the deactivating region). A step on the peer
                # calls the peer's API with an explicit region from the StepConfig.
                "region_to_run": "activatingRegion",
                "retry_interval_minutes": LAMBDA_RETRY_MINUTES,
                "timeout_minutes": timeout,
                "lambdas": [
                    {"arn": function_arn(r, ctx.account_id, step.action)} for r in ctx.regions
                ],
                "ungracefuls": [{"behavior": "skip"}],
            }
        ]
    elif step.kind == "docdb_global":
        block["document_db_configs"] = [
            {
                "behavior": "switchoverOnly",
                "global_cluster_identifier": ctx.docdb_global_id,
                "database_cluster_arns": [ctx.docdb_cluster_arn(r) for r in ctx.regions],
                "timeout_minutes": timeout,
                "ungracefuls": [{"ungraceful": "failover"}],
            }
        ]
    elif step.kind == "eks_scaling":
        block["eks_resource_scaling_configs"] = [_eks(ctx, timeout)]
    elif step.kind == "routing_control":
        if ctx.routing_control_arns is None:
            raise ValueError("traffic mode 'arc' needs the routing control ARNs")
        states = {r: "On" if r == target else "Off" for r in ctx.regions}
        block["arc_routing_control_configs"] = [
            {
                "timeout_minutes": timeout,
                "region_and_routing_controls": [
                    {
                        "region": r,
                        "routing_controls": [
                            {"routing_control_arn": ctx.routing_control_arns[r], "state": s}
                        ],
                    }
                    for r, s in states.items()
                ],
            }
        ]
    return block


def _eks(ctx: PlanContext, timeout: int) -> dict[str, Any]:
    return {
        "capacity_monitoring_approach": EKS_CAPACITY_APPROACH,
        "target_percent": EKS_TARGET_PERCENT,
        "timeout_minutes": timeout,
        "eks_clusters": [{"cluster_arn": ctx.eks_cluster_arn(r)} for r in ctx.regions],
        "kubernetes_resource_types": [{"api_version": "apps/v1", "kind": "Deployment"}],
        # The provider's ``namespace`` here is the API's outer map key, which is a *region*
        # (EksResourceScalingConfiguration.scalingResources: key pattern [a-z]{2}-[a-z-]+-\d+);
        # each inner key names the same Deployment in both regions.
        "scaling_resources": [
            {
                "namespace": r,
                "resources": [
                    {"resource_name": d, "name": d, "namespace": ctx.namespace, "hpa_name": d}
                    for d in ctx.deployments
                ],
            }
            for r in ctx.regions
        ],
    }


def _grouped(steps: Sequence[Step]) -> list[tuple[str, list[Step]]]:
    """Consecutive steps sharing a group form one parallel block; others stand alone."""
    out: list[tuple[str, list[Step]]] = []
    for step in steps:
        if step.group and out and out[-1][0] == step.group:
            out[-1][1].append(step)
        else:
            out.append((step.group, [step]))
    return out


def workflow_args(target: str, ctx: PlanContext) -> dict[str, Any]:
    """The ``activate`` workflow of ``target`` (``PlanWorkflowArgsDict`` shape)."""
    steps: list[dict[str, Any]] = []
    for group, members in _grouped(plan_steps(ctx.traffic_mode)):
        if not group:
            steps.append(_block(members[0], target, ctx))
            continue
        steps.append(
            {
                "name": group,
                "execution_block_type": "Parallel",
                "description": "; ".join(s.summary for s in members),
                "parallel_configs": [{"steps": [_block(s, target, ctx) for s in members]}],
            }
        )
    return {
        "workflow_target_action": "activate",
        "workflow_target_region": target,
        "workflow_description": f"make {target} the only writable, serving region",
        "steps": steps,
    }


def render_workflows(
    regions: Sequence[str], account_id: str, traffic_mode: TrafficMode
) -> list[dict[str, Any]]:
    """Every step of every workflow as plain data, in execution order: the target region, the
    step, its block, its parallel group, the region it acts on, its Lambda action and functions,
    its timeout and who runs it in a graceful and in an ungraceful execution."""
    rows: list[dict[str, Any]] = []
    for target in regions:
        peer = next(r for r in regions if r != target)
        for step in plan_steps(traffic_mode):
            rows.append(
                {
                    "target": target,
                    "step": step.name,
                    "kind": step.kind,
                    "block": BLOCK_TYPES[step.kind],
                    "group": step.group,
                    "acts_on": target if step.where == "target" else peer,
                    "action": step.action,
                    "lambdas": [function_arn(r, account_id, step.action) for r in regions]
                    if step.kind == "lambda"
                    else [],
                    "handler": ACTIONS[step.action].handler if step.kind == "lambda" else "",
                    "timeout_minutes": step.timeout_minutes,
                    **{mode: executor(step, mode) for mode in MODES},
                }
            )
    return rows


def workflow_problems(rows: Sequence[Mapping[str, Any]], regions: Sequence[str]) -> list[str]:
    """What makes rendered workflows (:func:`render_workflows`) unsafe to execute, one line
    each, empty when safe: a region without a workflow, traffic switched before the last step,
    a graceful promotion before the peer is fenced, a step acting on another region than the
    runbook says, or a custom action without a function in every region."""
    where = {s.name: s.where for s in activation_steps("graceful")}
    problems: list[str] = []
    for target in regions:
        steps = [r for r in rows if r["target"] == target]
        if not steps:
            problems.append(f"{target}: no activate workflow")
            continue
        last = steps[-1]
        if last["kind"] != "routing_control" and last["action"] != "set_traffic_signal":
            problems.append(f"{target}: the last step is {last['step']}, not the traffic switch")
        graceful = [r for r in steps if r["graceful"] == REGION_SWITCH]
        fenced = [i for i, r in enumerate(graceful) if r["action"] == "fence_region"]
        promoted = [i for i, r in enumerate(graceful) if r["group"] == "promote"]
        if promoted and (not fenced or fenced[0] > promoted[0]):
            problems.append(f"{target}: a graceful execution promotes before fencing the peer")
        peer = next(r for r in regions if r != target)
        for r in steps:
            expected = peer if where.get(r["step"], "target") == "peer" else target
            if r["acts_on"] != expected:
                problems.append(f"{target}: {r['step']} acts on {r['acts_on']}, not {expected}")
            if r["kind"] == "lambda" and len(r["lambdas"]) != len(regions):
                problems.append(f"{target}: {r['step']} lacks a function in every region")
    return problems
