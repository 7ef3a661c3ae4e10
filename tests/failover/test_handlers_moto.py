"""The RDS and CloudWatch steps against moto (``mock_aws``), which implements DescribeDBInstances,
ModifyDBInstance, PromoteReadReplica and PutMetricData. moto has no DocumentDB engine, and its
ModifyReplicationGroup ignores security groups, so the DocumentDB and ElastiCache legs of fencing
are botocore Stubbers here.

moto deviations, worked around and said so: a read replica is created in the same region as its
source (AWS's is cross-region), and after PromoteReadReplica moto still reports
``ReadReplicaSourceDBInstanceIdentifier``, so the promoted state is read from moto's backend and
the re-run after promotion is covered with a Stubber in test_handlers_stubbed.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.rds.models import rds_backends

from failover_steps.aws import StepError
from failover_steps.contract import StepConfig
from failover_steps.fence import fence_region
from failover_steps.promote import promote_postgres, wait_postgres_writable
from failover_steps.traffic import set_traffic_signal
from tests.failover.conftest import ACCOUNT, EAST, WEST, Clients, make_config


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


def create_postgres(region: str, ident: str, replica_of: str = "") -> None:
    rds = boto3.client("rds", region_name=region)
    if replica_of:
        rds.create_db_instance_read_replica(
            DBInstanceIdentifier=ident,
            SourceDBInstanceIdentifier=replica_of,
            VpcSecurityGroupIds=["sg-app"],
        )
        return
    rds.create_db_instance(
        DBInstanceIdentifier=ident,
        Engine="postgres",
        DBInstanceClass="db.r6g.large",
        AllocatedStorage=20,
        MasterUsername="reskflow",
        MasterUserPassword="not-a-secret-1",
        VpcSecurityGroupIds=["sg-app"],
    )


def test_promote_calls_promote_read_replica_for_a_replica(
    moto: None, clients: Clients, config: StepConfig
) -> None:
    create_postgres(WEST, "reskflow-postgres-g1")
    create_postgres(WEST, "reskflow-postgres-g2", replica_of="reskflow-postgres-g1")

    result = promote_postgres(config, WEST)

    assert result.changed == (
        "rds:PromoteReadReplica reskflow-postgres-g2 (replica of reskflow-postgres-g1)",
    )
    assert clients.operations("rds") == [
        "DescribeDBInstances",
        "PromoteReadReplica",
        "DescribeDBInstances",
    ]
    assert rds_backends[ACCOUNT][WEST].databases["reskflow-postgres-g2"].is_replica is False
    assert clients.regions_called() == {WEST}


def test_promote_leaves_a_standalone_instance_alone(
    moto: None, clients: Clients, config: StepConfig
) -> None:
    create_postgres(WEST, "reskflow-postgres-g2")

    first = promote_postgres(config, WEST)
    second = promote_postgres(config, WEST)

    assert first.changed == second.changed == ()
    assert dict(second.data) == {"status": "available", "replica_of": "", "writable": "true"}
    assert "PromoteReadReplica" not in clients.operations()


def test_wait_is_bounded_and_names_the_instance(
    moto: None, clients: Clients, config: StepConfig
) -> None:
    create_postgres(WEST, "reskflow-postgres-g1")
    create_postgres(WEST, "reskflow-postgres-g2", replica_of="reskflow-postgres-g1")
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with pytest.raises(StepError) as err:
        wait_postgres_writable(
            config, WEST, timeout_s=40, poll_s=15, sleep=sleep, clock=lambda: now[0]
        )
    assert str(err.value) == (
        "reskflow-postgres-g2 in us-west-2 is still 'available' and a replica after 40 s"
    )
    assert slept == [15, 15, 10]


def stub_fenced_docdb_and_cache(clients: Clients, fenced: bool) -> None:
    doc = clients.stub("docdb", WEST)
    doc_group = "sg-fence-doc-west" if fenced else "sg-app"
    doc.add_response(
        "describe_db_clusters",
        {"DBClusters": [{"VpcSecurityGroups": [{"VpcSecurityGroupId": doc_group}]}]},
        {"DBClusterIdentifier": "reskflow-docdb-west"},
    )
    if not fenced:
        doc.add_response(
            "modify_db_cluster",
            {"DBCluster": {}},
            {
                "DBClusterIdentifier": "reskflow-docdb-west",
                "VpcSecurityGroupIds": ["sg-fence-doc-west"],
                "ApplyImmediately": True,
            },
        )
    cache = clients.stub("elasticache", WEST)
    cache.add_response(
        "describe_replication_groups",
        {"ReplicationGroups": [{"MemberClusters": ["reskflow-redis-west-001"]}]},
        {"ReplicationGroupId": "reskflow-redis-west"},
    )
    cache_group = "sg-fence-redis-west" if fenced else "sg-app"
    cache.add_response(
        "describe_cache_clusters",
        {"CacheClusters": [{"SecurityGroups": [{"SecurityGroupId": cache_group}]}]},
        {"CacheClusterId": "reskflow-redis-west-001"},
    )
    if not fenced:
        cache.add_response(
            "modify_replication_group",
            {"ReplicationGroup": {}},
            {
                "ReplicationGroupId": "reskflow-redis-west",
                "SecurityGroupIds": ["sg-fence-redis-west"],
                "ApplyImmediately": True,
            },
        )


def test_fence_attaches_every_fence_group_once(
    moto: None, clients: Clients, config: StepConfig
) -> None:
    create_postgres(WEST, "reskflow-postgres-g2")
    stub_fenced_docdb_and_cache(clients, fenced=False)

    first = fence_region(config, WEST)

    assert first.changed == (
        "rds:ModifyDBInstance reskflow-postgres-g2 -> sg-fence-pg-west",
        "rds:ModifyDBCluster reskflow-docdb-west -> sg-fence-doc-west",
        "elasticache:ModifyReplicationGroup reskflow-redis-west -> sg-fence-redis-west",
    )
    found = boto3.client("rds", region_name=WEST).describe_db_instances(
        DBInstanceIdentifier="reskflow-postgres-g2"
    )["DBInstances"][0]["VpcSecurityGroups"]
    assert [g["VpcSecurityGroupId"] for g in found] == ["sg-fence-pg-west"]
    clients.assert_all_used()

    stub_fenced_docdb_and_cache(clients, fenced=True)
    second = fence_region(config, WEST)
    assert second.changed == ()
    assert clients.operations().count("ModifyDBInstance") == 1
    clients.assert_all_used()
    assert clients.regions_called() == {WEST}


def signal_values(region: str) -> dict[str, float]:
    cw = boto3.client("cloudwatch", region_name=region)
    now = dt.datetime.now(dt.UTC)
    found: dict[str, float] = {}
    for target in (EAST, WEST):
        points: list[dict[str, Any]] = cw.get_metric_statistics(
            Namespace="ReskFlow/DR",
            MetricName="RegionActive",
            Dimensions=[{"Name": "Region", "Value": target}],
            StartTime=now - dt.timedelta(minutes=5),
            EndTime=now + dt.timedelta(minutes=5),
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
        found[target] = points[-1]["Maximum"]
    return found


def test_signal_is_published_into_every_signal_region(moto: None, clients: Clients) -> None:
    config = make_config("signal")

    result = set_traffic_signal(config, WEST)

    assert signal_values(EAST) == signal_values(WEST) == {EAST: 0.0, WEST: 1.0}
    assert result.changed == (
        "cloudwatch:PutMetricData ReskFlow/DR in us-east-1",
        "cloudwatch:PutMetricData ReskFlow/DR in us-west-2",
    )
    assert result.ok and result.notes == ()


def test_signal_skips_a_lost_region_without_calling_it(moto: None, clients: Clients) -> None:
    config = make_config("signal")

    result = set_traffic_signal(config, WEST, avoid_regions=(EAST,))

    assert signal_values(WEST) == {EAST: 0.0, WEST: 1.0}
    assert result.notes == ("us-east-1: not called (region declared lost)",)
    assert clients.regions_called() == {WEST}


def test_signal_survives_an_unreachable_peer_but_not_an_unreachable_active_region(
    clients: Clients,
) -> None:
    config = make_config("signal")
    clients.lose(EAST)
    ok = clients.stub("cloudwatch", WEST)
    ok.add_response("put_metric_data", {})

    result = set_traffic_signal(config, WEST)

    assert result.notes == (
        "us-east-1: unreachable (EndpointConnectionError), signal not published",
    )
    assert [c.name for c in result.checks] == ["signal:us-west-2"]
    assert result.ok

    with pytest.raises(StepError, match=r"^publishing the signal into us-east-1 failed: "):
        set_traffic_signal(config, EAST)
