"""Cross-region glue: replicate this region's buckets to their twins in the peer region.

Each stack declares the rules *from* its own buckets, so the pair of stacks gives two-way
replication; with replica-modification sync on both sides, metadata changes made to replicas flow
back too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.common import policy_json


@dataclass(frozen=True)
class ReplicatedPair:
    """One source bucket in this region and its twin in the peer region."""

    store: str
    source_bucket: pulumi.Input[str]
    """Name of the source bucket (this region)."""
    source_arn: str
    """ARN of the source bucket."""
    destination_arn: str
    """ARN of the destination bucket in the peer region (derived from its deterministic name)."""
    versioning: pulumi.Resource
    """The source bucket's versioning resource: S3 rejects replication before versioning."""


@dataclass(frozen=True)
class BucketReplicationArgs:
    """Inputs of :class:`BucketReplication`."""

    source_region: str
    destination_region: str
    account_id: str
    pairs: Sequence[ReplicatedPair]
    source_key_arn: pulumi.Input[str]
    """Key the source objects are encrypted with (this region)."""
    destination_key_arn: pulumi.Input[str]
    """Key in the destination region: S3 treats multi-Region keys as single-Region keys, so the
    replica must be encrypted with the destination region's key ARN."""
    replication_minutes: int = 15
    """Replication Time Control threshold; AWS offers exactly 15 minutes."""


def replication_role_policy(
    args: BucketReplicationArgs, source_key_arn: str, destination_key_arn: str
) -> str:
    """Least privilege for S3 replication: named buckets and keys only, no wildcard actions."""
    sources = [p.source_arn for p in args.pairs]
    destinations = [p.destination_arn for p in args.pairs]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadReplicationConfiguration",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": sources,
        },
        {
            "Sid": "ReadSourceVersions",
            "Effect": "Allow",
            "Action": [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
                # Object Lock: replicas carry the source's retention and legal hold, which S3
                # reads with these; the destination bucket must have Object Lock too.
                # https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html
                "s3:GetObjectRetention",
                "s3:GetObjectLegalHold",
            ],
            "Resource": [f"{arn}/*" for arn in sources],
        },
        {
            "Sid": "WriteReplicas",
            "Effect": "Allow",
            "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            "Resource": [f"{arn}/*" for arn in destinations],
        },
        {
            "Sid": "DecryptSourceObjects",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [source_key_arn],
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{args.source_region}.amazonaws.com"},
                # With S3 Bucket Keys the encryption context is the bucket ARN.
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": _contexts(sources)},
            },
        },
        {
            "Sid": "EncryptReplicas",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": [destination_key_arn],
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{args.destination_region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": _contexts(destinations)},
            },
        },
    ]
    return policy_json(statements)


def replication_rule_id(destination_region: str) -> str:
    """Id of the replication rule to ``destination_region`` (a dimension of its S3 metrics)."""
    return f"to-{destination_region}"


def _contexts(bucket_arns: Sequence[str]) -> list[str]:
    return [arn for bucket in bucket_arns for arn in (bucket, f"{bucket}/*")]


class BucketReplication(pulumi.ComponentResource):
    """The replication role and one replication rule per bucket: whole bucket, Replication Time
    Control (15 minutes) with metrics, delete markers replicated, replica modifications synced,
    SSE-KMS objects re-encrypted with the destination region's key."""

    role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: BucketReplicationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:storage:BucketReplication", name, None, opts)
        assume = policy_json(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}},
                }
            ]
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=f"reskflow-s3-replication-{args.source_region}",
            description=(f"S3 replication from {args.source_region} to {args.destination_region}"),
            assume_role_policy=assume,
            opts=pulumi.ResourceOptions(parent=self),
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(args.source_key_arn, args.destination_key_arn).apply(
                lambda keys: replication_role_policy(args, keys[0], keys[1])
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        minutes = args.replication_minutes
        for pair in args.pairs:
            aws.s3.BucketReplicationConfig(
                f"{name}-{pair.store}",
                bucket=pair.source_bucket,
                role=role.arn,
                rules=[
                    aws.s3.BucketReplicationConfigRuleArgs(
                        id=replication_rule_id(args.destination_region),
                        status="Enabled",
                        priority=1,
                        filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                        delete_marker_replication=(
                            aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                                status="Enabled"
                            )
                        ),
                        source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                            replica_modifications=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaReplicaModificationsArgs(
                                status="Enabled"
                            ),
                            sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                                status="Enabled"
                            ),
                        ),
                        destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                            bucket=pair.destination_arn,
                            encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                                replica_kms_key_id=args.destination_key_arn
                            ),
                            metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                                status="Enabled",
                                event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                                    minutes=minutes
                                ),
                            ),
                            replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                                status="Enabled",
                                time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(
                                    minutes=minutes
                                ),
                            ),
                        ),
                    )
                ],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[pair.versioning, role_policy]),
            )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})
