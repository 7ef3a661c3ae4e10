"""CloudWatch Synthetics canaries that watch public endpoints from this region.

Route 53 health-check metrics exist only in us-east-1, so each region runs its own canaries
against every public endpoint (the failover name and both regional endpoints), whichever region
is active, and alarms on them to its own topic.

Runtime: ``syn-python-selenium-7.0``, the newest Python runtime AWS lists
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Library_python_selenium.html).
Artifacts go under a prefix of this region's logs bucket, itself encrypted with the regional CMK,
and are written with SSE-KMS under that key (``artifact_config``); the execution role may write
there, log to its own log groups and publish Synthetics metrics, nothing else
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_Roles.html).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.alarms import AlarmSpec
from components.common import policy_json, service_trust

RUNTIME_VERSION = "syn-python-selenium-7.0"
HANDLER = "endpoint_check.handler"
SCRIPT = Path(__file__).parent / "canary_scripts" / "python" / "endpoint_check.py"
#: Namespace and metric the canaries publish; alarmed per canary (dimension ``CanaryName``).
CANARY_NAMESPACE = "CloudWatchSynthetics"
CANARY_METRIC = "SuccessPercent"
#: Days Synthetics keeps run records (the bucket's lifecycle governs the artifact objects).
ARTIFACT_DAYS = 14
PREFIX = "synthetics"


@dataclass(frozen=True)
class CanariesArgs:
    """Inputs of :class:`EndpointCanaries`."""

    region: str
    account_id: str
    kms_key_arn: pulumi.Input[str]
    """The regional CMK encrypting the artifacts."""
    bucket_name: str
    """This region's logs bucket (versioned, replicated, encrypted with the regional CMK, its
    lifecycle owned by the storage tier); artifacts and the script live under ``prefix``."""
    prefix: str
    targets: Mapping[str, str]
    """Canary name -> HTTPS URL it requests."""
    rate_minutes: int = 5
    """Schedule ``rate(N minutes)``."""


def canary_name(label: str) -> str:
    """Canary names: lowercase letters, digits, ``-`` and ``_``, at most 21 characters."""
    return f"reskflow-{label}"[:21]


def schedule_expression(rate_minutes: int) -> str:
    return "rate(1 minute)" if rate_minutes == 1 else f"rate({rate_minutes} minutes)"


def canary_alarms(targets: Mapping[str, str], rate_minutes: int) -> list[AlarmSpec]:
    """One alarm per canary: a failed run (SuccessPercent below 100) in two consecutive
    schedule periods, or no run at all (missing data breaches: a stopped canary watches
    nothing)."""
    return [
        AlarmSpec(
            name=f"canary-{name.removeprefix('reskflow-')}",
            description=f"Synthetics canary {name} could not reach {url} in two consecutive runs "
            "(or did not run)",
            namespace=CANARY_NAMESPACE,
            metric_name=CANARY_METRIC,
            dimensions={"CanaryName": name},
            statistic="Average",
            comparison="LessThanThreshold",
            threshold=100,
            period_seconds=rate_minutes * 60,
            evaluation_periods=2,
            treat_missing_data="breaching",
        )
        for name, url in targets.items()
    ]


def execution_policy(
    region: str, account_id: str, bucket_name: str, prefix: str, key_arn: str
) -> str:
    bucket_arn = f"arn:aws:s3:::{bucket_name}"
    return policy_json(
        [
            {
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject"],
                "Resource": f"{bucket_arn}/{prefix}/*",
            },
            {"Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": bucket_arn},
            {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{region}:{account_id}:log-group:/aws/lambda/cwsyn-*",
            },
            {
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": CANARY_NAMESPACE}},
            },
            {
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": key_arn,
            },
        ]
    )


class EndpointCanaries(pulumi.ComponentResource):
    """Execution role, the script and one canary per target."""

    names: Sequence[str]

    def __init__(
        self, name: str, args: CanariesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:monitoring:EndpointCanaries", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        script = aws.s3.BucketObjectv2(
            f"{name}-script",
            bucket=args.bucket_name,
            key=f"{args.prefix}/scripts/endpoint_check.zip",
            kms_key_id=args.kms_key_arn,
            server_side_encryption="aws:kms",
            source=pulumi.AssetArchive({"python/endpoint_check.py": pulumi.FileAsset(str(SCRIPT))}),
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=service_trust("lambda.amazonaws.com"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=role.id,
            policy=pulumi.Output.from_input(args.kms_key_arn).apply(
                lambda key: execution_policy(
                    args.region, args.account_id, args.bucket_name, args.prefix, key
                )
            ),
            opts=child,
        )
        self.names = []
        for label, url in args.targets.items():
            aws.synthetics.Canary(
                f"{name}-{label}",
                name=label,
                artifact_s3_location=f"s3://{args.bucket_name}/{args.prefix}/runs/",
                artifact_config=aws.synthetics.CanaryArtifactConfigArgs(
                    s3_encryption=aws.synthetics.CanaryArtifactConfigS3EncryptionArgs(
                        encryption_mode="SSE_KMS", kms_key_arn=args.kms_key_arn
                    )
                ),
                execution_role_arn=role.arn,
                handler=HANDLER,
                runtime_version=RUNTIME_VERSION,
                s3_bucket=args.bucket_name,
                s3_key=script.key,
                s3_version=script.version_id,
                schedule=aws.synthetics.CanaryScheduleArgs(
                    expression=schedule_expression(args.rate_minutes)
                ),
                run_config=aws.synthetics.CanaryRunConfigArgs(
                    timeout_in_seconds=60, environment_variables={"TARGET_URL": url}
                ),
                start_canary=True,
                success_retention_period=ARTIFACT_DAYS,
                failure_retention_period=ARTIFACT_DAYS,
                opts=child,
            )
            self.names.append(label)
        self.register_outputs({})
