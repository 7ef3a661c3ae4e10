"""Composition root of the ReskFlow DR program (one stack per region).

Reads the stack config once into typed settings, creates the stack's regional AWS provider, and
builds each tier from components with plain values. The Pulumi language host runs this file with
``runpy.run_path("infra/")``; ``reskflow-dr preview`` runs it the same way under mocks.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

# The language host puts infra/ on sys.path; the components live beside it.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import pulumi  # noqa: E402
import pulumi_aws as aws  # noqa: E402
import pulumi_kubernetes as k8s  # noqa: E402

from components.alarms import (  # noqa: E402
    ROUTE53_METRICS_REGION,
    AlarmSpec,
    Alerts,
    AlertsArgs,
    health_check_alarm,
    s3_replication_alarms,
)
from components.backup import (  # noqa: E402
    AuditTargets,
    BackupProtection,
    BackupProtectionArgs,
    BackupRule,
    BackupVault,
    BackupVaultArgs,
    VaultLock,
)
from components.backup_jobs import (  # noqa: E402
    DUMPS,
    BackupJobs,
    BackupJobsArgs,
    BackupJobSpec,
    stale_backup_alarms,
)
from components.cache import GlobalCache, GlobalCacheArgs  # noqa: E402
from components.common import BACKUP_TAG_KEY, BACKUP_TAG_VALUE  # noqa: E402
from components.database import (  # noqa: E402
    PostgresArgs,
    PostgresBackupCopy,
    PostgresBackupCopyArgs,
    PostgresDatabase,
)
from components.datanet import Placement  # noqa: E402
from components.docdb import DocumentCluster, DocumentClusterArgs  # noqa: E402
from components.kms import RegionalKey, RegionalKeyArgs  # noqa: E402
from components.replication import (  # noqa: E402
    BucketReplication,
    BucketReplicationArgs,
    ReplicatedPair,
    replication_rule_id,
)
from components.storage import SecureBucket, SecureBucketArgs  # noqa: E402
from components.traffic import FailoverEndpoint, FailoverEndpointArgs  # noqa: E402
from components.workloads import SERVICES, ServiceDeployment, Workloads, WorkloadsArgs  # noqa: E402
from infra.settings import (  # noqa: E402
    DOCDB_GLOBAL_IDENTIFIER,
    KMS_PRIMARY_REGION,
    POSTGRES_IDENTIFIER_PREFIX,
    REDIS_GLOBAL_SUFFIX,
    REPLICATION_TIME_MINUTES,
    ConfigError,
    Secret,
    StackSettings,
    WorkloadSettings,
    load_settings,
)

#: Backup schedules (UTC). Daily and weekly share a start: on Sundays AWS Backup takes one
#: backup for the overlapping rules, with the longer (weekly) retention. The continuous rule
#: starts earlier so it never overlaps them. Everything finishes before SOP-001's 08:00 check.
CONTINUOUS_SCHEDULE = "cron(0 3 ? * * *)"
DAILY_SCHEDULE = "cron(0 5 ? * * *)"
WEEKLY_SCHEDULE = "cron(0 5 ? * SUN *)"
BACKUP_START_WINDOW_MINUTES = 60


def read_config() -> dict[str, str]:
    """The stack's whole config map, as the engine passes it to the program."""
    merged = dict(pulumi.runtime.config.get_config_env())
    merged.update(pulumi.runtime.config.CONFIG.get())
    return {key: str(value) for key, value in merged.items()}


def regional_provider(settings: StackSettings) -> aws.Provider:
    """The only AWS provider of the stack: default providers are disabled in Pulumi.yaml."""
    return aws.Provider(
        f"aws-{settings.region}",
        region=settings.region,
        allowed_account_ids=[settings.account_id],
        profile=settings.aws_profile,
        default_tags=aws.ProviderDefaultTagsArgs(
            tags={
                **settings.tags,
                "project": settings.project,
                "stack": settings.stack,
                "managed-by": "pulumi",
            }
        ),
    )


def build_backups(
    settings: StackSettings, regional: pulumi.ResourceOptions, key: RegionalKey
) -> BackupVault:
    """The regional vault and the plan copying snapshots to the peer region's vault (once the
    peer stack, and so its vault, exists: a copy to a missing vault fails every job)."""
    b = settings.backup

    def copy(days: int) -> int | None:
        return days if settings.peer_deployed else None

    lock = (
        None
        if b.lock.mode == "none"
        else VaultLock(
            b.lock.min_retention_days, b.lock.max_retention_days, b.lock.changeable_for_days
        )
    )
    if b.lock.mode == "compliance":
        pulumi.log.warn(
            f"vault {settings.vault_name(settings.region)}: compliance lock becomes immutable "
            f"{b.lock.changeable_for_days} days after it is applied; no one, AWS included, can "
            "remove it or shorten a retention afterwards"
        )
    vault = BackupVault(
        "backup-vault",
        BackupVaultArgs(settings.vault_name(settings.region), key.key_arn, lock),
        opts=regional,
    )
    BackupProtection(
        "backup",
        BackupProtectionArgs(
            region=settings.region,
            name_prefix=f"{settings.project}-dr",
            vault_name=vault.vault_name,
            vault_arn=vault.vault_arn,
            copy_region=b.copy_region,
            copy_vault_arn=settings.vault_arn(b.copy_region),
            rules=[
                BackupRule("continuous", CONTINUOUS_SCHEDULE, b.continuous_days, continuous=True),
                BackupRule(
                    "daily", DAILY_SCHEDULE, b.daily_days, copy_days=copy(b.daily_copy_days)
                ),
                BackupRule(
                    "weekly", WEEKLY_SCHEDULE, b.weekly_days, copy_days=copy(b.weekly_copy_days)
                ),
            ],
            selection_tag=(BACKUP_TAG_KEY, BACKUP_TAG_VALUE),
            audit=AuditTargets(
                required_frequency_days=1,
                required_retention_days=b.daily_days,
                max_recovery_point_age_hours=24 + BACKUP_START_WINDOW_MINUTES // 60,
                max_restore_minutes=b.restore_time_target_minutes,
            ),
            lock=lock,
            start_window_minutes=BACKUP_START_WINDOW_MINUTES,
        ),
        opts=regional,
    )
    return vault


def build_traffic(settings: StackSettings, regional: pulumi.ResourceOptions) -> FailoverEndpoint:
    """This region's health check and its failover record (ownership fixed by region)."""
    t = settings.traffic
    return FailoverEndpoint(
        "api",
        FailoverEndpointArgs(
            region=settings.region,
            zone_id=t.hosted_zone_id,
            record_name=t.record_name,
            endpoint=t.endpoint,
            failover=settings.failover_role,
            drained=settings.drained,
            request_interval=t.request_interval,
            failure_threshold=t.failure_threshold,
            ttl=t.ttl,
            checker_regions=t.checker_regions,
        ),
        opts=regional,
    )


def build_alarms(
    settings: StackSettings,
    regional: pulumi.ResourceOptions,
    key: RegionalKey,
    api: FailoverEndpoint,
    lag_alarms: list[AlarmSpec],
) -> Alerts:
    """The regional alarm topic, S3 replication and health-check alarms, the replication-lag
    alarms the data tiers ask for, and AWS Backup failure events."""
    alarms = list(lag_alarms)
    if settings.peer_deployed:
        for store in settings.stores:
            alarms += s3_replication_alarms(
                store.key,
                settings.bucket_name(store.key, settings.region),
                settings.bucket_name(store.key, settings.peer_region),
                replication_rule_id(settings.peer_region),
                REPLICATION_TIME_MINUTES * 60,
            )
    if settings.region == ROUTE53_METRICS_REGION:
        # Route 53 publishes health-check metrics in us-east-1 only: the us-west-2 stack has no
        # provider there (and must deploy while it is down), so only this stack alarms.
        alarms.append(
            health_check_alarm("api-health-check", api.health_check_id, not settings.drained)
        )
    webhook = settings.alarms.webhook_url
    return Alerts(
        "alerts",
        AlertsArgs(
            region=settings.region,
            account_id=settings.account_id,
            kms_key_arn=key.key_arn,
            emails=settings.alarms.emails,
            webhook_url=None if webhook is None else pulumi.Output.secret(webhook),
            alarms=alarms,
        ),
        opts=regional,
    )


def _secret_input(secret: Secret | None) -> pulumi.Output[str] | None:
    """A secret config value as a secret Output: the engine stores and shows it encrypted."""
    return None if secret is None else pulumi.Output.secret(secret.value)


def build_data_tier(
    settings: StackSettings,
    regional: pulumi.ResourceOptions,
    key: RegionalKey,
    peer_key_arn: pulumi.Input[str],
) -> tuple[list[AlarmSpec], dict[str, pulumi.Output[str]]]:
    """PostgreSQL (primary or replica, by role), Redis and DocumentDB (members of global stores,
    by home region); the failover and failback runbook is docs/database-failover.md. Returns the
    replication-lag alarms of the replicas this stack holds, and the host name of this region's
    member of each store (the workloads connect to their own region's)."""
    db, region = settings.database, settings.region
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
                postgres.arn, settings.peer_region, peer_key_arn, pg.backup_retention_days
            ),
            opts=regional,
        )
    cache = GlobalCache(
        "redis",
        GlobalCacheArgs(
            replication_group_id=f"{REDIS_GLOBAL_SUFFIX}-{region}",
            home=db.home,
            global_datastore_suffix=REDIS_GLOBAL_SUFFIX,
            global_datastore_id=db.cache_global_datastore_id,
            node_type=db.redis.node_type,
            engine_version=db.redis.engine_version,
            nodes=db.redis.nodes_per_region,
            snapshot_retention_days=db.redis.snapshot_retention_days,
            kms_key_arn=key.key_arn,
            auth_token=_secret_input(db.cache_auth_token),
            placement=placement,
        ),
        opts=regional,
    )
    documents = DocumentCluster(
        "docdb",
        DocumentClusterArgs(
            cluster_identifier=f"{DOCDB_GLOBAL_IDENTIFIER}-{region}",
            home=db.home,
            global_cluster_identifier=DOCDB_GLOBAL_IDENTIFIER,
            engine_version=db.docdb.engine_version,
            parameter_group_family=db.docdb.parameter_group_family,
            instance_class=db.docdb.instance_class,
            instances=db.docdb.instances_per_region,
            backup_retention_days=db.docdb.backup_retention_days,
            kms_key_arn=key.key_arn,
            master_username=db.docdb.master_username if db.home else None,
            master_password=_secret_input(db.docdb_master_password),
            placement=placement,
        ),
        opts=regional,
    )

    pulumi.export("dbGeneration", db.generation)
    pulumi.export(
        "postgres",
        {
            "role": "replica" if db.source_arn else "primary",
            "generation": db.generation,
            "identifier": postgres.identifier,
            "arn": postgres.arn,
            "endpoint": postgres.endpoint,
            "sourceArn": db.source_arn,
            "masterUserSecretArn": postgres.master_user_secret_arn,
            "retainedIdentifiers": postgres.retained_identifiers,
        },
    )
    pulumi.export(
        "redis",
        {
            "globalPrimaryRegion": db.cache_primary_region,
            "globalDatastoreId": cache.global_datastore_id,
            "arn": cache.arn,
            "primaryEndpoint": cache.primary_endpoint,
            "readerEndpoint": cache.reader_endpoint,
        },
    )
    pulumi.export(
        "docdb",
        {
            "globalPrimaryRegion": db.docdb_primary_region,
            "globalClusterIdentifier": DOCDB_GLOBAL_IDENTIFIER,
            "arn": documents.arn,
            "endpoint": documents.endpoint,
            "readerEndpoint": documents.reader_endpoint,
        },
    )
    if db.home:
        pulumi.export("cacheGlobalDatastoreId", cache.global_datastore_id)
    endpoints = {
        "postgres": postgres.address,
        "redis": cache.primary_endpoint,
        "mongodb": documents.endpoint,
    }
    return replica_lag_alarms(settings, postgres.identifier), endpoints


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
                {"DBClusterIdentifier": f"{DOCDB_GLOBAL_IDENTIFIER}-{settings.region}"},
                milliseconds=True,
            )
        )
    return specs


def build(settings: StackSettings) -> None:
    provider = regional_provider(settings)
    regional = pulumi.ResourceOptions(providers=[provider])

    key = RegionalKey(
        "kms",
        RegionalKeyArgs(
            region=settings.region,
            account_id=settings.account_id,
            alias="reskflow-dr",
            primary_key_arn=None
            if settings.holds_kms_primary
            else settings.kms_key_arn(KMS_PRIMARY_REGION, str(settings.kms_primary_key_id)),
        ),
        opts=regional,
    )
    peer_key_arn = key.key_id.apply(
        lambda key_id: settings.kms_key_arn(settings.peer_region, key_id)
    )

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
            ),
            opts=regional,
        )

    if settings.peer_deployed:
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
                destination_key_arn=peer_key_arn,
                replication_minutes=REPLICATION_TIME_MINUTES,
            ),
            opts=regional,
        )
        pulumi.export("replicationRoleArn", replication.role_arn)

    lag_alarms, endpoints = build_data_tier(settings, regional, key, peer_key_arn)
    vault = build_backups(settings, regional, key)
    api = build_traffic(settings, regional)
    alerts = build_alarms(settings, regional, key, api, [*lag_alarms, *workload_alarms(settings)])
    pulumi.export("backupVaultArn", vault.vault_arn)
    pulumi.export("healthCheckId", api.health_check_id)
    pulumi.export("alertsTopicArn", alerts.topic_arn)
    build_workloads(
        settings,
        provider,
        key.key_arn,
        endpoints,
        alerts.topic_arn,
    )

    pulumi.export("region", settings.region)
    pulumi.export("peerRegion", settings.peer_region)
    pulumi.export("role", settings.role)
    pulumi.export("kmsKeyId", key.key_id)
    pulumi.export("kmsKeyArn", key.key_arn)
    pulumi.export("buckets", {name: b.bucket_name for name, b in buckets.items()})


# --------------------------------------------------------------------------------------------
# Kubernetes workloads
# --------------------------------------------------------------------------------------------


def kubernetes_provider(settings: StackSettings, workloads: WorkloadSettings) -> k8s.Provider:
    """The stack's only Kubernetes provider, for the region's cluster (default providers are
    disabled). A kubeconfig from config travels as a secret Output (encrypted in state); without
    one the provider reads the runner's kubeconfig, pinned to the stack's context. The cluster
    identifier is the cluster's OIDC issuer: rotating credentials updates the provider instead of
    replacing every object, and a new cluster replaces them."""
    return k8s.Provider(
        f"k8s-{settings.region}",
        kubeconfig=_secret_input(workloads.kubeconfig),
        context=workloads.kube_context,
        cluster_identifier=workloads.oidc_issuer,
        enable_server_side_apply=True,
    )


def tier_storage_classes(settings: StackSettings) -> dict[str, str]:
    """Storage class the backups bucket's policy requires per tier prefix (daily, weekly)."""
    backups = next(store for store in settings.stores if store.key == "backups")
    return {e.prefix.rstrip("/"): e.storage_class for e in backups.expiries if e.storage_class}


def backup_job_specs(settings: StackSettings) -> list[BackupJobSpec]:
    """The enabled backup jobs with their schedule, tool image and the tier's storage class."""
    w = settings.workloads
    if w is None:
        return []
    storage_classes = tier_storage_classes(settings)
    return [
        BackupJobSpec(
            name=name,
            schedule=schedule,
            image=w.backup_images.for_engine(DUMPS[name].engine),
            storage_class=storage_classes[DUMPS[name].tier],
        )
        for name, schedule in w.backup_schedules.items()
    ]


def workload_alarms(settings: StackSettings) -> list[AlarmSpec]:
    """Missing-success alarms of the backup jobs, for the alarms tier."""
    return stale_backup_alarms(backup_job_specs(settings), settings.role == "active")


def build_workloads(
    settings: StackSettings,
    aws_provider: aws.Provider,
    kms_key_arn: pulumi.Input[str],
    database_endpoints: Mapping[str, pulumi.Input[str]],
    alert_topic_arn: pulumi.Input[str],
) -> None:
    """Services sized for the role, degraded-mode config and backup CronJobs (when the stack
    names a cluster)."""
    w = settings.workloads
    if w is None:
        return
    if w.oidc_region not in (None, settings.region):
        pulumi.log.warn(
            f"reskflow:clusterOidcProviderArn names a cluster in {w.oidc_region}: the backup jobs "
            f"run on the {settings.region} cluster and cannot assume roles that trust another one"
        )
    cluster = kubernetes_provider(settings, w)
    configured = {s.name: s for s in w.services}
    workloads = Workloads(
        "workloads",
        WorkloadsArgs(
            namespace=w.namespace,
            region=settings.region,
            role=settings.role,
            services=[
                ServiceDeployment(
                    spec=spec,
                    image=configured[spec.name].image,
                    replicas=w.replicas_for(configured[spec.name], settings.role),
                    max_replicas=configured[spec.name].max_replicas,
                )
                for spec in SERVICES
            ],
            database_endpoints=database_endpoints,
            postgres_database=settings.database.postgres.database_name,
            degraded_level=w.degraded_level,
        ),
        opts=pulumi.ResourceOptions(providers=[cluster]),
    )
    BackupJobs(
        "backup-jobs",
        BackupJobsArgs(
            namespace=workloads.namespace,
            region=settings.region,
            active=settings.role == "active",
            jobs=backup_job_specs(settings),
            bucket_name=settings.bucket_name("backups", settings.region),
            kms_key_arn=kms_key_arn,
            database_endpoints=database_endpoints,
            postgres_database=settings.database.postgres.database_name,
            alert_topic_arn=alert_topic_arn,
            oidc_provider_arn=w.oidc_provider_arn,
            oidc_issuer=w.oidc_issuer,
            uploader_image=w.backup_images.aws_cli,
        ),
        opts=pulumi.ResourceOptions(providers=[aws_provider, cluster]),
    )
    pulumi.export(
        "workloads",
        {
            "namespace": workloads.namespace,
            "replicas": {name: w.replicas_for(s, settings.role) for name, s in configured.items()},
            "degradedLevel": w.degraded_level,
            "backupJobs": dict(w.backup_schedules),
            "backupJobsSuspended": settings.role != "active",
        },
    )


def main() -> None:
    try:
        # Which keys are secret comes from the runtime (load_settings' default).
        settings = load_settings(read_config(), pulumi.get_stack(), pulumi.get_project())
    except ConfigError as err:
        # RunError ends the program with this one line and no traceback.
        raise pulumi.RunError(str(err)) from None
    build(settings)


main()
