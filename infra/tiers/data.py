"""The data tier: PostgreSQL (primary or replica, by role), Redis and DocumentDB."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.alarms import AlarmSpec
from components.cache import GlobalCache, GlobalCacheArgs
from components.database import (
    PostgresArgs,
    PostgresBackupCopy,
    PostgresBackupCopyArgs,
    PostgresDatabase,
)
from components.datanet import Placement
from components.docdb import DocumentCluster, DocumentClusterArgs
from infra.providers import secret_input
from infra.settings import (
    DOCDB_GLOBAL_IDENTIFIER,
    POSTGRES_IDENTIFIER_PREFIX,
    REDIS_GLOBAL_SUFFIX,
    StackSettings,
    docdb_cluster_identifier,
    redis_replication_group_id,
)
from infra.tiers.encryption import Encryption


@dataclass(frozen=True)
class DataTier:
    postgres: PostgresDatabase
    cache: GlobalCache
    documents: DocumentCluster
    lag_alarms: list[AlarmSpec]
    """Replication-lag alarms of the replicas this stack holds."""
    endpoints: dict[str, pulumi.Output[str]]
    """Host of this region's member of each store (the workloads use their own region's)."""

    @property
    def fence_security_group_ids(self) -> dict[str, pulumi.Output[str]]:
        """Store kind (the step contract's ``postgres``, ``docdb``, ``cache``) -> fence group."""
        return {
            "postgres": self.postgres.fence_security_group_id,
            "docdb": self.documents.fence_security_group_id,
            "cache": self.cache.fence_security_group_id,
        }


def build_data_tier(
    settings: StackSettings,
    regional: pulumi.ResourceOptions,
    encryption: Encryption,
) -> DataTier:
    """PostgreSQL (primary or replica, by role), Redis and DocumentDB (members of global stores,
    by home region); the failover and failback runbook is docs/database-failover.md."""
    db, region, key = settings.database, settings.region, encryption.key
    placement = Placement(
        db.network.vpc_id, db.network.private_subnet_ids, db.network.allowed_security_group_ids
    )
    pg = db.postgres
    postgres = PostgresDatabase(
        "postgres",
        PostgresArgs(
            name_prefix=POSTGRES_IDENTIFIER_PREFIX,
            generation=db.generation,
            source_arn=db.source_arn,
            retained_generations=db.retained_generations,
            instance_class=pg.instance_class,
            engine_version=pg.engine_version,
            allocated_storage_gb=pg.allocated_storage_gb,
            max_allocated_storage_gb=pg.max_allocated_storage_gb,
            backup_retention_days=pg.backup_retention_days,
            database_name=pg.database_name,
            master_username=pg.master_username,
            kms_key_arn=key.key_arn,
            placement=placement,
        ),
        opts=regional,
    )
    if settings.role == "active" and settings.peer_deployed and not settings.peer_lost:
        PostgresBackupCopy(
            "postgres-backups",
            PostgresBackupCopyArgs(
                postgres.arn,
                settings.peer_region,
                encryption.peer_key_arn,
                pg.backup_retention_days,
            ),
            opts=regional,
        )
    cache = GlobalCache(
        "redis",
        GlobalCacheArgs(
            replication_group_id=redis_replication_group_id(region),
            home=db.home,
            global_datastore_suffix=REDIS_GLOBAL_SUFFIX,
            global_datastore_id=db.cache_global_datastore_id,
            node_type=db.redis.node_type,
            engine_version=db.redis.engine_version,
            nodes=db.redis.nodes_per_region,
            snapshot_retention_days=db.redis.snapshot_retention_days,
            kms_key_arn=key.key_arn,
            auth_token=secret_input(db.cache_auth_token),
            placement=placement,
            fenced=settings.failover.fence_data_stores,
        ),
        opts=regional,
    )
    documents = DocumentCluster(
        "docdb",
        DocumentClusterArgs(
            cluster_identifier=docdb_cluster_identifier(region),
            home=db.home,
            global_cluster_identifier=DOCDB_GLOBAL_IDENTIFIER,
            engine_version=db.docdb.engine_version,
            parameter_group_family=db.docdb.parameter_group_family,
            instance_class=db.docdb.instance_class,
            instances=db.docdb.instances_per_region,
            backup_retention_days=db.docdb.backup_retention_days,
            kms_key_arn=key.key_arn,
            master_username=db.docdb.master_username if db.home else None,
            master_password=secret_input(db.docdb_master_password),
            placement=placement,
            fenced=settings.failover.fence_data_stores,
        ),
        opts=regional,
    )

    endpoints = {
        "postgres": postgres.address,
        "redis": cache.primary_endpoint,
        "mongodb": documents.endpoint,
    }
    return DataTier(
        postgres, cache, documents, replica_lag_alarms(settings, postgres.identifier), endpoints
    )


def replica_lag_alarms(
    settings: StackSettings, postgres_identifier: pulumi.Input[str]
) -> list[AlarmSpec]:
    """Lag alarms where this stack holds the receiving side: the PostgreSQL read replica (RDS
    `ReplicaLag`, seconds) and the secondary DocumentDB cluster (`GlobalClusterReplicationLag`,
    milliseconds). ElastiCache's `GlobalDatastoreReplicationLag` is not alarmed yet: its
    CloudWatch dimensions are not confirmed here (see docs/backup-and-traffic.md)."""
    db, alarms = settings.database, settings.alarms
    specs = []
    if db.source_arn is not None:
        specs.append(
            alarms.lag_alarm(
                "postgres-replica-lag",
                "AWS/RDS",
                "ReplicaLag",
                {"DBInstanceIdentifier": postgres_identifier},
            )
        )
    if settings.region != db.docdb_primary_region:
        specs.append(
            alarms.lag_alarm(
                "docdb-replication-lag",
                "AWS/DocDB",
                "GlobalClusterReplicationLag",
                {"DBClusterIdentifier": docdb_cluster_identifier(settings.region)},
                milliseconds=True,
            )
        )
    return specs
