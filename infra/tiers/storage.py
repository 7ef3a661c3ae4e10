"""S3 data stores: one encrypted bucket per store in this region, replicated to the peer's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.replication import BucketReplication, BucketReplicationArgs, ReplicatedPair
from components.storage import SecureBucket, SecureBucketArgs
from infra.settings import REPLICATION_TIME_MINUTES, StackSettings
from infra.tiers.encryption import Encryption


@dataclass(frozen=True)
class Storage:
    buckets: dict[str, SecureBucket]
    replication: BucketReplication | None
    """None until the peer's buckets exist (``peerDeployed``)."""


def build_storage(
    settings: StackSettings,
    regional: pulumi.ResourceOptions,
    encryption: Encryption,
    extra_statements: Mapping[str, pulumi.Input[list[dict[str, Any]]]] | None = None,
) -> Storage:
    """``extra_statements``: bucket policy statements added to a store's bucket, by store."""
    key = encryption.key
    buckets: dict[str, SecureBucket] = {}
    for store in settings.stores:
        buckets[store.key] = SecureBucket(
            f"s3-{store.key}",
            SecureBucketArgs(
                bucket_name=settings.bucket_name(store.key, settings.region),
                kms_key_arn=key.key_arn,
                store=store.key,
                expiries=store.expiries,
                incomplete_multipart_days=settings.retention.incomplete_multipart_days,
                extra_statements=(extra_statements or {}).get(store.key),
            ),
            opts=regional,
        )
    if not settings.peer_deployed:
        return Storage(buckets, None)
    replication = BucketReplication(
        "s3-replication",
        BucketReplicationArgs(
            source_region=settings.region,
            destination_region=settings.peer_region,
            account_id=settings.account_id,
            pairs=[
                ReplicatedPair(
                    store=store,
                    source_bucket=bucket.bucket_name,
                    source_arn=settings.bucket_arn(store, settings.region),
                    destination_arn=settings.bucket_arn(store, settings.peer_region),
                    versioning=bucket.versioning,
                )
                for store, bucket in buckets.items()
            ],
            source_key_arn=key.key_arn,
            destination_key_arn=encryption.peer_key_arn,
            replication_minutes=REPLICATION_TIME_MINUTES,
        ),
        opts=regional,
    )
    return Storage(buckets, replication)
