"""The RTO/RPO budget: exact figures for known settings (hand-built plans), and what today's
stacks give."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infra.settings import RecoveryTargets
from reskflow_dr import budget, render
from reskflow_dr.cli import main
from reskflow_dr.engine import Plan, PlannedResource
from tests.conftest import PlanOf
from tests.synthetic import (
    DEST,
    VAULT,
    daily_backup_rule,
    db_arn,
    plan,
    postgres,
    replication_rule,
    res,
)

TARGETS = RecoveryTargets(rto_minutes=15, rpo_minutes=5, promotion_minutes=10)


def record(stack: str, role: str, **extra: object) -> PlannedResource:
    return res(
        stack,
        "aws:route53/record:Record",
        f"api-{role.lower()}",
        {"name": "api.reskflow.example", "failoverRoutingPolicies": [{"type": role}], **extra},
    )


def failed_region(interval: int | None = 10, threshold: int | None = 3) -> Plan:
    check: dict[str, object] = {"fqdn": "api-use1.example.com", "type": "HTTPS"}
    if interval is not None:
        check["requestInterval"] = interval
    if threshold is not None:
        check["failureThreshold"] = threshold
    replication = {"bucket": "reskflow-uploads-us-east-1", "rules": [replication_rule()]}
    backup_rule = daily_backup_rule()
    return plan(
        "prod",
        res("prod", "aws:route53/healthCheck:HealthCheck", "api-health", check),
        record("prod", "PRIMARY", ttl=60),
        res("prod", "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "repl", replication),
        res("prod", "aws:backup/plan:Plan", "plan", {"rules": [backup_rule]}),
    )


def alarm(
    namespace: str, metric: str, dims: dict[str, str], threshold: float, periods: int
) -> object:
    inputs = {
        "namespace": namespace,
        "metricName": metric,
        "dimensions": dims,
        "threshold": threshold,
        "period": 60,
        "evaluationPeriods": periods,
        "statistic": "Maximum",
    }
    return res("dr", "aws:cloudwatch/metricAlarm:MetricAlarm", f"{metric}-alarm", inputs)


def target_region(*extra: PlannedResource) -> Plan:
    return plan(
        "dr",
        record("dr", "SECONDARY", ttl=60),
        postgres("dr", 2, db_arn("us-east-1", 1)),
        alarm("AWS/RDS", "ReplicaLag", {"DBInstanceIdentifier": "reskflow-postgres-g2"}, 60, 3),
        res("dr", "aws:s3/bucket:Bucket", "s3-uploads", {"bucket": DEST}, data=True),
        res("dr", "aws:backup/vault:Vault", "vault", {"name": VAULT}, data=True),
        *extra,
    )


def by_store(b: budget.Budget) -> dict[str, tuple[float | None, float | None]]:
    return {
        s.store: (s.rto.seconds if s.rto else None, s.rpo.seconds if s.rpo else None)
        for s in b.stores
    }


def test_exact_figures_for_known_settings() -> None:
    b = budget.compute(target_region(), failed_region(), TARGETS)
    assert {k: v.seconds for k, v in b.components.items()} == {
        "detection": 30.0,
        "dns": 60.0,
        "promotion": 600.0,
    }
    assert b.components["detection"].formula == "requestInterval 10 s x failureThreshold 3"
    assert by_store(b) == {
        "traffic (Route 53 failover)": (90.0, None),
        "RDS reskflow-postgres-g2": (690.0, 240.0),
        "S3 (1 buckets)": (90.0, 900.0),
        "backup restore (daily copy)": (None, 86400.0),
    }
    rds = next(s for s in b.stores if s.store.startswith("RDS"))
    assert rds.rto is not None and rds.rpo is not None
    assert rds.rto.formula == "detection + dns + promotion = 30 s + 60 s + 10 min"
    assert rds.rpo.formula == ("ReplicaLag threshold 60 s + period 60 s x 3 evaluation periods")
    verdicts = {s.store: s.to_json(TARGETS) for s in b.stores}
    assert verdicts["RDS reskflow-postgres-g2"]["rtoVerdict"] == "meets"
    assert verdicts["RDS reskflow-postgres-g2"]["rpoVerdict"] == "meets"
    assert verdicts["S3 (1 buckets)"]["rpoVerdict"] == "misses"
    assert verdicts["backup restore (daily copy)"]["rtoVerdict"] == "unknown"


def test_aws_limits_are_said_plainly() -> None:
    b = budget.compute(target_region(), failed_region(), TARGETS)
    assert any("AWS cannot meet the 5-minute RPO for S3 objects" in x for x in b.limits)
    text = render.budget(b)
    assert "several minutes or longer" in text
    assert "misses" in text


def test_slow_detection_and_long_promotion_miss_the_rto() -> None:
    slow = RecoveryTargets(rto_minutes=15, rpo_minutes=5, promotion_minutes=14)
    b = budget.compute(target_region(), failed_region(interval=30, threshold=10), slow)
    rds = next(s for s in b.stores if s.store.startswith("RDS"))
    assert rds.rto is not None and rds.rto.seconds == 300 + 60 + 840
    assert budget.compare(rds.rto, slow.rto_minutes * 60) == "misses"


def test_route53_defaults_apply_when_unset() -> None:
    b = budget.compute(target_region(), failed_region(interval=None, threshold=None), TARGETS)
    assert b.components["detection"].seconds == 90.0  # 30 s x 3, Route 53's defaults


def test_alias_records_use_the_target_ttl() -> None:
    alias = res(
        "dr",
        "aws:route53/record:Record",
        "api-alias",
        {"failoverRoutingPolicies": [{"type": "SECONDARY"}], "aliases": [{"name": "lb"}]},
    )
    b = budget.compute(plan("dr", alias), plan("prod"), TARGETS)
    assert b.components["dns"].seconds == 60.0
    assert b.components["dns"].formula.startswith("alias record")


def test_millisecond_lag_metrics_are_converted() -> None:
    docdb = res(
        "dr",
        "aws:docdb/cluster:Cluster",
        "docdb",
        {"clusterIdentifier": "reskflow-docdb-usw2", "globalClusterIdentifier": "reskflow-docdb"},
        data=True,
    )
    lag = alarm(
        "AWS/DocDB",
        "GlobalClusterReplicationLag",
        {"DBClusterIdentifier": "reskflow-docdb-usw2"},
        30000,
        2,
    )
    b = budget.compute(plan("dr", docdb, lag), failed_region(), TARGETS)
    assert by_store(b)["DocumentDB reskflow-docdb-usw2"] == (690.0, 150.0)  # RPO: 30 s + 60 s x 2


def test_a_replica_without_lag_alarm_has_an_unknown_rpo() -> None:
    b = budget.compute(plan("dr", postgres("dr", 2, "arn")), plan("prod"), TARGETS)
    (rds,) = [s for s in b.stores if s.store.startswith("RDS")]
    assert rds.rpo is not None and rds.rpo.seconds is None
    assert rds.rpo.source == budget.NOT_DECLARED
    assert budget.compare(rds.rpo, 300) == "unknown"


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        ("cron(0 5 ? * * *)", timedelta(days=1)),
        ("cron(0 5 ? * SUN *)", timedelta(days=7)),
        ("cron(0 5 ? * MON-FRI *)", timedelta(days=3)),
        ("cron(0 */6 * * ? *)", timedelta(hours=6)),
        ("cron(0 0,12 * * ? *)", timedelta(hours=12)),
        ("cron(0,30 * * * ? *)", timedelta(minutes=30)),
        ("cron(0 1 1 * ? *)", timedelta(days=31)),
        ("rate(12 hours)", timedelta(hours=12)),
        ("every day", None),
    ],
)
def test_schedule_interval_is_the_longest_gap(expression: str, interval: timedelta | None) -> None:
    assert budget.schedule_interval(expression) == interval


def test_real_stacks(plan_of: PlanOf) -> None:
    """The committed stacks: health check 10 s x 3, TTL 60 s, the 10-minute promotion
    assumption, lag alarms 60 s + 60 s x 3, RTC 15 min, backup schedules daily and weekly."""
    b = budget.compute(plan_of("dr"), plan_of("prod"), TARGETS)
    assert b.components["detection"].source == (
        "aws:route53/healthCheck:HealthCheck api-health-check (us-east-1)"
    )
    assert by_store(b) == {
        "traffic (Route 53 failover)": (90.0, None),
        "DocumentDB reskflow-docdb-us-west-2": (690.0, 240.0),
        # GlobalDatastoreReplicationLag 60 s + 60 s x 3 (metric math over the member clusters)
        "ElastiCache reskflow-redis-us-west-2": (690.0, 240.0),
        "RDS reskflow-postgres-g2": (690.0, 240.0),
        "S3 (5 buckets)": (90.0, 900.0),
        "backup restore (continuous)": (None, 300.0),
        "backup restore (daily)": (None, 86400.0),
        "backup restore (weekly)": (None, 604800.0),
        "backup restore (daily copy)": (None, 86400.0),
        "backup restore (weekly copy)": (None, 604800.0),
        "backup restore (daily isolated copy)": (None, 86400.0),
        "backup restore (weekly isolated copy)": (None, 604800.0),
    }


def test_cli_prints_the_budget(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rto-rpo", "dr"]) == 0
    out = capsys.readouterr().out
    assert "failing over to dr (us-west-2)" in out
    assert "AWS cannot meet the 5-minute RPO for S3 objects" in out
