"""The validation step of AWS Backup restore testing, in one region: a Lambda function (boto3
only, :mod:`restore_checks`) run by EventBridge when a restore job completes, which checks the
restored store, reports the verdict to AWS Backup with PutRestoreValidationResult and publishes
the metrics :func:`restore_alarms` watch.

https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.alarms import AlarmSpec
from components.common import policy_json, service_trust
from restore_checks.lambda_entry import FAILED_METRIC, METRIC_NAMESPACE, MINUTES_METRIC, RTO_ENV

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "restore_checks"
RUNTIME = "python3.12"
HANDLER = "restore_checks.lambda_entry.handler"
TIMEOUT_SECONDS = 60
#: EventBridge: AWS Backup's restore job events (delivered best effort, within minutes).
#: https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html
EVENT_PATTERN = {
    "source": ["aws.backup"],
    "detail-type": ["Restore Job State Change"],
    "detail": {"status": ["COMPLETED"]},
}


@dataclass(frozen=True)
class RestoreValidationArgs:
    """Inputs of :class:`RestoreValidation`."""

    region: str
    name_prefix: str
    restore_time_target_minutes: int
    """The RTO: a restore that takes longer fails its validation."""
    log_kms_key_arn: pulumi.Input[str]
    """The regional CMK encrypting the function's log group."""
    log_retention_days: int = 30


def validation_role_policy(region: str, account_id: str) -> str:
    """Read the restore job and the restored resource, report, publish the two metrics."""
    return policy_json(
        [
            {
                "Sid": "ReadAndReportRestoreJobs",
                "Effect": "Allow",
                "Action": ["backup:DescribeRestoreJob", "backup:PutRestoreValidationResult"],
                "Resource": "*",
            },
            {
                # Restored resources get names AWS Backup chooses: describe calls only.
                "Sid": "DescribeRestoredResources",
                "Effect": "Allow",
                "Action": [
                    "rds:DescribeDBInstances",
                    "rds:DescribeDBClusters",
                    "s3:ListBucket",
                    "s3:GetEncryptionConfiguration",
                ],
                "Resource": "*",
            },
            {
                "Sid": "PublishVerdictMetrics",
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
            },
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{region}:{account_id}:log-group:/aws/lambda/*",
            },
        ]
    )


class RestoreValidation(pulumi.ComponentResource):
    """Role, log group, function, EventBridge rule and the permission that lets it invoke."""

    function_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: RestoreValidationArgs,
        account_id: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("reskflow:backup:RestoreValidation", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        function_name = f"{args.name_prefix}-restore-validation"
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{function_name}",
            kms_key_id=args.log_kms_key_arn,
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=f"{function_name}-{args.region}",
            assume_role_policy=service_trust("lambda.amazonaws.com"),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=validation_role_policy(args.region, account_id),
            opts=child,
        )
        function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            description="Validates AWS Backup restore tests and reports the result",
            role=role.arn,
            runtime=RUNTIME,
            handler=HANDLER,
            code=pulumi.AssetArchive({"restore_checks": pulumi.FileArchive(str(PACKAGE_DIR))}),
            timeout=TIMEOUT_SECONDS,
            memory_size=256,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={RTO_ENV: str(args.restore_time_target_minutes)}
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, logs]),
        )
        rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            name=f"{function_name}-on-restore",
            description="Restore job completed: validate it",
            event_pattern=json.dumps(EVENT_PATTERN, sort_keys=True),
            opts=child,
        )
        permission = aws.lambda_.Permission(
            f"{name}-permission",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-target",
            rule=rule.name,
            arn=function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        self.function_arn = function.arn
        self.register_outputs({"function_arn": self.function_arn})


def restore_alarms(restore_time_target_minutes: int) -> list[AlarmSpec]:
    """A restore test that failed its validation, and one slower than the RTO target."""
    return [
        AlarmSpec(
            name="restore-validation-failed",
            description="An AWS Backup restore test failed its validation (the restored store "
            "did not answer, was not encrypted, or took longer than the RTO)",
            namespace=METRIC_NAMESPACE,
            metric_name=FAILED_METRIC,
            dimensions={},
            statistic="Maximum",
            comparison="GreaterThanOrEqualToThreshold",
            threshold=1.0,
            period_seconds=300,
        ),
        AlarmSpec(
            name="restore-slower-than-rto",
            description=f"An AWS Backup restore took longer than the "
            f"{restore_time_target_minutes}-minute RTO target",
            namespace=METRIC_NAMESPACE,
            metric_name=MINUTES_METRIC,
            dimensions={},
            statistic="Maximum",
            comparison="GreaterThanThreshold",
            threshold=float(restore_time_target_minutes),
            period_seconds=300,
        ),
    ]
