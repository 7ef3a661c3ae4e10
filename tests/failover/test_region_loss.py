"""Region loss: every us-east-1 endpoint refuses connections (its clients point at a closed local
port), and the ungraceful activation of us-west-2 completes through the local runner and the
real handlers, in both traffic modes, without creating or calling any us-east-1 client. The
us-west-2 APIs are botocore Stubbers (moto implements neither the Global Datastore, DocumentDB
global clusters nor the ARC data plane); the ARC endpoints of other regions too. A control test
shows the refusal bites: the graceful path, which must fence us-east-1, fails there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from failover_steps.workflows import Mode, Step
from reskflow_dr.failover.approvals import environment_approver
from reskflow_dr.failover.local import aws_executors, run_local
from tests.failover.conftest import ACCOUNT, EAST, WEST, Clients, make_config

EAST_DOC = f"arn:aws:rds:{EAST}:{ACCOUNT}:cluster:reskflow-docdb-east"
WEST_DOC = f"arn:aws:rds:{WEST}:{ACCOUNT}:cluster:reskflow-docdb-west"
CONTROLS = f"arn:aws:route53-recovery-control::{ACCOUNT}:controlpanel/cp/routingcontrol"


def writer(arn: str) -> dict[str, Any]:
    return {
        "GlobalClusters": [
            {
                "Status": "available",
                "GlobalClusterMembers": [
                    {"DBClusterArn": EAST_DOC, "IsWriter": arn == EAST_DOC},
                    {"DBClusterArn": WEST_DOC, "IsWriter": arn == WEST_DOC},
                ],
            }
        ]
    }


def stub_west_stores(clients: Clients) -> None:
    rds = clients.stub("rds", WEST)
    replica = {"DBInstanceStatus": "available", "ReadReplicaSourceDBInstanceIdentifier": "arn:g1"}
    rds.add_response("describe_db_instances", {"DBInstances": [replica]})
    rds.add_response("promote_read_replica", {}, {"DBInstanceIdentifier": "reskflow-postgres-g2"})
    for _ in range(2):  # the bounded wait, then verify-writable
        rds.add_response(
            "describe_db_instances", {"DBInstances": [{"DBInstanceStatus": "available"}]}
        )

    cache = clients.stub("elasticache", WEST)
    members = [
        {"ReplicationGroupId": "reskflow-redis-east", "Role": "PRIMARY"},
        {"ReplicationGroupId": "reskflow-redis-west", "Role": "SECONDARY"},
    ]
    cache.add_response(
        "describe_global_replication_groups", {"GlobalReplicationGroups": [{"Members": members}]}
    )
    cache.add_response(
        "disassociate_global_replication_group",
        {},
        {
            "GlobalReplicationGroupId": "ldgnf-reskflow-redis",
            "ReplicationGroupId": "reskflow-redis-west",
            "ReplicationGroupRegion": WEST,
        },
    )
    for _ in range(2):  # the bounded wait, then verify-writable
        cache.add_response(
            "describe_global_replication_groups",
            {"GlobalReplicationGroups": [{"Members": members[:1]}]},
        )
    cache.add_response(
        "describe_replication_groups", {"ReplicationGroups": [{"Status": "available"}]}
    )

    docdb = clients.stub("docdb", WEST)
    docdb.add_response("describe_global_clusters", writer(EAST_DOC))
    docdb.add_response(
        "failover_global_cluster",
        {},
        {
            "GlobalClusterIdentifier": "reskflow-docdb-global",
            "TargetDbClusterIdentifier": WEST_DOC,
            "AllowDataLoss": True,
        },
    )
    for _ in range(2):  # the bounded wait, then verify-writable
        docdb.add_response("describe_global_clusters", writer(WEST_DOC))


def stub_arc(clients: Clients) -> None:
    config = make_config()
    endpoint = {e.region: e.endpoint for e in config.cluster_endpoints}
    clients.stub(
        "route53-recovery-cluster", "ap-northeast-1", endpoint["ap-northeast-1"]
    ).add_client_error("update_routing_control_states", "ThrottlingException", http_status_code=429)
    ok = clients.stub("route53-recovery-cluster", "eu-west-1", endpoint["eu-west-1"])
    ok.add_response(
        "update_routing_control_states",
        {},
        {
            "UpdateRoutingControlStateEntries": [
                {"RoutingControlArn": f"{CONTROLS}/east", "RoutingControlState": "Off"},
                {"RoutingControlArn": f"{CONTROLS}/west", "RoutingControlState": "On"},
            ]
        },
    )
    for side, state in (("east", "Off"), ("west", "On")):
        ok.add_response(
            "get_routing_control_state",
            {"RoutingControlArn": f"{CONTROLS}/{side}", "RoutingControlState": state},
        )


def activate_west(clients: Clients, tmp_path: Path, traffic: str, mode: Mode = "ungraceful") -> Any:
    scaled: list[str] = []

    def scale(step: Step, target: str, run_mode: Mode) -> dict[str, Any]:
        scaled.append(target)
        return {"scaled": target}

    clients.lose(EAST)
    executors = aws_executors(make_config(traffic), scale)
    result = run_local(
        WEST,
        mode,
        executors,
        tmp_path / "journal.json",
        approver=environment_approver({"RESKFLOW_APPROVED_BY": "incident-commander"}),
    )
    return result, scaled


def test_disaster_path_completes_in_arc_mode_without_us_east_1(
    clients: Clients, tmp_path: Path
) -> None:
    stub_west_stores(clients)
    stub_arc(clients)

    result, scaled = activate_west(clients, tmp_path, "arc")

    assert (result.outcome, result.message) == ("completed", "")
    assert scaled == [WEST]
    clients.assert_all_used()
    assert clients.regions_called() == {WEST, "ap-northeast-1", "eu-west-1"}
    assert EAST not in {region for _, region, _ in clients.created}
    assert not any(EAST in (url or "") for _, _, url in clients.created)


def test_disaster_path_completes_in_signal_mode_without_us_east_1(
    clients: Clients, tmp_path: Path
) -> None:
    stub_west_stores(clients)
    clients.stub("cloudwatch", WEST).add_response("put_metric_data", {})

    result, _ = activate_west(clients, tmp_path, "signal")

    assert result.outcome == "completed"
    switch = {r.name: r for r in result.records}["switch-traffic"]
    assert switch.result["notes"] == ["us-east-1: not called (region declared lost)"]
    clients.assert_all_used()
    assert clients.regions_called() == {WEST}
    assert EAST not in {region for _, region, _ in clients.created}


def test_control_the_graceful_path_needs_us_east_1_and_fails_there(
    clients: Clients, tmp_path: Path
) -> None:
    result, _ = activate_west(clients, tmp_path, "arc", mode="graceful")

    assert (result.outcome, result.stopped_at) == ("failed", "fence-peer")
    assert result.message.startswith("fence-peer failed: EndpointConnectionError: ")
    assert clients.calls == [("rds", EAST, "DescribeDBInstances")]
