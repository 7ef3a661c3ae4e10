"""The regional customer managed key: the multi-Region primary in one region, its replica in the
other."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.common import data_bearing, policy_json

#: Services that call KMS with their own service principal (not through a caller's IAM identity):
#: CloudWatch Logs encrypts log groups; CloudWatch alarms, EventBridge rules and AWS Backup
#: notifications publish to SNS topics encrypted with this key.
SNS_PUBLISHER_SERVICES = (
    "cloudwatch.amazonaws.com",
    "events.amazonaws.com",
    "backup.amazonaws.com",
)


@dataclass(frozen=True)
class RegionalKeyArgs:
    """Inputs of :class:`RegionalKey`."""

    region: str
    """Region the key lives in (the provider passed in must be for this region)."""
    account_id: str
    """Account that owns the key; its root principal administers it through IAM."""
    alias: str
    """Alias name without the ``alias/`` prefix; the same name is used in both regions."""
    primary_key_arn: str | None = None
    """ARN of the multi-Region primary to replicate; ``None`` creates the primary itself."""
    deletion_window_days: int = 30
    """Waiting period before KMS deletes a scheduled key (AWS allows 7 to 30)."""
    extra_statements: pulumi.Input[Sequence[Mapping[str, Any]]] | None = None
    """Statements appended to the key policy (e.g. CloudFront decrypting for exactly one
    distribution); None adds nothing."""


def key_policy(
    region: str, account_id: str, extra_statements: Sequence[Mapping[str, Any]] = ()
) -> str:
    """Key policy: the account administers the key through IAM (S3 replication, RDS, AWS Backup and
    SNS use it with the caller's IAM permissions and grants), and the services that act with their
    own principal get exactly the actions they need."""
    logs_arn = f"arn:aws:logs:{region}:{account_id}:*"
    return policy_json(
        [
            {
                "Sid": "AccountAdministersThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogsEncryptsLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": [
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": logs_arn}},
            },
            {
                "Sid": "ServicesPublishToEncryptedTopics",
                "Effect": "Allow",
                "Principal": {"Service": list(SNS_PUBLISHER_SERVICES)},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                # Not every service sends aws:SourceAccount to KMS; where it is sent, it must match.
                "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": account_id}},
            },
            *(dict(s) for s in extra_statements),
        ]
    )


class RegionalKey(pulumi.ComponentResource):
    """The region's CMK. Region-agnostic: pass the regional provider in ``opts.providers``."""

    key_arn: pulumi.Output[str]
    key_id: pulumi.Output[str]
    alias_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: RegionalKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:security:RegionalKey", name, None, opts)
        policy: pulumi.Input[str] = key_policy(args.region, args.account_id)
        if args.extra_statements is not None:
            policy = pulumi.Output.from_input(args.extra_statements).apply(
                lambda extra: key_policy(args.region, args.account_id, extra)
            )
        description = f"ReskFlow DR data key ({args.region})"
        key: aws.kms.Key | aws.kms.ReplicaKey
        if args.primary_key_arn is None:
            key = aws.kms.Key(
                f"{name}-key",
                description=description,
                multi_region=True,
                enable_key_rotation=True,
                rotation_period_in_days=365,
                deletion_window_in_days=args.deletion_window_days,
                policy=policy,
                opts=data_bearing(self),
            )
        else:
            # Rotation of a multi-Region key is set on the primary and shared by its replicas.
            key = aws.kms.ReplicaKey(
                f"{name}-key",
                primary_key_arn=args.primary_key_arn,
                description=description,
                deletion_window_in_days=args.deletion_window_days,
                policy=policy,
                opts=data_bearing(self),
            )
        alias = aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{args.alias}",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.key_arn = key.arn
        self.key_id = key.key_id
        self.alias_name = alias.name
        self.register_outputs(
            {"key_arn": self.key_arn, "key_id": self.key_id, "alias_name": self.alias_name}
        )
