"""Every stack output, exported in one place (``pulumi stack output`` reads them)."""

from __future__ import annotations

from typing import Any

import pulumi

from components.alarms import Alerts
from components.backup import BackupVault
from components.traffic import FailoverEndpoint
from infra.settings import DOCDB_GLOBAL_IDENTIFIER, StackSettings
from infra.settings.failover import serves_traffic
from infra.tiers.data import DataTier
from infra.tiers.edge import EdgeAccess
from infra.tiers.encryption import Encryption
from infra.tiers.failover import FACTS_OUTPUT, FailoverTier, PeerStack
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


def export_failover(
    settings: StackSettings,
    peer: PeerStack,
    failover: FailoverTier,
    facts: pulumi.Output[dict[str, Any]],
) -> None:
    """What the tool needs to execute a failover (docs/traffic-switch.md, "Outputs"), and the
    facts the peer stack reads through its stack reference."""
    pulumi.export(FACTS_OUTPUT, facts)
    switch, plan = failover.switch, failover.plan
    pulumi.export(
        "failover",
        {
            "trafficSwitch": settings.failover.traffic_mode,
            "regionSwitch": settings.failover.region_switch,
            "peerStack": peer.name,
            "recordHealthCheck": failover.record_check_source,
            "recordHealthCheckId": failover.record_health_check_id,
            "fenced": settings.failover.fence_data_stores,
            "servesTraffic": serves_traffic(settings),
            "regionSwitchPlanArn": plan.plan_arn if plan is not None else None,
            "regionSwitchPlanName": settings.failover.plan_name,
            "stepFunctionArns": failover.functions.function_arns
            if failover.functions is not None
            else {},
            "switchHealthCheckIds": switch.health_check_ids if switch is not None else {},
            "routingControlArns": switch.routing_control_arns if switch is not None else {},
            "clusterEndpoints": switch.cluster_endpoints if switch is not None else [],
            "notes": failover.notes,
        },
    )
    if failover.step_config is not None:
        pulumi.export("stepConfig", failover.step_config.apply(lambda c: c.to_json()))
    for note in failover.notes:
        pulumi.log.warn(note)


def export_edge(edge: EdgeAccess) -> None:
    """The distribution's id (the us-west-2 stack's ``reskflow:edgeDistributionId``, and what the
    CDN invalidation after a failover acts on) and its domain, in the owning stack."""
    if edge.distribution is not None:
        pulumi.export("edgeDistributionId", edge.distribution.distribution_id)
        pulumi.export("edgeDomainName", edge.distribution.domain_name)
