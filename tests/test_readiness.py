"""Readiness checks against moto (`mock_aws`), on hand-built plans of the shapes later tiers
declare. Two calls are stubbed with botocore's Stubber, each said where it is done:
ListRecoveryPointsByBackupVault (moto answers "Not yet implemented") and GetHealthCheckStatus
(moto always reports every checker healthy, so an unhealthy endpoint cannot be simulated)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from reskflow_dr import readiness
from reskflow_dr.cli import main
from reskflow_dr.engine import Plan
from tests.synthetic import (
    DEST,
    SOURCE,
    VAULT,
    daily_backup_rule,
    db_arn,
    plan,
    postgres,
    replication_rule,
    res,
)

FQDN = "api-usw2.example.com"


#: Fake credentials set before any client exists (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("fake_aws_credentials")


def dr_plan(replica: bool = True, generation: int = 2) -> Plan:
    source = db_arn("us-east-1", 1) if replica else None
    return plan(
        "dr",
        postgres("dr", generation, source),
        res("dr", "aws:s3/bucket:Bucket", "s3-uploads", {"bucket": DEST}, data=True),
        res("dr", "aws:backup/vault:Vault", "vault", {"name": VAULT}, data=True),
        res(
            "dr",
            "aws:route53/healthCheck:HealthCheck",
            "api-health",
            {"fqdn": FQDN, "resourcePath": "/health", "port": 443, "type": "HTTPS"},
        ),
        res("dr", "aws:kms/alias:Alias", "kms-alias", {"name": "alias/reskflow-dr"}),
    )


def prod_plan() -> Plan:
    rule = replication_rule()
    backup_rule = daily_backup_rule(startWindow=60, completionWindow=240)
    return plan(
        "prod",
        res(
            "prod",
            "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
            "s3-replication-uploads",
            {"bucket": SOURCE, "rules": [rule]},
        ),
        res("prod", "aws:backup/plan:Plan", "backup-plan", {"rules": [backup_rule]}),
    )


def test_targets_are_read_from_the_plans() -> None:
    t = readiness.targets_from_plans(dr_plan(), prod_plan())
    assert t.replicas == ("reskflow-postgres-g2",)
    assert t.replication == (readiness.ReplicationRef(SOURCE, DEST, "to-us-west-2", "us-east-1"),)
    (vault,) = t.vaults
    # daily copy: 24 h + start window 60 min + completion window 240 min
    assert (vault.name, vault.max_age) == (VAULT, timedelta(hours=29))
    assert t.health_checks == (readiness.HealthCheckRef(FQDN, "/health", 443),)
    assert t.keys == ("alias/reskflow-dr",)


class World:
    """The DR region in moto, as a passing readiness run expects it."""

    def __init__(self) -> None:
        self.now = readiness.now_utc()
        self.clients = readiness.Clients()
        east, west = boto3.client("rds", "us-east-1"), boto3.client("rds", "us-west-2")
        source = east.create_db_instance(
            DBInstanceIdentifier="reskflow-postgres-g1",
            Engine="postgres",
            DBInstanceClass="db.r6g.large",
            MasterUsername="reskflow_admin",
            MasterUserPassword="not-a-real-one",
            AllocatedStorage=100,
        )["DBInstance"]
        west.create_db_instance_read_replica(
            DBInstanceIdentifier="reskflow-postgres-g2",
            SourceDBInstanceIdentifier=source["DBInstanceArn"],
        )
        self.lag(12.0)
        self.latency(40.0)
        kms = boto3.client("kms", "us-east-1")
        key = kms.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
        kms.replicate_key(KeyId=key, ReplicaRegion="us-west-2")
        self.key = key
        boto3.client("kms", "us-west-2").create_alias(
            AliasName="alias/reskflow-dr", TargetKeyId=key
        )
        boto3.client("route53").create_health_check(
            CallerReference="api-usw2",
            HealthCheckConfig={
                "Type": "HTTPS",
                "FullyQualifiedDomainName": FQDN,
                "ResourcePath": "/health",
                "Port": 443,
                "RequestInterval": 10,
                "FailureThreshold": 3,
            },
        )
        self.recovery_point(self.now - timedelta(hours=6))

    def lag(self, seconds: float) -> None:
        boto3.client("cloudwatch", "us-west-2").put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": "ReplicaLag",
                    "Dimensions": [
                        {"Name": "DBInstanceIdentifier", "Value": "reskflow-postgres-g2"}
                    ],
                    "Value": seconds,
                    "Timestamp": self.now - timedelta(minutes=2),
                }
            ],
        )

    def latency(self, seconds: float) -> None:
        dims = {"SourceBucket": SOURCE, "DestinationBucket": DEST, "RuleId": "to-us-west-2"}
        boto3.client("cloudwatch", "us-east-1").put_metric_data(
            Namespace="AWS/S3",
            MetricData=[
                {
                    "MetricName": "ReplicationLatency",
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                    "Value": seconds,
                    "Timestamp": self.now - timedelta(minutes=5),
                }
            ],
        )

    def recovery_point(self, created: datetime) -> None:
        """Stubber: moto does not implement ListRecoveryPointsByBackupVault."""
        client = boto3.client("backup", "us-west-2")
        stubber = Stubber(client)
        stubber.add_response(
            "list_recovery_points_by_backup_vault",
            {
                "RecoveryPoints": [
                    {"RecoveryPointArn": "arn:aws:backup:rp-1", "CreationDate": created}
                ]
            },
            {"BackupVaultName": VAULT},
        )
        stubber.activate()
        self.clients.made[("backup", "us-west-2")] = client

    def unhealthy(self) -> None:
        """Stubber: moto's GetHealthCheckStatus always reports healthy checkers. The list comes
        from moto itself; only the status call is a stubbed answer."""
        real = boto3.client("route53")
        listed = real.list_health_checks()
        listed.pop("ResponseMetadata")
        listed.update({"Marker": "", "IsTruncated": False, "MaxItems": "100"})
        check_id = listed["HealthChecks"][0]["Id"]
        client = boto3.client("route53", "us-east-1")
        stubber = Stubber(client)
        stubber.add_response("list_health_checks", listed, {})
        failing = [
            {
                "Region": region,
                "IPAddress": "192.0.2.10",
                "StatusReport": {
                    "Status": "Failure: Connection timed out.",
                    "CheckedTime": self.now,
                },
            }
            for region in ("us-east-1", "us-west-1", "eu-west-1")
        ]
        stubber.add_response(
            "get_health_check_status",
            {"HealthCheckObservations": failing},
            {"HealthCheckId": check_id},
        )
        stubber.activate()
        self.clients.made[("route53", "us-east-1")] = client

    def run(self, dr: Plan | None = None, mode: readiness.Mode = "ready") -> dict[str, Any]:
        ctx = readiness.Context(
            targets=readiness.targets_from_plans(dr or dr_plan(), prod_plan()),
            clients=self.clients,
            rpo_seconds=300,
            now=self.now,
        )
        rows = readiness.run(ctx, mode)
        return {r.check: r for r in rows}


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        yield World()


def test_passing_case(world: World) -> None:
    rows = world.run()
    assert {c: r.status for c, r in rows.items()} == {
        "replica": "pass",
        "s3 replication": "pass",
        "recovery point": "pass",
        "health check": "pass",
        "kms key": "pass",
    }
    assert "ReplicaLag max 12 s (RPO 5 min)" in rows["replica"].detail
    assert rows["recovery point"].detail.startswith("newest 6 h old, allowed 29 h")
    assert readiness.passed(list(rows.values()))


def test_lag_above_the_rpo_fails(world: World) -> None:
    world.lag(420.0)
    row = world.run()["replica"]
    assert (row.status, row.detail.split("; ")[1]) == ("fail", "ReplicaLag max 7 min (RPO 5 min)")


def test_missing_replica_fails(world: World) -> None:
    row = world.run(dr_plan(generation=9))["replica"]
    assert (row.target, row.status, row.detail) == (
        "reskflow-postgres-g9",
        "fail",
        "replica missing: no such DB instance",
    )


def test_stale_recovery_point_fails(world: World) -> None:
    world.recovery_point(world.now - timedelta(days=3))
    row = world.run()["recovery point"]
    assert row.status == "fail"
    assert row.detail.startswith("newest 72 h old, allowed 29 h")


def test_unhealthy_health_check_fails(world: World) -> None:
    world.unhealthy()
    row = world.run()["health check"]
    assert (row.status, row.detail) == (
        "fail",
        "0/3 checkers report healthy (healthy above 18 %)",
    )


def test_slow_s3_replication_fails(world: World) -> None:
    world.latency(1200.0)
    assert world.run()["s3 replication"].status == "fail"


def test_disabled_replica_key_fails(world: World) -> None:
    boto3.client("kms", "us-west-2").disable_key(KeyId=world.key)
    row = world.run()["kms key"]
    assert (row.status, row.detail) == ("fail", "replica key, Disabled")


def test_after_promotion_the_instance_must_be_writable(world: World) -> None:
    rows = world.run(dr_plan(replica=False), mode="promoted")
    assert (rows["primary"].status, rows["primary"].detail) == (
        "fail",
        "still a replica: promotion not done",
    )
    # moto's PromoteReadReplica keeps the source identifier: the promoted state is a standalone
    # instance, created as such.
    boto3.client("rds", "us-west-2").create_db_instance(
        DBInstanceIdentifier="reskflow-postgres-g3",
        Engine="postgres",
        DBInstanceClass="db.r6g.large",
        MasterUsername="reskflow_admin",
        MasterUserPassword="not-a-real-one",
        AllocatedStorage=100,
    )
    rows = world.run(dr_plan(replica=False, generation=3), mode="promoted")
    assert (rows["primary"].status, rows["primary"].detail) == (
        "pass",
        "writable, status available",
    )


def test_peer_lost_skips_what_needs_the_lost_region(world: World) -> None:
    ctx = readiness.Context(
        targets=readiness.targets_from_plans(dr_plan(), prod_plan()),
        clients=world.clients,
        rpo_seconds=300,
        now=world.now,
        peer_lost=True,
    )
    rows = {r.check: r for r in readiness.run(ctx)}
    assert rows["s3 replication"].status == "skip"
    assert rows["health check"].detail == "the Route 53 API is served from us-east-1 (lost)"
    assert rows["replica"].status == "pass"


def test_nothing_declared_is_skipped_not_passed() -> None:
    t = readiness.Targets(stack="dr", region="us-west-2", peer_region="us-east-1")
    ctx = readiness.Context(t, readiness.Clients(), 300, readiness.now_utc())
    rows = readiness.run(ctx)
    assert {r.status for r in rows} == {"skip"}
    assert rows[0].detail == "no RDS read replica declared in this plan"


def test_cli_on_the_real_stacks_against_an_empty_moto_account(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The real dr plan declares a replica, five replicated buckets, a vault, a health check and
    the replica key: in an empty account each check that can look fails, S3 has no traffic to
    measure, and the run exits 1. (moto has no ListRecoveryPointsByBackupVault: that row fails
    with moto's "not yet implemented", which the CLI reports rather than hides.)"""
    with mock_aws():
        assert main(["readiness", "dr"]) == 1
    rows = {}
    for line in capsys.readouterr().out.splitlines():
        for check in ("replica", "recovery point", "health check", "kms key", "s3 replication"):
            if line.startswith(check + " "):
                rows.setdefault(check, []).append(line)
    assert [r.split()[1] for r in rows["replica"]] == ["reskflow-postgres-g2"]
    assert "FAIL" in rows["replica"][0] and "replica missing" in rows["replica"][0]
    assert len(rows["s3 replication"]) == 5 and all(" SKIP " in r for r in rows["s3 replication"])
    assert (
        " FAIL " in rows["recovery point"][0]
        and "reskflow-dr-us-west-2" in rows["recovery point"][0]
    )
    assert "no health check for this endpoint" in rows["health check"][0]
    (key_row,) = rows["kms key"]
    assert "alias/reskflow-dr" in key_row and " FAIL " in key_row and "NotFound" in key_row
