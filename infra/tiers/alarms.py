"""The regional alarm topics and every alarm of the stack: the other tiers' requests, the
replication alarms that cannot stay silent, the seed's alert rules, the endpoint canaries, and the
cost guard rails (docs/monitoring.md lists them all)."""

from __future__ import annotations

import pulumi

from components.alarms import (
    ROUTE53_METRICS_REGION,
    AlarmSpec,
    Alerts,
    AlertsArgs,
    health_check_alarm,
    s3_replication_alarms,
)
from components.alert_rules import (
    application_rules,
    infrastructure_rules,
    rds_not_replicating,
    redis_global_lag,
    redis_member_clusters,
)
from components.budgets import CostGuard, CostGuardArgs
from components.canaries import PREFIX as CANARY_PREFIX
from components.canaries import CanariesArgs, EndpointCanaries, canary_alarms, canary_name
from components.dashboards import Dashboards, DashboardsArgs
from components.readiness_schedule import (
    ReadinessSchedule,
    ReadinessScheduleArgs,
    readiness_alarms,
)
from components.replication import replication_rule_id
from components.traffic import FailoverEndpoint
from infra.settings import (
    DOCDB_GLOBAL_IDENTIFIER,
    REPLICATION_TIME_MINUTES,
    StackSettings,
    docdb_cluster_identifier,
    redis_replication_group_id,
)
from infra.tiers.data import DataTier
from infra.tiers.encryption import Encryption


def canary_targets(settings: StackSettings) -> dict[str, str]:
    """Canary name -> URL: the failover name and both regional endpoints (the peer's when
    configured), watched from this region whichever region is active."""
    a, path = settings.alarms, settings.alarms.health_path
    targets = {
        canary_name("api"): f"https://{settings.traffic.record_name}{path}",
        canary_name(settings.region): f"https://{settings.traffic.endpoint}{path}",
    }
    if a.peer_endpoint is not None:
        targets[canary_name(settings.peer_region)] = f"https://{a.peer_endpoint}{path}"
    return targets


def readiness_targets(settings: StackSettings) -> dict[str, object]:
    """What the scheduled probe checks in this region: membership of the global DocumentDB
    cluster and Redis Global Datastore (where the id is known). Secrets, ECR images and node
    group capacity are checked when their names are configured (not yet: docs/monitoring.md)."""
    targets: dict[str, object] = {
        "docdbGlobalCluster": DOCDB_GLOBAL_IDENTIFIER,
        "docdbCluster": docdb_cluster_identifier(settings.region),
    }
    datastore = settings.database.cache_global_datastore_id
    if datastore is not None:
        targets["redisGlobalDatastore"] = datastore
        targets["redisGroup"] = redis_replication_group_id(settings.region)
    return targets


def data_alarms(settings: StackSettings, data: DataTier) -> list[AlarmSpec]:
    """Replication alarms beyond the lag thresholds (RDS not replicating, Redis Global Datastore
    lag) and the seed's infrastructure rules for this region's stores."""
    db, a = settings.database, settings.alarms
    group = redis_replication_group_id(settings.region)
    specs: list[AlarmSpec] = []
    if db.source_arn is not None:
        specs.append(rds_not_replicating(data.postgres.identifier))
    if settings.region != db.cache_primary_region:
        specs.append(
            redis_global_lag(
                group,
                db.redis.nodes_per_region,
                a.lag_threshold_seconds,
                a.lag_period_seconds,
                a.lag_evaluation_periods,
            )
        )
    specs += infrastructure_rules(
        data.postgres.identifier,
        db.postgres.allocated_storage_gb,
        docdb_cluster_identifier(settings.region),
        redis_member_clusters(group, db.redis.nodes_per_region),
    )
    return specs


def build_alarms(
    settings: StackSettings,
    regional: pulumi.ResourceOptions,
    encryption: Encryption,
    api: FailoverEndpoint,
    lag_alarms: list[AlarmSpec],
    data: DataTier | None = None,
    logs_bucket: pulumi.Resource | None = None,
) -> Alerts:
    """The regional alarm topics, S3 replication and health-check alarms, the replication-lag
    alarms the data tiers ask for, the seed's rules, endpoint canaries, cost guard rails and
    AWS Backup failure events."""
    a = settings.alarms
    alarms = list(lag_alarms)
    if data is not None:
        alarms += data_alarms(settings, data)
    alarms += application_rules(settings.region, settings.role == "active")
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
        # Route 53 publishes health-check metrics in us-east-1 only; the canaries below watch
        # the endpoints from every region.
        alarms.append(
            health_check_alarm("api-health-check", api.health_check_id, not settings.drained)
        )
    targets = canary_targets(settings)
    EndpointCanaries(
        "canaries",
        CanariesArgs(
            region=settings.region,
            account_id=settings.account_id,
            kms_key_arn=encryption.key.key_arn,
            bucket_name=settings.bucket_name("logs", settings.region),
            prefix=CANARY_PREFIX,
            targets=targets,
            rate_minutes=a.canary_rate_minutes,
        ),
        # The script and artifacts live in the logs bucket: create it first.
        opts=pulumi.ResourceOptions.merge(
            regional,
            pulumi.ResourceOptions(depends_on=[] if logs_bucket is None else [logs_bucket]),
        ),
    )
    alarms += canary_alarms(targets, a.canary_rate_minutes)
    probe = readiness_targets(settings)
    ReadinessSchedule(
        "readiness",
        ReadinessScheduleArgs(settings.region, settings.account_id, probe, a.canary_rate_minutes),
        opts=regional,
    )
    alarms += readiness_alarms(probe, a.canary_rate_minutes)
    if a.budget_monthly_usd is not None:
        CostGuard(
            "costs",
            CostGuardArgs(
                stack=settings.stack,
                monthly_limit_usd=a.budget_monthly_usd,
                thresholds_percent=a.budget_alert_percents,
                forecast_percent=a.budget_forecast_percent,
                emails=a.emails,
                anomaly_threshold_usd=a.anomaly_threshold_usd,
            ),
            opts=regional,
        )
    group = redis_replication_group_id(settings.region)
    Dashboards(
        "dashboards",
        DashboardsArgs(
            region=settings.region,
            account_id=settings.account_id,
            alarms=alarms,
            postgres_identifier=None if data is None else data.postgres.identifier,
            docdb_cluster=docdb_cluster_identifier(settings.region),
            redis_clusters=redis_member_clusters(group, settings.database.redis.nodes_per_region),
        ),
        opts=regional,
    )
    webhook = a.webhook_url
    return Alerts(
        "alerts",
        AlertsArgs(
            region=settings.region,
            account_id=settings.account_id,
            kms_key_arn=encryption.key.key_arn,
            emails=a.emails,
            webhook_url=None if webhook is None else pulumi.Output.secret(webhook),
            alarms=alarms,
        ),
        opts=regional,
    )
