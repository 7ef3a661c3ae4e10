"""The steps whose APIs moto does not implement, against botocore's Stubber: ElastiCache Global
Datastore failover and disassociation, DocumentDB global switchover and failover (moto has no
DocumentDB engine), the ARC cluster data plane (route53-recovery-cluster), and the RDS re-run
after a promotion (moto keeps reporting the replica source). The Stubber checks every request's
parameters against the expected ones and the botocore service model."""

from __future__ import annotations

from typing import Any

import pytest

from failover_steps.aws import StepError
from failover_steps.contract import StepConfig
from failover_steps.promote import failover_cache, failover_docdb, promote_postgres
from failover_steps.traffic import get_routing_control_states, set_routing_controls
from failover_steps.verify import verify_writable
from tests.failover.conftest import ACCOUNT, EAST, WEST, Clients

GLOBAL_DATASTORE = {"GlobalReplicationGroupId": "ldgnf-reskflow-redis", "ShowMemberInfo": True}
WEST_DOC_ARN = f"arn:aws:rds:{WEST}:{ACCOUNT}:cluster:reskflow-docdb-west"
EAST_DOC_ARN = f"arn:aws:rds:{EAST}:{ACCOUNT}:cluster:reskflow-docdb-east"


def datastore(west_role: str | None) -> dict[str, Any]:
    members = [{"ReplicationGroupId": "reskflow-redis-east", "ReplicationGroupRegion": EAST}]
    members[0]["Role"] = "SECONDARY" if west_role == "PRIMARY" else "PRIMARY"
    if west_role:
        members.append(
            {"ReplicationGroupId": "reskflow-redis-west", "ReplicationGroupRegion": WEST}
        )
        members[1]["Role"] = west_role
    return {"GlobalReplicationGroups": [{"Members": members}]}


def global_cluster(writer: str, status: str = "available") -> dict[str, Any]:
    return {
        "GlobalClusters": [
            {
                "Status": status,
                "GlobalClusterMembers": [
                    {"DBClusterArn": EAST_DOC_ARN, "IsWriter": writer == EAST_DOC_ARN},
                    {"DBClusterArn": WEST_DOC_ARN, "IsWriter": writer == WEST_DOC_ARN},
                ],
            }
        ]
    }


def test_cache_graceful_fails_over_once(clients: Clients, config: StepConfig) -> None:
    stub = clients.stub("elasticache", WEST)
    stub.add_response(
        "describe_global_replication_groups", datastore("SECONDARY"), GLOBAL_DATASTORE
    )
    stub.add_response(
        "failover_global_replication_group",
        {},
        {
            "GlobalReplicationGroupId": "ldgnf-reskflow-redis",
            "PrimaryRegion": WEST,
            "PrimaryReplicationGroupId": "reskflow-redis-west",
        },
    )
    stub.add_response("describe_global_replication_groups", datastore("PRIMARY"), GLOBAL_DATASTORE)

    first = failover_cache(config, WEST, "graceful")
    second = failover_cache(config, WEST, "graceful")

    assert first.changed == ("elasticache:FailoverGlobalReplicationGroup -> reskflow-redis-west",)
    assert second.changed == ()
    clients.assert_all_used()
    assert clients.regions_called() == {WEST}


def test_cache_ungraceful_disassociates_in_the_target_region_once(
    clients: Clients, config: StepConfig
) -> None:
    stub = clients.stub("elasticache", WEST)
    stub.add_response(
        "describe_global_replication_groups", datastore("SECONDARY"), GLOBAL_DATASTORE
    )
    stub.add_response(
        "disassociate_global_replication_group",
        {},
        {
            "GlobalReplicationGroupId": "ldgnf-reskflow-redis",
            "ReplicationGroupId": "reskflow-redis-west",
            "ReplicationGroupRegion": WEST,
        },
    )
    stub.add_response("describe_global_replication_groups", datastore(None), GLOBAL_DATASTORE)

    first = failover_cache(config, WEST, "ungraceful")
    second = failover_cache(config, WEST, "ungraceful")

    assert first.changed == ("elasticache:DisassociateGlobalReplicationGroup reskflow-redis-west",)
    assert (second.changed, dict(second.data)) == ((), {"role_before": "standalone"})
    clients.assert_all_used()
    assert clients.regions_called() == {WEST}


def test_cache_graceful_refuses_a_group_outside_the_datastore(
    clients: Clients, config: StepConfig
) -> None:
    stub = clients.stub("elasticache", WEST)
    stub.add_client_error(
        "describe_global_replication_groups",
        "GlobalReplicationGroupNotFoundFault",
        http_status_code=404,
    )
    with pytest.raises(StepError) as err:
        failover_cache(config, WEST, "graceful")
    assert str(err.value) == (
        "reskflow-redis-west is not a member of the Global Datastore ldgnf-reskflow-redis: "
        "a graceful failover cannot promote it"
    )


@pytest.mark.parametrize(
    ("mode", "operation", "extra", "changed"),
    [
        (
            "graceful",
            "switchover_global_cluster",
            {},
            "docdb:SwitchoverGlobalCluster -> reskflow-docdb-west",
        ),
        (
            "ungraceful",
            "failover_global_cluster",
            {"AllowDataLoss": True},
            "docdb:FailoverGlobalCluster (AllowDataLoss) -> reskflow-docdb-west",
        ),
    ],
)
def test_docdb_promotes_the_target_cluster_by_arn_once(
    clients: Clients,
    config: StepConfig,
    mode: str,
    operation: str,
    extra: dict[str, Any],
    changed: str,
) -> None:
    stub = clients.stub("docdb", WEST)
    ident = {"GlobalClusterIdentifier": "reskflow-docdb-global"}
    stub.add_response("describe_global_clusters", global_cluster(EAST_DOC_ARN), ident)
    stub.add_response(operation, {}, {**ident, "TargetDbClusterIdentifier": WEST_DOC_ARN, **extra})
    stub.add_response("describe_global_clusters", global_cluster(WEST_DOC_ARN), ident)

    first = failover_docdb(config, WEST, mode)  # type: ignore[arg-type]
    second = failover_docdb(config, WEST, mode)  # type: ignore[arg-type]

    assert (first.changed, second.changed) == ((changed,), ())
    clients.assert_all_used()
    assert clients.regions_called() == {WEST}


def test_docdb_waits_while_a_change_is_under_way(clients: Clients, config: StepConfig) -> None:
    stub = clients.stub("docdb", WEST)
    stub.add_response("describe_global_clusters", global_cluster(EAST_DOC_ARN, "failing-over"))

    result = failover_docdb(config, WEST, "ungraceful")

    assert result.changed == ()
    assert result.notes == (
        "global cluster reskflow-docdb-global is failing-over: change under way",
    )


def test_promote_rerun_after_promotion_calls_nothing(clients: Clients, config: StepConfig) -> None:
    stub = clients.stub("rds", WEST)
    promoted = {"DBInstances": [{"DBInstanceStatus": "available"}]}
    stub.add_response("describe_db_instances", promoted)
    stub.add_response("describe_db_instances", promoted)

    result = promote_postgres(config, WEST)

    assert result.changed == ()
    assert clients.operations() == ["DescribeDBInstances", "DescribeDBInstances"]


def stub_verify(clients: Clients, *, writer: str, cache_role: str | None) -> None:
    rds = clients.stub("rds", WEST)
    rds.add_response(
        "describe_db_instances",
        {"DBInstances": [{"DBInstanceStatus": "available"}]},
        {"DBInstanceIdentifier": "reskflow-postgres-g2"},
    )
    clients.stub("docdb", WEST).add_response("describe_global_clusters", global_cluster(writer))
    cache = clients.stub("elasticache", WEST)
    cache.add_response("describe_global_replication_groups", datastore(cache_role))
    cache.add_response(
        "describe_replication_groups", {"ReplicationGroups": [{"Status": "available"}]}
    )


def test_verify_lists_each_check(clients: Clients, config: StepConfig) -> None:
    stub_verify(clients, writer=WEST_DOC_ARN, cache_role=None)

    result = verify_writable(config, WEST)

    assert result.ok
    assert [(c.name, c.ok, c.detail) for c in result.checks] == [
        ("postgres-writable", True, "reskflow-postgres-g2: available, replica of nothing"),
        (
            "docdb-writer",
            True,
            f"global cluster reskflow-docdb-global (available) writer {WEST_DOC_ARN}",
        ),
        (
            "cache-primary",
            True,
            "reskflow-redis-west: standalone in ldgnf-reskflow-redis, available",
        ),
    ]
    assert clients.regions_called() == {WEST}


def test_verify_fails_when_the_peer_still_writes(clients: Clients, config: StepConfig) -> None:
    stub_verify(clients, writer=EAST_DOC_ARN, cache_role="SECONDARY")

    result = verify_writable(config, WEST)

    assert not result.ok
    assert [c.name for c in result.checks if not c.ok] == ["docdb-writer", "cache-primary"]


CONTROLS = f"arn:aws:route53-recovery-control::{ACCOUNT}:controlpanel/cp/routingcontrol"
ENTRIES = [
    {"RoutingControlArn": f"{CONTROLS}/east", "RoutingControlState": "Off"},
    {"RoutingControlArn": f"{CONTROLS}/west", "RoutingControlState": "On"},
]


def arc(clients: Clients, config: StepConfig, region: str) -> Any:
    endpoint = next(e.endpoint for e in config.cluster_endpoints if e.region == region)
    return clients.stub("route53-recovery-cluster", region, endpoint)


def stub_states(stubber: Any, east: str, west: str) -> None:
    for entry, state in zip(ENTRIES, (east, west), strict=True):
        stubber.add_response(
            "get_routing_control_state",
            {"RoutingControlArn": entry["RoutingControlArn"], "RoutingControlState": state},
            {"RoutingControlArn": entry["RoutingControlArn"]},
        )


def test_arc_tries_endpoints_in_turn_and_sets_both_controls_in_one_call(
    clients: Clients, config: StepConfig
) -> None:
    clients.lose(EAST)
    arc(clients, config, "ap-northeast-1").add_client_error(
        "update_routing_control_states", "ThrottlingException", http_status_code=429
    )
    arc(clients, config, "eu-west-1").add_client_error(
        "update_routing_control_states", "InternalServerException", http_status_code=500
    )
    ok = arc(clients, config, WEST)
    ok.add_response(
        "update_routing_control_states", {}, {"UpdateRoutingControlStateEntries": ENTRIES}
    )
    stub_states(ok, "Off", "On")

    result = set_routing_controls(config, WEST)

    assert result.ok
    assert result.notes == (
        "endpoint unavailable: us-east-1: EndpointConnectionError",
        "endpoint unavailable: ap-northeast-1: ThrottlingException",
        "endpoint unavailable: eu-west-1: InternalServerException",
    )
    assert [r for _, r, op in clients.calls if op == "UpdateRoutingControlStates"] == [
        EAST,
        "ap-northeast-1",
        "eu-west-1",
        WEST,
    ]
    clients.assert_all_used()


def test_arc_never_calls_an_avoided_region(clients: Clients, config: StepConfig) -> None:
    ok = arc(clients, config, "ap-northeast-1")
    ok.add_response(
        "update_routing_control_states", {}, {"UpdateRoutingControlStateEntries": ENTRIES}
    )
    stub_states(ok, "Off", "On")

    set_routing_controls(config, WEST, avoid_regions=(EAST,))

    assert {region for _, region, _ in clients.created} == {"ap-northeast-1"}


def test_arc_stops_at_a_safety_rule_refusal(clients: Clients, config: StepConfig) -> None:
    clients.lose(EAST)
    arc(clients, config, "ap-northeast-1").add_client_error(
        "update_routing_control_states",
        "ValidationException",
        "Cannot update routing control state: safety rule violated",
        http_status_code=400,
    )

    with pytest.raises(StepError, match=r"^ARC endpoint https://host-ap-northeast-1\S+ refused: "):
        set_routing_controls(config, WEST, avoid_regions=(EAST,))
    assert {region for _, region, _ in clients.created} == {"ap-northeast-1"}


def test_arc_reads_states_from_the_first_endpoint_that_answers(
    clients: Clients, config: StepConfig
) -> None:
    clients.lose(EAST)
    stub_states(arc(clients, config, "ap-northeast-1"), "On", "Off")

    assert get_routing_control_states(config) == {EAST: "On", WEST: "Off"}


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def test_cache_failover_waits_until_the_target_is_primary(
    clients: Clients, config: StepConfig
) -> None:
    stub = clients.stub("elasticache", WEST)
    stub.add_response("describe_global_replication_groups", datastore("SECONDARY"))
    stub.add_response("failover_global_replication_group", {})
    stub.add_response("describe_global_replication_groups", datastore("SECONDARY"))
    stub.add_response("describe_global_replication_groups", datastore("PRIMARY"))
    fake = FakeTime()

    result = failover_cache(
        config, WEST, "graceful", wait_s=600, sleep=fake.sleep, clock=fake.clock
    )

    assert result.changed == ("elasticache:FailoverGlobalReplicationGroup -> reskflow-redis-west",)
    assert fake.slept == [15.0]
    clients.assert_all_used()


def test_cache_graceful_does_not_call_again_while_a_change_is_under_way(
    clients: Clients, config: StepConfig
) -> None:
    busy = datastore("SECONDARY")
    busy["GlobalReplicationGroups"][0]["Status"] = "modifying"
    clients.stub("elasticache", WEST).add_response("describe_global_replication_groups", busy)

    result = failover_cache(config, WEST, "graceful")

    assert (result.changed, result.notes) == (
        (),
        ("Global Datastore ldgnf-reskflow-redis is modifying: change under way",),
    )


def test_docdb_wait_is_bounded(clients: Clients, config: StepConfig) -> None:
    stub = clients.stub("docdb", WEST)
    stub.add_response("describe_global_clusters", global_cluster(EAST_DOC_ARN))
    stub.add_response("switchover_global_cluster", {})
    for _ in range(3):
        stub.add_response(
            "describe_global_clusters", global_cluster(EAST_DOC_ARN, "switching-over")
        )
    fake = FakeTime()

    with pytest.raises(StepError) as err:
        failover_docdb(
            config, WEST, "graceful", wait_s=20, poll_s=10, sleep=fake.sleep, clock=fake.clock
        )

    assert str(err.value) == (
        "global cluster reskflow-docdb-global is still switching-over with writer "
        f"{EAST_DOC_ARN} after 20 s"
    )
    assert fake.slept == [10.0, 10.0]
    clients.assert_all_used()
