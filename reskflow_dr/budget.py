"""The RTO/RPO budget of failing over to a stack, computed from the settings the plans declare.

Failing over to stack S (its plan, plus its peer's plan: the region being failed away from):

- detection = the peer's Route 53 health check ``requestInterval`` x ``failureThreshold``;
- DNS = the failover records' ``ttl``;
- promotion = the configured assumption ``reskflow:promotionMinutes`` (AWS publishes no figure);
- RTO of traffic and of S3 = detection + DNS; of a replicated database = detection + DNS +
  promotion (the steps in sequence, as in RUN-002: an upper bound, human decision time excluded);
- RPO of a replicated database = the largest lag its lag alarm lets pass unnoticed:
  ``threshold + period x evaluationPeriods``; of S3 = the Replication Time Control threshold;
  of the backup restore path = the schedule interval of the rule that lands in S's region.

Every figure carries its formula and the resource (or config key) it comes from. A figure whose
inputs the plan does not declare is "not declared in this plan", never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Literal

from infra.settings import (
    PROMOTION_MINUTES_KEY,
    RecoveryTargets,
)
from reskflow_dr.engine import Plan, PlannedResource
from reskflow_dr.schedule import schedule_interval

NOT_DECLARED = "not declared in this plan"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
BUCKET = "aws:s3/bucket:Bucket"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
BACKUP_PLAN = "aws:backup/plan:Plan"
BACKUP_VAULT = "aws:backup/vault:Vault"
#: Route 53 defaults when a health check leaves them unset (API reference, HealthCheckConfig).
DEFAULT_REQUEST_INTERVAL, DEFAULT_FAILURE_THRESHOLD = 30, 3
PROMOTION_DOC = (
    "AWS: promotion 'can take several minutes or longer to complete, depending on the size of "
    "the read replica' (RDS User Guide, USER_ReadRepl.Promote)"
)
RTC_FACT = (
    "S3 Replication Time Control has one threshold, 15 minutes (99.9 % of objects, under SLA)"
)
#: Lag metrics by (namespace, metric): seconds per unit of the metric.
LAG_METRICS: dict[tuple[str, str], float] = {
    ("AWS/RDS", "ReplicaLag"): 1.0,
    ("AWS/ElastiCache", "ReplicationLag"): 1.0,
    ("AWS/ElastiCache", "GlobalDatastoreReplicationLag"): 1.0,
    ("AWS/DocDB", "DBClusterReplicaLagMaximum"): 0.001,
    ("AWS/DocDB", "GlobalClusterReplicationLag"): 0.001,
}


@dataclass(frozen=True)
class Figure:
    seconds: float | None
    formula: str
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "formula": self.formula, "source": self.source}


Verdict = Literal["meets", "misses", "unknown", "n/a"]


def compare(figure: Figure | None, target_seconds: float) -> Verdict:
    if figure is None:
        return "n/a"
    if figure.seconds is None:
        return "unknown"
    return "meets" if figure.seconds <= target_seconds else "misses"


def total(parts: Iterable[tuple[str, Figure]]) -> Figure:
    """The sum of named figures; unknown as soon as one part is."""
    items = list(parts)
    names = " + ".join(name for name, _ in items)
    missing = [name for name, f in items if f.seconds is None]
    if missing:
        return Figure(None, f"{names} ({', '.join(missing)} {NOT_DECLARED})", "")
    seconds = sum(f.seconds or 0 for _, f in items)
    return Figure(seconds, f"{names} = " + " + ".join(human(f.seconds) for _, f in items), "")


def human(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def _label(r: PlannedResource) -> str:
    return f"{r.type} {r.name} ({r.region})"


# --------------------------------------------------------------------------------------------
# Components: detection, DNS, promotion
# --------------------------------------------------------------------------------------------


def detection(peer_plan: Plan) -> Figure:
    """Time for Route 53 to declare the failed region unhealthy (the worst of its checks)."""
    figures = []
    for hc in peer_plan.of_type(HEALTH_CHECK):
        interval = hc.inputs.get("requestInterval") or DEFAULT_REQUEST_INTERVAL
        threshold = hc.inputs.get("failureThreshold") or DEFAULT_FAILURE_THRESHOLD
        formula = f"requestInterval {interval} s x failureThreshold {threshold}"
        figures.append(Figure(float(interval * threshold), formula, _label(hc)))
    if not figures:
        return Figure(None, "request interval x failure threshold", NOT_DECLARED)
    return max(figures, key=lambda f: f.seconds or 0)


def dns(*plans: Plan) -> Figure:
    """Time for resolvers to drop the cached answer: the failover records' TTL."""
    figures = []
    for plan in plans:
        for rec in plan.of_type(RECORD):
            if not rec.inputs.get("failoverRoutingPolicies"):
                continue
            ttl = rec.inputs.get("ttl")
            if ttl is not None:
                figures.append(Figure(float(ttl), f"failover record ttl {ttl} s", _label(rec)))
            else:
                formula = "alias record: the alias target's TTL (60 s for an ELB)"
                figures.append(Figure(60.0, formula, _label(rec)))
    if not figures:
        return Figure(None, "failover record TTL", NOT_DECLARED)
    return max(figures, key=lambda f: f.seconds or 0)


def promotion(targets: RecoveryTargets) -> Figure:
    minutes = targets.promotion_minutes
    return Figure(
        minutes * 60.0,
        f"configured assumption {minutes} min",
        f"{PROMOTION_MINUTES_KEY.name}; {PROMOTION_DOC}",
    )


# --------------------------------------------------------------------------------------------
# Stores and their RPO
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicaStore:
    """A database kept as a replica in the failover target: promoted on failover."""

    kind: str
    identifier: str
    namespace: str
    resource: PlannedResource


def replica_stores(plan: Plan) -> list[ReplicaStore]:
    """RDS read replicas, ElastiCache and DocumentDB global secondaries declared in ``plan``."""
    out = []
    for r in plan.resources:
        if r.type == "aws:rds/instance:Instance" and r.inputs.get("replicateSourceDb"):
            out.append(ReplicaStore("RDS", _ident(r, "identifier"), "AWS/RDS", r))
        elif r.type == "aws:elasticache/replicationGroup:ReplicationGroup" and r.inputs.get(
            "globalReplicationGroupId"
        ):
            ident = _ident(r, "replicationGroupId")
            out.append(ReplicaStore("ElastiCache", ident, "AWS/ElastiCache", r))
        elif r.type == "aws:docdb/cluster:Cluster" and r.inputs.get("globalClusterIdentifier"):
            out.append(ReplicaStore("DocumentDB", _ident(r, "clusterIdentifier"), "AWS/DocDB", r))
    return out


def _ident(r: PlannedResource, key: str) -> str:
    return str(r.inputs.get(key) or r.name)


@dataclass(frozen=True)
class _LagAlarm:
    alarm: PlannedResource
    unit: float
    metric: str
    dimension_values: tuple[str, ...]
    period: float


def _alarm_metrics(alarm: PlannedResource) -> Iterator[tuple[str, str, dict[str, Any], float]]:
    """(namespace, metric, dimensions, period) of a single-metric or metric-math alarm."""
    inputs = alarm.inputs
    if inputs.get("metricName"):
        yield (
            str(inputs.get("namespace")),
            str(inputs.get("metricName")),
            dict(inputs.get("dimensions") or {}),
            float(inputs.get("period") or 0),
        )
    for query in inputs.get("metricQueries") or []:
        metric = query.get("metric") or {}
        if metric.get("metricName"):
            yield (
                str(metric.get("namespace")),
                str(metric.get("metricName")),
                dict(metric.get("dimensions") or {}),
                float(metric.get("period") or 0),
            )


def _lag_alarms(plans: Iterable[Plan], namespace: str) -> Iterator[_LagAlarm]:
    for plan in plans:
        for alarm in plan.of_type(ALARM):
            metrics = [m for m in _alarm_metrics(alarm) if (m[0], m[1]) in LAG_METRICS]
            if metrics and metrics[0][0] == namespace:
                values = tuple(str(v) for m in metrics for v in m[2].values())
                ns, name, _dims, period = metrics[0]
                yield _LagAlarm(alarm, LAG_METRICS[(ns, name)], name, values, period)


def _names_store(value: str, identifier: str) -> bool:
    """A dimension value naming the store: its identifier, or one of its member clusters
    (ElastiCache: ``<replication group>-001``...)."""
    return value == identifier or value.startswith(f"{identifier}-")


def lag_rpo(store: ReplicaStore, plans: Iterable[Plan]) -> Figure:
    """The largest replica lag the store's lag alarm lets pass unnoticed."""
    matching = [
        a
        for a in _lag_alarms(plans, store.namespace)
        if any(_names_store(v, store.identifier) for v in a.dimension_values)
        # The lag threshold, not the "not replicating" alarm (ReplicaLag -1 / no data).
        and not str(a.alarm.inputs.get("comparisonOperator", "")).startswith("LessThan")
    ]
    if not matching:
        return Figure(None, "lag alarm threshold + period x evaluation periods", NOT_DECLARED)
    lag = matching[0]
    alarm, unit = lag.alarm, lag.unit
    threshold = float(alarm.inputs.get("threshold") or 0) * unit
    period = lag.period
    periods = int(alarm.inputs.get("evaluationPeriods") or 1)
    seconds = threshold + period * periods
    formula = (
        f"{lag.metric} threshold {human(threshold)} + period "
        f"{human(period)} x {periods} evaluation periods"
    )
    return Figure(seconds, formula, _label(alarm))


def replicated_buckets(plan: Plan, peer_plan: Plan) -> tuple[list[str], Figure]:
    """The buckets of ``plan`` that the peer replicates into, and the RTC bound of their rules."""
    names = {str(b.inputs.get("bucket")) for b in plan.of_type(BUCKET)}
    buckets: set[str] = set()
    figures: list[Figure] = []
    for cfg in peer_plan.of_type(REPLICATION):
        for rule in cfg.inputs.get("rules") or []:
            dest = str((rule.get("destination") or {}).get("bucket", "")).rsplit(":", 1)[-1]
            if dest not in names:
                continue
            buckets.add(dest)
            figures.append(_rtc(rule, cfg))
    if not figures:
        return [], Figure(None, "replication time", NOT_DECLARED)
    return sorted(buckets), max(figures, key=lambda f: f.seconds or float("inf"))


def _rtc(rule: dict[str, Any], cfg: PlannedResource) -> Figure:
    rtc = (rule.get("destination") or {}).get("replicationTime") or {}
    minutes = (rtc.get("time") or {}).get("minutes")
    if rtc.get("status") != "Enabled" or minutes is None:
        return Figure(None, "no Replication Time Control: S3 bounds no replication time", "")
    return Figure(minutes * 60.0, f"replicationTime.time.minutes {minutes}", _label(cfg))


# --------------------------------------------------------------------------------------------
# The backup restore path
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupRule:
    plan: PlannedResource
    name: str
    schedule: str
    vault: str
    """Name of the vault the recovery points land in."""
    vault_region: str
    copy: bool
    continuous: bool
    start_window_minutes: int | None
    completion_window_minutes: int | None

    @property
    def interval(self) -> timedelta | None:
        return schedule_interval(self.schedule)


def _vault_of(arn: str) -> tuple[str, str]:
    """(vault name, region) of ``arn:aws:backup:<region>:<account>:backup-vault:<name>``."""
    parts = arn.split(":")
    return (parts[6], parts[3]) if len(parts) == 7 else ("", "")


def backup_rules(plans: Iterable[Plan]) -> list[BackupRule]:
    """Every backup plan rule, and every copy action of one, with the region it lands in."""
    out: list[BackupRule] = []
    for plan in plans:
        vaults = {str(v.inputs.get("name")): v.region for v in plan.of_type(BACKUP_VAULT)}
        for bp in plan.of_type(BACKUP_PLAN):
            for rule in bp.inputs.get("rules") or []:
                out.extend(_rule_landings(bp, rule, vaults))
    return out


def _rule_landings(
    bp: PlannedResource, rule: dict[str, Any], vaults: dict[str, str]
) -> Iterator[BackupRule]:
    vault = str(rule.get("targetVaultName"))
    direct = BackupRule(
        plan=bp,
        name=str(rule.get("ruleName", "?")),
        schedule=str(rule.get("schedule", "")),
        vault=vault,
        vault_region=vaults.get(vault, bp.region),
        copy=False,
        continuous=bool(rule.get("enableContinuousBackup")),
        start_window_minutes=rule.get("startWindow"),
        completion_window_minutes=rule.get("completionWindow"),
    )
    yield direct
    for action in rule.get("copyActions") or []:
        dest, region = _vault_of(str(action.get("destinationVaultArn", "")))
        # A copy within the region is the isolated (air-gapped or other-account) copy.
        kind = "isolated copy" if region == direct.vault_region else "copy"
        yield replace(
            direct, name=f"{direct.name} {kind}", vault=dest, vault_region=region, copy=True
        )


def backup_rpo(rule: BackupRule) -> Figure:
    label = f"{rule.plan.type} {rule.plan.name} rule {rule.name}"
    if rule.continuous and not rule.copy:
        formula = "continuous backup: point-in-time restore to the last ~5 min (same region)"
        return Figure(300.0, formula, label)
    interval = rule.interval
    if interval is None:
        return Figure(None, f"schedule {rule.schedule!r} not recognised", label)
    return Figure(interval.total_seconds(), f"schedule interval of {rule.schedule}", label)


# --------------------------------------------------------------------------------------------
# The budget
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreBudget:
    store: str
    rto: Figure | None
    rpo: Figure | None

    def to_json(self, targets: RecoveryTargets) -> dict[str, Any]:
        return {
            "store": self.store,
            "rto": self.rto.to_json() if self.rto else None,
            "rpo": self.rpo.to_json() if self.rpo else None,
            "rtoVerdict": compare(self.rto, targets.rto_minutes * 60),
            "rpoVerdict": compare(self.rpo, targets.rpo_minutes * 60),
        }


@dataclass(frozen=True)
class Budget:
    stack: str
    region: str
    targets: RecoveryTargets
    components: dict[str, Figure]
    stores: list[StoreBudget]
    limits: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "region": self.region,
            "targets": {
                "rtoMinutes": self.targets.rto_minutes,
                "rpoMinutes": self.targets.rpo_minutes,
            },
            "components": {k: v.to_json() for k, v in self.components.items()},
            "stores": [s.to_json(self.targets) for s in self.stores],
            "awsLimits": self.limits,
        }


def measured(steps: Mapping[str, float], actual_s: float | None, source: str) -> Figure:
    """The promotion figure from an activation's measured step durations: Region switch's own
    recovery time when recorded, else the sum of the steps (parallel steps counted in full)."""
    if actual_s is not None:
        return Figure(
            actual_s, f"measured: Region switch actual recovery time {actual_s:.0f} s", source
        )
    listed = ", ".join(f"{name} {secs:.0f} s" for name, secs in steps.items())
    return Figure(sum(steps.values()), f"measured: sum of the steps ({listed})", source)


def compute(
    plan: Plan, peer_plan: Plan, targets: RecoveryTargets, measured: Figure | None = None
) -> Budget:
    """The budget of failing over to ``plan``'s stack from ``peer_plan``'s region. ``measured``
    (an activation's measured time) replaces the configured promotion assumption."""
    parts = {"detection": detection(peer_plan), "dns": dns(plan, peer_plan)}
    parts["promotion"] = measured or promotion(targets)
    traffic = total([("detection", parts["detection"]), ("dns", parts["dns"])])
    promoted = total([(k, parts[k]) for k in ("detection", "dns", "promotion")])
    stores = [StoreBudget("traffic (Route 53 failover)", traffic, None)]
    for s in replica_stores(plan):
        stores.append(
            StoreBudget(f"{s.kind} {s.identifier}", promoted, lag_rpo(s, (plan, peer_plan)))
        )
    buckets, rtc = replicated_buckets(plan, peer_plan)
    if buckets:
        stores.append(StoreBudget(f"S3 ({len(buckets)} buckets)", traffic, rtc))
    region = str(plan.outputs.get("region", ""))
    for rule in backup_rules((plan, peer_plan)):
        if rule.vault_region == region:
            restore = Figure(None, "restore duration depends on data size", NOT_DECLARED)
            stores.append(StoreBudget(f"backup restore ({rule.name})", restore, backup_rpo(rule)))
    return Budget(plan.stack, region, targets, parts, stores, _limits(stores, rtc, targets))


def _limits(stores: list[StoreBudget], rtc: Figure, targets: RecoveryTargets) -> list[str]:
    out = []
    rpo = targets.rpo_minutes * 60
    if rtc.seconds is not None and rtc.seconds > rpo:
        out.append(
            f"{RTC_FACT}: AWS cannot meet the {targets.rpo_minutes}-minute RPO for S3 objects; "
            f"their recovery point is {human(rtc.seconds)}."
        )
    if any(s.store.startswith("backup restore") for s in stores):
        out.append(
            "The backup restore path recovers to the last recovery point in the region: its RPO "
            "is the schedule interval, and continuous (point-in-time) backups are not copied "
            "across regions."
        )
    out.append(
        f"Promotion time is an assumption ({PROMOTION_DOC}); measure it in each drill and set "
        f"{PROMOTION_MINUTES_KEY.name}. Human decision time (RUN-002 requires approval) is not "
        "included."
    )
    return out
