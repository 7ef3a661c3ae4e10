"""A hardened, versioned, KMS-encrypted S3 bucket with its lifecycle (one region)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.common import BACKUP_TAG_KEY, BACKUP_TAG_VALUE, data_bearing, policy_json


@dataclass(frozen=True)
class Expiry:
    """Objects under ``prefix`` ("" = all) expire; optionally they must be written in a tier."""

    id: str
    prefix: str
    expire_days: int | None
    """Days after creation a current version expires; ``None`` keeps it."""
    noncurrent_days: int | None
    """Days after becoming noncurrent a version is deleted; ``None`` keeps every version."""
    storage_class: str | None = None
    """Storage class uploads under ``prefix`` must use (enforced by the bucket policy)."""


@dataclass(frozen=True)
class SecureBucketArgs:
    """Inputs of :class:`SecureBucket`."""

    bucket_name: str
    """Globally unique bucket name (validated against S3's naming rules by the caller)."""
    kms_key_arn: pulumi.Input[str]
    """ARN of the regional customer managed key used for SSE-KMS with bucket keys."""
    store: str
    """The data store this bucket holds (``uploads``, ``backups``...), tagged on the bucket."""
    expiries: Sequence[Expiry] = ()
    """Lifecycle expirations; no storage-class transitions are ever declared."""
    incomplete_multipart_days: int = 7
    """Days before S3 aborts an unfinished multipart upload."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags on the bucket."""
    object_lock: ObjectLock | None = None
    """S3 Object Lock default retention, or ``None`` for a bucket without Object Lock."""

    extra_statements: pulumi.Input[Sequence[Mapping[str, Any]]] | None = None
    """Statements appended to the bucket policy (e.g. the CloudFront distribution that reads
    the bucket through origin access control); None adds nothing."""


@dataclass(frozen=True)
class ObjectLock:
    """Default Object Lock retention of every new object version in the bucket."""

    mode: str
    """``GOVERNANCE`` or ``COMPLIANCE``."""
    days: int
    """Days each new version is locked; a writer may set a later retain-until date itself."""


def _present_and_not(key: str, value: str) -> dict[str, Any]:
    """A condition true when the request names ``key`` with another value than ``value``.

    Only requests that carry the header are judged: the parts of a multipart upload
    (``UploadPart``, authorised as ``s3:PutObject``) carry neither the encryption nor the
    storage-class header, so a rule that also denied their absence would refuse every upload
    larger than the client's multipart threshold (8 MB for the AWS CLI)."""
    return {"StringNotEquals": {key: value}, "Null": {key: "false"}}


def bucket_policy(
    bucket_arn: str,
    expiries: Sequence[Expiry],
    extra_statements: Sequence[Mapping[str, Any]] = (),
) -> str:
    """Deny plain-HTTP access, uploads asking for another encryption than SSE-KMS, and uploads
    asking for another tier than their prefix's. An upload that names no encryption is encrypted
    with the bucket's default (SSE-KMS with the regional key), so no object is ever stored
    unencrypted."""
    objects = f"{bucket_arn}/*"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, objects],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyIncorrectEncryptionHeader",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": _present_and_not("s3:x-amz-server-side-encryption", "aws:kms"),
        },
    ]
    for expiry in expiries:
        if expiry.storage_class is None:
            continue
        statements.append(
            {
                "Sid": "DenyWrongTier" + "".join(p.title() for p in expiry.id.split("-")),
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{expiry.prefix}*",
                "Condition": _present_and_not("s3:x-amz-storage-class", expiry.storage_class),
            }
        )
    statements.extend(dict(s) for s in extra_statements)
    return policy_json(statements)


def lifecycle_rules(
    expiries: Sequence[Expiry], incomplete_multipart_days: int
) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """Expiration rules for current and noncurrent versions, plus housekeeping for the bucket."""
    rules = [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="housekeeping",
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
            abort_incomplete_multipart_upload=(
                aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=incomplete_multipart_days
                )
            ),
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                expired_object_delete_marker=True
            ),
        )
    ]
    for e in expiries:
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id=e.id,
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=e.prefix)
                if e.prefix
                else aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=e.expire_days)
                if e.expire_days is not None
                else None,
                noncurrent_version_expiration=(
                    aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=e.noncurrent_days
                    )
                    if e.noncurrent_days is not None
                    else None
                ),
            )
        )
    return rules


class SecureBucket(pulumi.ComponentResource):
    """Versioned bucket, SSE-KMS with bucket keys, every public-access block on, ACLs disabled
    (BucketOwnerEnforced), a bucket policy denying non-TLS requests and uploads asking for another
    encryption or tier, and lifecycle expirations. The bucket is protected and retained: removing
    it from the program never deletes it from AWS."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    versioning: aws.s3.BucketVersioning

    def __init__(
        self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:storage:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            name,
            bucket=args.bucket_name,
            force_destroy=False,
            tags={**args.tags, "reskflow:store": args.store, BACKUP_TAG_KEY: BACKUP_TAG_VALUE},
            opts=data_bearing(self),
        )
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=(
                        aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn
                        )
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, args.extra_statements or []).apply(
                lambda values: bucket_policy(values[0], args.expiries, values[1])
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access, ownership]),
        )
        if args.object_lock is not None:
            # Enabled on the existing versioned bucket by PutObjectLockConfiguration, so the
            # bucket is not replaced (``aws.s3.Bucket(object_lock_enabled=...)`` would be).
            # https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html
            # Once enabled it can never be disabled, so it is kept like data.
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=bucket.id,
                object_lock_enabled="Enabled",
                rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                    default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                        mode=args.object_lock.mode, days=args.object_lock.days
                    )
                ),
                opts=data_bearing(self, depends_on=[self.versioning]),
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=lifecycle_rules(args.expiries, args.incomplete_multipart_days),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.versioning]),
        )
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.register_outputs({"bucket_name": self.bucket_name, "bucket_arn": self.bucket_arn})
