"""The seed's dashboards ("Dashboard Examples": executive overview, technical operations, SLA
compliance) as CloudWatch dashboards of this region, each also showing the DR state: replication
lag per store, the backup freshness alarms, endpoint health (canaries) and the error budget.

Every graphed metric is one an alarm of the stack watches, one of :data:`EXTRA_METRICS` (AWS
metrics of resources the plan declares) or one of the services' contract
(:data:`components.alert_rules.CONTRACT`): the dashboards show nothing the plan does not emit.
Body format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarms import AlarmSpec
from components.alert_rules import APP_NAMESPACE

#: AWS metrics graphed beyond the alarms' own, with the resource type that makes AWS emit them.
EXTRA_METRICS: dict[tuple[str, str], str] = {
    ("AWS/RDS", "DatabaseConnections"): "aws:rds/instance:Instance",
    ("AWS/DocDB", "DatabaseConnections"): "aws:docdb/cluster:Cluster",
    ("AWS/ElastiCache", "CurrConnections"): "aws:elasticache/replicationGroup:ReplicationGroup",
}

#: Error budget of the SLA compliance dashboard: 99.9 % of requests succeed (0.1 % may fail).
SLO_SUCCESS_PERCENT = 99.9
ALLOWED_ERROR_PERCENT = round(100 - SLO_SUCCESS_PERCENT, 6)

LAG_METRICS = {"ReplicaLag", "GlobalClusterReplicationLag", "GlobalDatastoreReplicationLag"}


@dataclass(frozen=True)
class DashboardsArgs:
    """Inputs of :class:`Dashboards`."""

    region: str
    account_id: str
    alarms: Sequence[AlarmSpec]
    """Every alarm of the stack: graphs and alarm-status widgets are drawn from them."""
    postgres_identifier: pulumi.Input[str] | None = None
    docdb_cluster: str | None = None
    redis_clusters: Sequence[str] = ()


def _series(spec: AlarmSpec) -> list[list[Any]]:
    """One metric line per series the alarm reads (metric-math alarms: each metric query)."""
    lines: list[list[Any]] = []
    if not spec.queries:
        dims = [x for k, v in spec.dimensions.items() for x in (k, v)]
        lines.append([spec.namespace, spec.metric_name, *dims, {"stat": spec.statistic}])
    for q in spec.queries:
        if q.metric_name is not None and q.namespace is not None:
            dims = [x for k, v in (q.dimensions or {}).items() for x in (k, v)]
            lines.append([q.namespace, q.metric_name, *dims, {"stat": q.stat}])
    return lines


def _graph(title: str, metrics: list[list[Any]], region: str, **props: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": 12,
        "height": 6,
        "properties": {"title": title, "region": region, "metrics": metrics, **props},
    }


def _alarm_status(title: str, arns: list[str]) -> dict[str, Any]:
    return {
        "type": "alarm",
        "width": 24,
        "height": 4,
        "properties": {"title": title, "alarms": arns},
    }


def _app(metric: str, stat: str, region: str, **extra: Any) -> list[Any]:
    return [APP_NAMESPACE, metric, "Region", region, {"stat": stat, **extra}]


def dashboard_bodies(args: DashboardsArgs) -> dict[str, dict[str, Any]]:
    """Dashboard name -> body (with Pulumi inputs still inside)."""
    r = args.region

    def arn(spec: AlarmSpec) -> str:
        return f"arn:aws:cloudwatch:{r}:{args.account_id}:alarm:reskflow-{spec.name}"

    by_metric = {s.name: s for s in args.alarms}
    canaries = [s for s in args.alarms if s.namespace == "CloudWatchSynthetics"]
    lags = [
        s
        for s in args.alarms
        if s.metric_name in LAG_METRICS and s.comparison != "LessThanThreshold"
    ]
    backups = [s for s in args.alarms if s.name.startswith("backup-")]
    critical = [s for s in args.alarms if s.severity == "critical"]
    health = [line for s in canaries for line in _series(s)]
    lag_lines = [line for s in lags for line in _series(s)]
    dr_state = [
        _graph("Replication lag per store", lag_lines, r, view="timeSeries"),
        _graph("Endpoint health (canary success %)", health, r, view="timeSeries"),
        _alarm_status("Backups: last recovery point fresh", [arn(s) for s in backups]),
    ]
    error_rate = [
        _app("Errors", "Sum", r, id="errors", visible=False),
        _app("Requests", "Sum", r, id="requests", visible=False),
        [{"expression": "100 * errors / requests", "label": "error rate %", "id": "rate"}],
    ]
    budget = [
        *error_rate[:2],
        [
            {
                "expression": f"100 - 100 * (errors / requests) / {ALLOWED_ERROR_PERCENT:g} * 100",
                "label": f"error budget remaining % (SLO {SLO_SUCCESS_PERCENT} %)",
                "id": "budget",
            }
        ],
    ]
    resources: list[list[Any]] = []
    if args.postgres_identifier is not None:
        resources.append(
            ["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", args.postgres_identifier]
        )
    if args.docdb_cluster is not None:
        resources.append(
            ["AWS/DocDB", "DatabaseConnections", "DBClusterIdentifier", args.docdb_cluster]
        )
    resources += [
        ["AWS/ElastiCache", "CurrConnections", "CacheClusterId", c] for c in args.redis_clusters
    ]
    cpu = [
        line
        for s in args.alarms
        if s.metric_name in ("CPUUtilization", "EngineCPUUtilization")
        for line in _series(s)
    ]
    latency = _series(by_metric["app-slow-response"]) if "app-slow-response" in by_metric else []
    executive = [
        _graph("Total orders", [_app("OrdersPlaced", "Sum", r)], r, view="singleValue"),
        _graph("Revenue (hourly)", [_app("Revenue", "Sum", r)], r, view="timeSeries", period=3600),
        _alarm_status("System health", [arn(s) for s in critical]),
        _graph(
            "Active users",
            [_app("ActiveUsers", "Maximum", r)],
            r,
            view="gauge",
            yAxis={"left": {"min": 0}},
        ),
        _graph("Error rate", error_rate, r, view="singleValue"),
    ]
    operations = [
        _graph("Error rate", error_rate, r, view="timeSeries"),
        _graph("Response time p95 (ms)", latency, r, view="timeSeries"),
        _graph("Database connections", resources, r, view="timeSeries"),
        _graph("Resource utilization (CPU %)", cpu, r, view="timeSeries"),
    ]
    sla = [
        _graph("Uptime % (canaries)", health, r, view="singleValue", period=2592000),
        _graph(
            "Response time p95 vs 2000 ms",
            latency,
            r,
            view="timeSeries",
            annotations={"horizontal": [{"value": 2000, "label": "seed slow_response"}]},
        ),
        _graph("Error budget remaining", budget, r, view="singleValue", period=2592000),
        _alarm_status("Critical alarms (incidents)", [arn(s) for s in critical]),
    ]
    return {
        f"reskflow-executive-{r}": {"widgets": executive + dr_state},
        f"reskflow-operations-{r}": {"widgets": operations + dr_state},
        f"reskflow-sla-{r}": {"widgets": sla + dr_state},
    }


class Dashboards(pulumi.ComponentResource):
    """The three CloudWatch dashboards of the region."""

    def __init__(
        self, name: str, args: DashboardsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:monitoring:Dashboards", name, None, opts)
        for dashboard, body in dashboard_bodies(args).items():
            aws.cloudwatch.Dashboard(
                f"{name}-{dashboard.removeprefix('reskflow-')}",
                dashboard_name=dashboard,
                dashboard_body=pulumi.Output.json_dumps(body),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({})


def graphed_metrics(body: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(namespace, metric) pairs a dashboard body graphs (tests and docs use it)."""
    pairs = set()
    for widget in body.get("widgets", []):
        for line in widget.get("properties", {}).get("metrics", []):
            if line and isinstance(line[0], str):
                pairs.add((line[0], line[1]))
    return pairs
