"""S3 data stores: one encrypted bucket per store in this region, replicated to the peer's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.replication import BucketReplication, BucketReplicationArgs, ReplicatedPair
from components.storage import ObjectLock, SecureBucket, SecureBucketArgs
from infra.settings import REPLICATION_TIME_MINUTES, StackSettings
from infra.tiers.encryption import Encryption


@dataclass(frozen=True)
class Storage:
    buckets: dict[str, SecureBucket]
    replication: BucketReplication | None
    """None until the peer's buckets exist (``peerDeployed``)."""


#: The store holding the database dumps: Object Lock in both regions (replicating locked
#: objects needs Object Lock on the destination as well).
LOCKED_STORE = "backups"


def _object_lock(settings: StackSettings, store: str) -> ObjectLock | None:
    """Daily dumps are locked by the bucket default; the weekly job extends its own dumps."""
    if store != LOCKED_STORE:
        return None
    return ObjectLock(settings.backup.object_lock.mode, settings.retention.daily_backups_days)


def weekly_lock(settings: StackSettings, tier: str) -> dict[str, Any]:
    """Object Lock a dump job sets itself: the weekly fulls outlast the bucket's daily default."""
    if tier != "weekly":
        return {}
    return {
        "lock_days": settings.retention.weekly_backups_days,
        "lock_mode": settings.backup.object_lock.mode,
    }


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
                object_lock=_object_lock(settings, store.key),
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
