"""Every stack output, exported in one place (``pulumi stack output`` reads them)."""

from __future__ import annotations

import pulumi

from components.alarms import Alerts
from components.backup import BackupVault
from components.traffic import FailoverEndpoint
from infra.settings import DOCDB_GLOBAL_IDENTIFIER, StackSettings
from infra.tiers.data import DataTier
from infra.tiers.edge import EdgeAccess
from infra.tiers.encryption import Encryption
from infra.tiers.storage import Storage
from infra.tiers.workloads import WorkloadTier


def export_outputs(
    settings: StackSettings,
    encryption: Encryption,
    storage: Storage,
    data: DataTier,
    vault: BackupVault,
    api: FailoverEndpoint,
    alerts: Alerts,
    workloads: WorkloadTier | None,
) -> None:
    db = settings.database
    pulumi.export("region", settings.region)
    pulumi.export("peerRegion", settings.peer_region)
    pulumi.export("role", settings.role)
    pulumi.export("kmsKeyId", encryption.key.key_id)
    pulumi.export("kmsKeyArn", encryption.key.key_arn)
    pulumi.export("buckets", {name: b.bucket_name for name, b in storage.buckets.items()})
    if storage.replication is not None:
        pulumi.export("replicationRoleArn", storage.replication.role_arn)

    pulumi.export("dbGeneration", db.generation)
    pulumi.export(
        "postgres",
        {
            "role": "replica" if db.source_arn else "primary",
            "generation": db.generation,
            "identifier": data.postgres.identifier,
            "arn": data.postgres.arn,
            "endpoint": data.postgres.endpoint,
            "sourceArn": db.source_arn,
            "masterUserSecretArn": data.postgres.master_user_secret_arn,
            "retainedIdentifiers": data.postgres.retained_identifiers,
        },
    )
    pulumi.export(
        "redis",
        {
            "globalPrimaryRegion": db.cache_primary_region,
            "globalDatastoreId": data.cache.global_datastore_id,
            "arn": data.cache.arn,
            "primaryEndpoint": data.cache.primary_endpoint,
            "readerEndpoint": data.cache.reader_endpoint,
        },
    )
    pulumi.export(
        "docdb",
        {
            "globalPrimaryRegion": db.docdb_primary_region,
            "globalClusterIdentifier": DOCDB_GLOBAL_IDENTIFIER,
            "arn": data.documents.arn,
            "endpoint": data.documents.endpoint,
            "readerEndpoint": data.documents.reader_endpoint,
        },
    )
    if db.home:
        pulumi.export("cacheGlobalDatastoreId", data.cache.global_datastore_id)

    pulumi.export("backupVaultArn", vault.vault_arn)
    pulumi.export("healthCheckId", api.health_check_id)
    pulumi.export("alertsTopicArn", alerts.topic_arn)

    w = settings.workloads
    if workloads is not None and w is not None:
        pulumi.export(
            "workloads",
            {
                "namespace": workloads.namespace,
                "replicas": workloads.replicas,
                "degradedLevel": w.degraded_level,
                "backupJobs": dict(w.backup_schedules),
                "backupJobsSuspended": settings.role != "active",
            },
        )


def export_edge(edge: EdgeAccess) -> None:
    """The distribution's id (the us-west-2 stack's ``reskflow:edgeDistributionId``, and what the
    CDN invalidation after a failover acts on) and its domain, in the owning stack."""
    if edge.distribution is not None:
        pulumi.export("edgeDistributionId", edge.distribution.distribution_id)
        pulumi.export("edgeDomainName", edge.distribution.domain_name)
