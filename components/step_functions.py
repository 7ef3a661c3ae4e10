"""The custom actions of the Region switch plan: one Lambda function per action of
:data:`failover_steps.contract.ACTIONS`, in the stack's own region, each with its own role.

Region switch's custom action block names one function per plan region and invokes the one in
the activating region ("Custom action Lambda execution block", ARC developer guide), so both
stacks declare this component; the functions have the same name in both regions
(:func:`components.region_switch_steps.function_arn`).

Each role may make exactly the calls its action's contract lists (``Action.iam_actions``), on the
data stores it acts on, by their deterministic ARNs; the only action without a resource scope is
``cloudwatch:PutMetricData``, which IAM cannot scope to a resource and which is held to the
signal namespace by the ``cloudwatch:namespace`` condition key instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.common import policy_json, service_trust
from components.region_switch_steps import function_name
from failover_steps.contract import ACTIONS, CONFIG_ENV, StepConfig

#: The Lambda deployment package: the ``failover_steps`` package (boto3 only, which the
#: Python runtime provides).
PACKAGE_DIR = Path(__file__).resolve().parent.parent / "failover_steps"
RUNTIME = "python3.12"
#: One invocation is one idempotent attempt; Region switch retries until the step's timeout.
TIMEOUT_SECONDS = 120
MEMORY_MB = 256

#: Which regions' stores an action acts on, relative to the function's (activating) region.
SCOPE: dict[str, tuple[str, ...]] = {
    "fence_region": ("peer",),
    "promote_postgres": ("target",),
    "failover_cache": ("target", "peer"),
    "failover_docdb": ("target", "peer"),
    "verify_writable": ("target", "peer"),
    "set_traffic_signal": (),
}

#: The resource types IAM checks for each call (Service Authorization Reference).
RESOURCE_TYPES: dict[str, tuple[str, ...]] = {
    "rds:DescribeDBInstances": ("db",),
    "rds:ModifyDBInstance": ("db",),
    "rds:PromoteReadReplica": ("db",),
    "rds:DescribeDBClusters": ("cluster",),
    "rds:ModifyDBCluster": ("cluster",),
    "rds:DescribeGlobalClusters": ("global-cluster",),
    "rds:FailoverGlobalCluster": ("global-cluster", "cluster"),
    "rds:SwitchoverGlobalCluster": ("global-cluster", "cluster"),
    "elasticache:DescribeReplicationGroups": ("replicationgroup",),
    "elasticache:ModifyReplicationGroup": ("replicationgroup",),
    "elasticache:DescribeGlobalReplicationGroups": ("globalreplicationgroup",),
    "elasticache:FailoverGlobalReplicationGroup": ("globalreplicationgroup", "replicationgroup"),
    "elasticache:DisassociateGlobalReplicationGroup": (
        "globalreplicationgroup",
        "replicationgroup",
    ),
    # A replication group's nodes are cache clusters named after it (``<group>-001`` ...).
    "elasticache:DescribeCacheClusters": ("cluster-of-group",),
    # Plan ARNs end in a suffix AWS generates: arn:aws:arc-region-switch::ACCOUNT:plan/NAME/SUFFIX
    # (Service Authorization Reference, Region switch plan execution block sample policy).
    "arc-region-switch:GetPlanExecution": ("plan",),
    "cloudwatch:PutMetricData": (),
}


def _arns(kind: str, regions: Sequence[str], config: StepConfig) -> list[str]:
    acct = config.account_id
    if kind == "global-cluster":
        return [f"arn:aws:rds::{acct}:global-cluster:{config.docdb_global_id}"]
    if kind == "globalreplicationgroup":
        return [f"arn:aws:elasticache::{acct}:globalreplicationgroup:{config.cache_global_id}"]
    if kind == "plan":
        return [f"arn:aws:arc-region-switch::{acct}:plan/*"]
    out = []
    for r in regions:
        facts = config.regions[r]
        out.append(
            {
                "db": f"arn:aws:rds:{r}:{acct}:db:{facts.postgres_id}",
                "cluster": f"arn:aws:rds:{r}:{acct}:cluster:{facts.docdb_cluster_id}",
                "replicationgroup": (
                    f"arn:aws:elasticache:{r}:{acct}:replicationgroup:{facts.cache_group_id}"
                ),
                "cluster-of-group": (
                    f"arn:aws:elasticache:{r}:{acct}:cluster:{facts.cache_group_id}-*"
                ),
            }[kind]
        )
    return out


def action_statements(
    action: str, region: str, config: StepConfig, log_group_declared: bool = False
) -> list[dict[str, Any]]:
    """The IAM statements of ``action``'s function in ``region``: one per call of its contract,
    on exactly the resources it acts on, plus writing its own log group (and creating it, unless
    the program declares it)."""
    peer = next(r for r in config.regions if r != region)
    regions = [{"target": region, "peer": peer}[w] for w in SCOPE[action]]
    statements: list[dict[str, Any]] = []
    for call in ACTIONS[action].iam_actions:
        kinds = RESOURCE_TYPES[call]
        if not kinds:
            statements.append(
                {
                    "Effect": "Allow",
                    "Action": call,
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"cloudwatch:namespace": config.signal_namespace}
                    },
                }
            )
            continue
        resources = sorted({arn for kind in kinds for arn in _arns(kind, regions, config)})
        statements.append({"Effect": "Allow", "Action": call, "Resource": resources})
    group = (
        f"arn:aws:logs:{region}:{config.account_id}:log-group:/aws/lambda/{function_name(action)}"
    )
    writes = ["logs:CreateLogStream", "logs:PutLogEvents"]
    statements.append(
        {
            "Effect": "Allow",
            "Action": writes if log_group_declared else ["logs:CreateLogGroup", *writes],
            "Resource": [group, f"{group}:*"],
        }
    )
    return statements


def _policy(action: str, region: str, declared: bool) -> Callable[[StepConfig], str]:
    def render(config: StepConfig) -> str:
        return policy_json(action_statements(action, region, config, declared))

    return render


LAMBDA_TRUST = service_trust("lambda.amazonaws.com")


@dataclass(frozen=True)
class StepFunctionsArgs:
    """Inputs of :class:`StepFunctions`."""

    region: str
    """The stack's region: the functions run here, when this region is being activated."""
    step_config: pulumi.Input[StepConfig]
    """Both regions' stores and the traffic switch, serialised into every function's
    environment (:data:`failover_steps.contract.CONFIG_ENV`)."""
    package_dir: Path = PACKAGE_DIR
    log_kms_key_arn: pulumi.Input[str] | None = None
    """The region's CMK: when set, each function's log group is declared, encrypted with it
    (policy ``reskflow-logs-cmk``) and kept :attr:`log_retention_days`; otherwise Lambda creates
    it on first use."""
    log_retention_days: int = 90


class StepFunctions(pulumi.ComponentResource):
    """One role and one function per custom action, in this stack's region."""

    function_arns: dict[str, pulumi.Output[str]]
    role_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: StepFunctionsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:failover:StepFunctions", name, None, opts)
        config = pulumi.Output.from_input(args.step_config)
        code = pulumi.AssetArchive({"failover_steps": pulumi.FileArchive(str(args.package_dir))})
        environment = config.apply(lambda c: {CONFIG_ENV: c.to_json()})
        self.function_arns = {}
        self.role_arns = {}
        declared = args.log_kms_key_arn is not None
        for action in sorted(ACTIONS):
            dashed = action.replace("_", "-")
            after: list[pulumi.Resource] = []
            if args.log_kms_key_arn is not None:
                after.append(
                    aws.cloudwatch.LogGroup(
                        f"{name}-{dashed}-logs",
                        name=f"/aws/lambda/{function_name(action)}",
                        kms_key_id=args.log_kms_key_arn,
                        retention_in_days=args.log_retention_days,
                        opts=pulumi.ResourceOptions(parent=self),
                    )
                )
            role = aws.iam.Role(
                f"{name}-{dashed}-role",
                # IAM is global: the region keeps the two stacks' roles apart.
                name=f"{function_name(action)}-{args.region}",
                assume_role_policy=LAMBDA_TRUST,
                opts=pulumi.ResourceOptions(parent=self),
            )
            policy = aws.iam.RolePolicy(
                f"{name}-{dashed}-policy",
                role=role.id,
                name=action,
                policy=config.apply(_policy(action, args.region, declared)),
                opts=pulumi.ResourceOptions(parent=self),
            )
            function = aws.lambda_.Function(
                f"{name}-{dashed}",
                name=function_name(action),
                description=ACTIONS[action].summary,
                role=role.arn,
                runtime=RUNTIME,
                handler=ACTIONS[action].handler,
                code=code,
                timeout=TIMEOUT_SECONDS,
                memory_size=MEMORY_MB,
                environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, *after]),
            )
            self.function_arns[action] = function.arn
            self.role_arns[action] = role.arn
        self.register_outputs({"function_arns": self.function_arns, "role_arns": self.role_arns})
