"""Continuous readiness: the boto3-only probe (readiness_probe/probe.py) as a Lambda of this
region, invoked by an EventBridge Scheduler schedule, with one alarm per declared check (metric
``ReskFlow/Readiness`` ``CheckPassed`` by ``Check``; a failed or missing run breaches)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarms import AlarmSpec
from components.common import policy_json, service_trust
from readiness_probe.probe import CHECKS, METRIC, NAMESPACE, TARGETS_ENV, declared

PACKAGE = Path(__file__).resolve().parent.parent / "readiness_probe"
RUNTIME = "python3.12"
FUNCTION = "reskflow-readiness"
HANDLER = "readiness_probe.probe.handler"

#: Read-only calls each check makes (least privilege: only declared checks get theirs).
CHECK_ACTIONS: dict[str, tuple[str, ...]] = {
    "docdb-global-member": ("rds:DescribeGlobalClusters",),
    "redis-global-member": ("elasticache:DescribeGlobalReplicationGroups",),
    "secrets-present": ("secretsmanager:DescribeSecret",),
    "images-present": ("ecr:DescribeImages",),
    "cluster-capacity": ("eks:DescribeNodegroup",),
}


def probe_policy(region: str, account_id: str, checks: list[str]) -> str:
    actions = sorted({a for c in checks for a in CHECK_ACTIONS[c]})
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": NAMESPACE}},
        },
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:{region}:{account_id}:log-group:/aws/lambda/{FUNCTION}*",
        },
    ]
    if actions:
        statements.append({"Effect": "Allow", "Action": actions, "Resource": "*"})
    return policy_json(statements)


def readiness_alarms(targets: Mapping[str, Any], rate_minutes: int) -> list[AlarmSpec]:
    """One alarm per declared check: the check failed (0) or did not report in two runs."""
    return [
        AlarmSpec(
            name=f"readiness-{check}",
            description=f"Readiness check {check} failed or did not run "
            f"({CHECKS[check][0].__doc__ or ''})".replace("\n", " "),
            namespace=NAMESPACE,
            metric_name=METRIC,
            dimensions={"Check": check},
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=1,
            period_seconds=rate_minutes * 60,
            evaluation_periods=2,
            treat_missing_data="breaching",
        )
        for check in declared(dict(targets))
    ]


@dataclass(frozen=True)
class ReadinessScheduleArgs:
    region: str
    account_id: str
    targets: Mapping[str, Any]
    """The probe's targets (see readiness_probe/probe.py)."""
    rate_minutes: int = 5


class ReadinessSchedule(pulumi.ComponentResource):
    """Probe Lambda, its role, the schedule and the scheduler's invoke role."""

    def __init__(
        self, name: str, args: ReadinessScheduleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:monitoring:ReadinessSchedule", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        checks = declared(dict(args.targets))
        role = aws.iam.Role(
            f"{name}-role",
            name=f"{FUNCTION}-{args.region}",
            assume_role_policy=service_trust("lambda.amazonaws.com"),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=probe_policy(args.region, args.account_id, checks),
            opts=child,
        )
        function = aws.lambda_.Function(
            f"{name}-function",
            name=FUNCTION,
            description="Readiness checks of this region, one CloudWatch metric per check",
            role=role.arn,
            runtime=RUNTIME,
            handler=HANDLER,
            code=pulumi.AssetArchive({"readiness_probe": pulumi.FileArchive(str(PACKAGE))}),
            timeout=60,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={TARGETS_ENV: json.dumps(dict(args.targets), sort_keys=True)}
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        invoker = aws.iam.Role(
            f"{name}-scheduler-role",
            name=f"{FUNCTION}-scheduler-{args.region}",
            assume_role_policy=service_trust("scheduler.amazonaws.com"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-scheduler-policy",
            role=invoker.id,
            policy=function.arn.apply(
                lambda arn: policy_json(
                    [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arn}]
                )
            ),
            opts=child,
        )
        aws.scheduler.Schedule(
            f"{name}-schedule",
            name=f"{FUNCTION}-{args.region}",
            schedule_expression=f"rate({args.rate_minutes} minutes)",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(arn=function.arn, role_arn=invoker.arn),
            opts=child,
        )
        self.register_outputs({})
