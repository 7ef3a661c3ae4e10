"""The seed's alert rules ("Alert Configuration", operations document) and the replication alarms
that cannot stay silent, as :class:`AlarmSpec` values.

Infrastructure rules read the metrics AWS publishes (RDS, ElastiCache, DocumentDB). Application
and business rules read the metric contract the services publish in :data:`APP_NAMESPACE`
(docs/monitoring.md lists the metrics, units and dimensions). CloudWatch rather than Amazon
Managed Service for Prometheus: the alarms must live in each region's own CloudWatch, next to the
topics they notify and the AWS metrics they are combined with, with no workspace to keep alive in a
region that is down; the services' Prometheus exporters can keep feeding Grafana beside it.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from components.alarms import AlarmSpec, MetricQuery
from components.degraded_mode import AUTO_TRIGGERS

#: CloudWatch namespace of the services' metric contract (docs/monitoring.md).
APP_NAMESPACE = "ReskFlow/Application"

#: The services' metric contract: metric -> (unit, meaning); every metric has one dimension,
#: ``Region`` (the region the service runs in). docs/monitoring.md is the reference.
CONTRACT: dict[str, tuple[str, str]] = {
    "Requests": ("Count", "API requests served"),
    "Errors": ("Count", "API requests answered with a 5xx"),
    "Latency": ("Milliseconds", "API response time, one value per request"),
    "PaymentAttempts": ("Count", "payments sent to the gateway"),
    "PaymentFailures": ("Count", "payments the gateway declined for a technical reason"),
    "OrdersPlaced": ("Count", "orders placed"),
    "OrdersCancelled": ("Count", "orders cancelled"),
    "Revenue": ("None", "order value placed, in the account currency"),
    "ActiveUsers": ("Count", "users with a session in the last 5 minutes"),
}

#: Business hours (UTC, Monday to Friday) of the low-order-volume rule. CloudWatch alarms have no
#: schedule: the rule uses the metric math functions DAY() (1 = Monday) and HOUR() (0-23, UTC),
#: https://aws.amazon.com/blogs/mt/enhance-cloudwatch-metrics-with-metric-math-functions/
BUSINESS_HOURS_UTC = (9, 21)


def degraded_level_for(trigger: str, value: int) -> str:
    """The degraded-mode level whose automatic trigger is ``trigger >= value`` (seed values)."""
    return next(level for level, t in AUTO_TRIGGERS.items() if t[trigger] == value)


def _ratio_alarm(
    name: str,
    description: str,
    numerator: str,
    denominator: str,
    dimensions: Mapping[str, str],
    threshold_percent: float,
    evaluation_periods: int,
    severity: str,
) -> AlarmSpec:
    """``100 * numerator / denominator`` above a percentage, one-minute periods; no traffic is
    no data and does not alarm (the canaries and the order-volume rule cover silence)."""
    queries = (
        MetricQuery(
            "num", namespace=APP_NAMESPACE, metric_name=numerator, dimensions=dimensions, stat="Sum"
        ),
        MetricQuery(
            "den",
            namespace=APP_NAMESPACE,
            metric_name=denominator,
            dimensions=dimensions,
            stat="Sum",
        ),
        MetricQuery(
            "ratio",
            expression="100 * num / den",
            return_data=True,
            label=f"{numerator} / {denominator} (%)",
        ),
    )
    return AlarmSpec(
        name=name,
        description=description,
        namespace=APP_NAMESPACE,
        metric_name=f"{numerator}/{denominator}",
        dimensions=dimensions,
        statistic="Sum",
        comparison="GreaterThanThreshold",
        threshold=threshold_percent,
        evaluation_periods=evaluation_periods,
        severity="critical" if severity == "critical" else "warning",
        queries=queries,
    )


def application_rules(region: str, active: bool) -> list[AlarmSpec]:
    """High error rate, slow response (p95), payment failures, low order volume (business hours)
    and high cancellation rate, from the services' metric contract in this region. Only the
    active region takes orders: the passive region's low-order-volume alarm is declared (it is
    ready when the roles switch) with its actions off."""
    dims = {"Region": region}
    error_level = degraded_level_for("error_rate", 5)
    start, end = BUSINESS_HOURS_UTC
    orders = (
        MetricQuery(
            "orders",
            namespace=APP_NAMESPACE,
            metric_name="OrdersPlaced",
            dimensions=dims,
            stat="Sum",
        ),
        MetricQuery("filled", expression="FILL(orders, 0)"),
        MetricQuery(
            "business",
            expression=f"IF(DAY(filled) < 6 AND HOUR(filled) >= {start} AND "
            f"HOUR(filled) < {end}, filled, 10)",
            return_data=True,
            label="orders per minute in business hours (10 outside them)",
        ),
    )
    return [
        _ratio_alarm(
            "app-high-error-rate",
            f"Seed rule high_error_rate: error rate > 5 % for 2 min (critical). Action: enable "
            f"degraded mode: set reskflow:degradedLevel to {error_level} (the seed's automatic "
            f"trigger for a 5 % error rate).",
            "Errors",
            "Requests",
            dims,
            5,
            2,
            "critical",
        ),
        AlarmSpec(
            name="app-slow-response",
            description="Seed rule slow_response: p95 latency > 2000 ms for 5 min (warning). "
            "Action: check the database, scale the services.",
            namespace=APP_NAMESPACE,
            metric_name="Latency",
            dimensions=dims,
            statistic="p95",
            comparison="GreaterThanThreshold",
            threshold=2000,
            evaluation_periods=5,
            severity="warning",
            queries=(
                MetricQuery(
                    "p95",
                    namespace=APP_NAMESPACE,
                    metric_name="Latency",
                    dimensions=dims,
                    stat="p95",
                    return_data=True,
                ),
            ),
        ),
        _ratio_alarm(
            "app-payment-failures",
            "Seed rule payment_failures: payment failure rate > 2 % for 1 min (critical). "
            "Action: check the payment gateway, fail over.",
            "PaymentFailures",
            "PaymentAttempts",
            dims,
            2,
            1,
            "critical",
        ),
        AlarmSpec(
            name="business-low-order-volume",
            description=f"Seed rule low_order_volume: orders per minute < 10 for 15 min in "
            f"business hours (Mon-Fri {start}:00-{end}:00 UTC) (warning). Action: check "
            "marketing campaigns.",
            namespace=APP_NAMESPACE,
            metric_name="OrdersPlaced",
            dimensions=dims,
            statistic="Sum",
            comparison="LessThanThreshold",
            threshold=10,
            evaluation_periods=15,
            severity="warning",
            actions_enabled=active,
            queries=orders,
        ),
        _ratio_alarm(
            "business-high-cancellation",
            "Seed rule high_cancellation: cancellation rate > 10 % for 30 min (warning). "
            "Action: investigate the user experience.",
            "OrdersCancelled",
            "OrdersPlaced",
            dims,
            10,
            30,
            "warning",
        ),
    ]


def _infra(
    name: str,
    rule: str,
    namespace: str,
    metric: str,
    dimensions: Mapping[str, pulumi.Input[str]],
    comparison: str,
    threshold: float,
    minutes: int,
    severity: str,
    what: str,
) -> AlarmSpec:
    return AlarmSpec(
        name=name,
        description=f"Seed rule {rule}: {what}",
        namespace=namespace,
        metric_name=metric,
        dimensions=dimensions,
        statistic="Average" if comparison == "GreaterThanThreshold" else "Minimum",
        comparison=comparison,
        threshold=threshold,
        evaluation_periods=minutes,
        severity="critical" if severity == "critical" else "warning",
    )


def infrastructure_rules(
    postgres_identifier: pulumi.Input[str],
    postgres_storage_gb: int,
    docdb_cluster: str,
    redis_member_clusters: tuple[str, ...],
) -> list[AlarmSpec]:
    """High CPU (> 80 %, 5 min, warning), disk space (> 90 % used, 1 min, critical) and memory
    pressure (> 85 %, 10 min, warning) of the stores, from the metrics AWS publishes."""
    rds = {"DBInstanceIdentifier": postgres_identifier}
    free_bytes = round(postgres_storage_gb * 2**30 * 0.10)
    specs = [
        _infra(
            "postgres-high-cpu",
            "high_cpu",
            "AWS/RDS",
            "CPUUtilization",
            rds,
            "GreaterThanThreshold",
            80,
            5,
            "warning",
            "RDS CPU > 80 % for 5 min",
        ),
        _infra(
            "postgres-disk-space",
            "disk_space",
            "AWS/RDS",
            "FreeStorageSpace",
            rds,
            "LessThanThreshold",
            free_bytes,
            1,
            "critical",
            f"RDS free storage < 10 % of the {postgres_storage_gb} GiB allocated (> 90 % "
            "used) for 1 min; storage autoscaling may already be growing the volume",
        ),
        _infra(
            "docdb-high-cpu",
            "high_cpu",
            "AWS/DocDB",
            "CPUUtilization",
            {"DBClusterIdentifier": docdb_cluster},
            "GreaterThanThreshold",
            80,
            5,
            "warning",
            "DocumentDB CPU > 80 % for 5 min",
        ),
    ]
    for cluster in redis_member_clusters:
        dims = {"CacheClusterId": cluster}
        specs += [
            _infra(
                f"redis-{cluster}-high-cpu",
                "high_cpu",
                "AWS/ElastiCache",
                "EngineCPUUtilization",
                dims,
                "GreaterThanThreshold",
                80,
                5,
                "warning",
                "Redis engine CPU > 80 % for 5 min",
            ),
            _infra(
                f"redis-{cluster}-memory",
                "memory_pressure",
                "AWS/ElastiCache",
                "DatabaseMemoryUsagePercentage",
                dims,
                "GreaterThanThreshold",
                85,
                10,
                "warning",
                "Redis memory used > 85 % for 10 min",
            ),
        ]
    return specs


def rds_not_replicating(postgres_identifier: pulumi.Input[str]) -> AlarmSpec:
    """RDS reports ``ReplicaLag`` -1 when replication is not running; no data at all means the
    same. Minimum < 0 or missing data alarms
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Monitoring.html)."""
    return AlarmSpec(
        name="postgres-not-replicating",
        description="RDS ReplicaLag is -1 (replication stopped) or missing: the replica no longer "
        "follows the primary and the RPO clock is running",
        namespace="AWS/RDS",
        metric_name="ReplicaLag",
        dimensions={"DBInstanceIdentifier": postgres_identifier},
        statistic="Minimum",
        comparison="LessThanThreshold",
        threshold=0,
        evaluation_periods=2,
        treat_missing_data="breaching",
    )


def redis_member_clusters(replication_group_id: str, nodes: int) -> tuple[str, ...]:
    """Cache clusters of a cluster-mode-disabled replication group: ``<group>-001``..."""
    return tuple(f"{replication_group_id}-{i:03d}" for i in range(1, nodes + 1))


def redis_global_lag(
    replication_group_id: str,
    nodes: int,
    threshold_seconds: int,
    period_seconds: int,
    evaluation_periods: int,
) -> AlarmSpec:
    """``GlobalDatastoreReplicationLag`` (AWS/ElastiCache, seconds) of the secondary member.
    ElastiCache computes its Redis metrics per cache node
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.Redis.html), and only
    the member's primary node reports the Global Datastore lag; which member cluster holds the
    primary changes on a node failover, so the alarm takes the maximum over every member cluster
    (dimension ``CacheClusterId``); no data from any of them means replication stopped."""
    members = redis_member_clusters(replication_group_id, nodes)
    queries = tuple(
        MetricQuery(
            f"m{i}",
            namespace="AWS/ElastiCache",
            metric_name="GlobalDatastoreReplicationLag",
            dimensions={"CacheClusterId": c},
            stat="Maximum",
            period_seconds=period_seconds,
        )
        for i, c in enumerate(members, start=1)
    )
    ids = ", ".join(q.id for q in queries)
    return AlarmSpec(
        name="redis-global-lag",
        description=f"Redis Global Datastore replication lag above {threshold_seconds} s (or "
        "no data: replication stopped) on the secondary member",
        namespace="AWS/ElastiCache",
        metric_name="GlobalDatastoreReplicationLag",
        dimensions={"CacheClusterId": members[0]},
        statistic="Maximum",
        comparison="GreaterThanThreshold",
        threshold=threshold_seconds,
        period_seconds=period_seconds,
        evaluation_periods=evaluation_periods,
        treat_missing_data="breaching",
        queries=(
            *queries,
            MetricQuery(
                "lag",
                expression=f"MAX([{ids}])",
                return_data=True,
                label="max lag over the members (s)",
            ),
        ),
    )
