"""The activation as the CLI runs it: the step config from the real stacks' settings and a fake
Automation workspace's outputs; Region switch started and followed against a botocore Stubber of
``arc-region-switch`` (moto has no Region switch), then the steps an ungraceful execution skips,
run here against Stubbers of RDS, ElastiCache, DocumentDB and the ARC data plane (moto has no
Global Datastore, DocumentDB global cluster or ARC cluster API). Every us-east-1 endpoint refuses
connections and prod's state is unreachable: ``drill disaster --execute`` completes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY

from failover_steps.contract import ClusterEndpoint, RegionFacts, StepConfig
from reskflow_dr import activation, orchestrate
from reskflow_dr.cli import main
from reskflow_dr.drill import Mode as ReadinessMode
from reskflow_dr.preview import ROOT, validated
from tests.automation_fakes import FakeWorkspace
from tests.failover.conftest import EAST, WEST, Clients, make_config
from tests.failover.test_region_loss import CONTROLS, stub_arc

PLAN = "arn:aws:arc-region-switch::123456789012:plan/reskflow-dr:abc123"
EXECUTION = "us-west-2/0123456789abcdef"
IDS = {"planArn": PLAN, "executionId": EXECUTION}
T0 = dt.datetime(2026, 12, 4, 17, 0, 0, tzinfo=dt.UTC)
ACCOUNT = "123456789012"
PG, DOC, REDIS = "reskflow-postgres-g2", "reskflow-docdb-us-west-2", "reskflow-redis-us-west-2"
DATASTORE = "uvxag-reskflow-redis"
EAST_DOC = f"arn:aws:rds:{EAST}:{ACCOUNT}:cluster:reskflow-docdb-us-east-1"
WEST_DOC = f"arn:aws:rds:{WEST}:{ACCOUNT}:cluster:{DOC}"
FENCES = {"postgres": "sg-fence-pg", "docdb": "sg-fence-doc", "cache": "sg-fence-redis"}
DR_OUTPUTS: dict[str, Any] = {
    activation.FENCE_GROUPS_OUTPUT: FENCES,
    activation.ROUTING_CONTROLS_OUTPUT: {EAST: f"{CONTROLS}/east", WEST: f"{CONTROLS}/west"},
    activation.CLUSTER_ENDPOINTS_OUTPUT: [
        {"region": e.region, "endpoint": e.endpoint} for e in make_config().cluster_endpoints
    ],
    activation.PLAN_ARN_OUTPUT: PLAN,
}


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_step_config_comes_from_the_stacks_settings_and_the_survivors_outputs() -> None:
    settings = {EAST: validated(ROOT, "prod"), WEST: validated(ROOT, "dr")}
    config = activation.load_step_config(settings, {WEST: DR_OUTPUTS})
    assert config == StepConfig(
        account_id=ACCOUNT,
        regions={
            EAST: RegionFacts(
                EAST,
                "reskflow-postgres-g1",
                "reskflow-docdb-us-east-1",
                "reskflow-redis-us-east-1",
                {},
                f"{CONTROLS}/east",
            ),
            WEST: RegionFacts(WEST, PG, DOC, REDIS, FENCES, f"{CONTROLS}/west"),
        },
        docdb_global_id="reskflow-docdb",
        cache_global_id=DATASTORE,
        traffic_mode="arc",
        cluster_endpoints=make_config().cluster_endpoints,
        signal_regions=(EAST, WEST),
    )
    assert isinstance(config.cluster_endpoints[0], ClusterEndpoint)


def test_step_config_needs_both_regions() -> None:
    with pytest.raises(activation.ActivationError, match="needs both regions' settings"):
        activation.load_step_config({WEST: validated(ROOT, "dr")})


def writer(arn: str) -> dict[str, Any]:
    members = [
        {"DBClusterArn": EAST_DOC, "IsWriter": arn == EAST_DOC},
        {"DBClusterArn": WEST_DOC, "IsWriter": arn == WEST_DOC},
    ]
    return {"GlobalClusters": [{"Status": "available", "GlobalClusterMembers": members}]}


def stub_west_stores(clients: Clients, docdb_by_tool: bool) -> None:
    """us-west-2's stores as the ungraceful steps see them, with the real stacks' identifiers."""
    rds = clients.stub("rds", WEST)
    replica = {"DBInstanceStatus": "available", "ReadReplicaSourceDBInstanceIdentifier": "arn:g1"}
    rds.add_response("describe_db_instances", {"DBInstances": [replica]})
    rds.add_response("promote_read_replica", {}, {"DBInstanceIdentifier": PG})
    for _ in range(2):  # the bounded wait, then verify-writable
        rds.add_response(
            "describe_db_instances", {"DBInstances": [{"DBInstanceStatus": "available"}]}
        )
    cache = clients.stub("elasticache", WEST)
    members = [
        {"ReplicationGroupId": "reskflow-redis-us-east-1", "Role": "PRIMARY"},
        {"ReplicationGroupId": REDIS, "Role": "SECONDARY"},
    ]
    cache.add_response(
        "describe_global_replication_groups", {"GlobalReplicationGroups": [{"Members": members}]}
    )
    cache.add_response(
        "disassociate_global_replication_group",
        {},
        {
            "GlobalReplicationGroupId": DATASTORE,
            "ReplicationGroupId": REDIS,
            "ReplicationGroupRegion": WEST,
        },
    )
    for _ in range(2):
        cache.add_response(
            "describe_global_replication_groups",
            {"GlobalReplicationGroups": [{"Members": members[:1]}]},
        )
    cache.add_response(
        "describe_replication_groups", {"ReplicationGroups": [{"Status": "available"}]}
    )
    docdb = clients.stub("docdb", WEST)
    if docdb_by_tool:
        docdb.add_response("describe_global_clusters", writer(EAST_DOC))
        docdb.add_response(
            "failover_global_cluster",
            {},
            {
                "GlobalClusterIdentifier": "reskflow-docdb",
                "TargetDbClusterIdentifier": WEST_DOC,
                "AllowDataLoss": True,
            },
        )
        docdb.add_response("describe_global_clusters", writer(WEST_DOC))
    docdb.add_response("describe_global_clusters", writer(WEST_DOC))  # verify-writable


def rs_step(name: str, status: str, start: int | None = None, end: int | None = None) -> Any:
    times = {"startTime": at(start), "endTime": at(end)} if start is not None else {}
    return {"name": name, "status": status, **times}


def execution(state: str, steps: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        **IDS,
        "startTime": T0,
        "mode": "ungraceful",
        "executionState": state,
        "executionAction": "activate",
        "executionRegion": WEST,
        "stepStates": steps,
        **extra,
    }


def stub_region_switch(clients: Clients, *, start: bool = True, waiting: bool = False) -> Any:
    rs = clients.stub("arc-region-switch", WEST)
    if start:
        rs.add_response(
            "start_plan_execution",
            {"executionId": EXECUTION},
            {
                "planArn": PLAN,
                "targetRegion": WEST,
                "action": "activate",
                "mode": "ungraceful",
                "comment": "reskflow-dr",
                "clientToken": ANY,
            },
        )
    if waiting:
        rs.add_response(
            "get_plan_execution",
            execution("pendingManualApproval", [rs_step("approve", "pendingApproval")]),
            IDS,
        )
        rs.add_response("list_plan_execution_events", {"items": []}, IDS)
        return rs
    done = [
        rs_step("approve", "completed", 0, 60),
        rs_step("scale-target", "completed", 60, 240),
        rs_step("failover-docdb", "completed", 240, 420),
        rs_step("promote-postgres", "skipped"),
    ]
    rs.add_response(
        "get_plan_execution", execution("completed", done, actualRecoveryTime="PT7M"), IDS
    )
    events = [
        {"eventId": "e1", "timestamp": at(60), "type": "stepSucceeded", "stepName": "approve"}
    ]
    rs.add_response("list_plan_execution_events", {"items": events}, IDS)
    return rs


@pytest.fixture
def workspace(monkeypatch: pytest.MonkeyPatch) -> FakeWorkspace:
    """prod's state is unreachable (its region is lost); dr answers with its outputs."""
    ws = FakeWorkspace()
    ws.unreachable.add("prod")
    ws.outputs["dr"] = DR_OUTPUTS
    monkeypatch.setattr(orchestrate, "AutomationWorkspace", lambda root=ROOT: ws)

    def gate(root: Path = ROOT, endpoint_url: str | None = None) -> orchestrate.Gate:
        def check(stack: str, mode: ReadinessMode, peer_lost: bool) -> tuple[bool, str]:
            ws.log.append(("gate", stack, mode, peer_lost))
            return True, "checks passed"

        return check

    monkeypatch.setattr(orchestrate, "live_gate", gate)
    monkeypatch.delenv("RESKFLOW_APPROVED_BY", raising=False)
    return ws


def test_drill_disaster_execute_completes_with_us_east_1_unreachable(
    clients: Clients, workspace: FakeWorkspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clients.lose(EAST)
    stub_region_switch(clients)
    stub_west_stores(clients, docdb_by_tool=False)
    stub_arc(clients)

    code = main(["drill", "disaster", "--quiet", "--execute", "--journal-dir", str(tmp_path)])

    out = capsys.readouterr().out
    assert code == 0, out
    assert "Executed steps 1-5: done." in out
    clients.assert_all_used()
    assert clients.regions_called() == {WEST, "ap-northeast-1", "eu-west-1"}
    assert EAST not in {region for _, region, _ in clients.created}
    assert not any(EAST in (url or "") for _, _, url in clients.created)
    assert {e[1] for e in workspace.log if e[0] in ("select", "outputs")} == {"dr"}
    kinds = [e[0] for e in workspace.actions()]
    assert kinds == ["gate", "config", "config", "config", "config", "refresh", "up", "gate"]
    assert workspace.actions()[0] == ("gate", "dr", "ready", True)
    assert workspace.actions()[-1] == ("gate", "dr", "promoted", True)
    report = json.loads((tmp_path / "activation-us-west-2.json").read_text())
    assert (report["runner"], report["outcome"], report["mode"]) == (
        "region-switch",
        "completed",
        "ungraceful",
    )
    assert report["actualRecoverySeconds"] == 420.0
    by = {s["step"]: s["ranBy"] for s in report["steps"]}
    assert by == {
        "approve": "region-switch",
        "scale-target": "region-switch",
        "failover-docdb": "region-switch",
        "promote-postgres": "local",
        "failover-cache": "local",
        "verify-writable": "local",
        "switch-traffic": "local",
    }
    assert [s["seconds"] for s in report["steps"][:3]] == [60.0, 180.0, 180.0]


def test_awaiting_approval_exits_4_and_a_second_run_follows_the_same_execution(
    clients: Clients,
    workspace: FakeWorkspace,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clients.lose(EAST)
    rs = stub_region_switch(clients, waiting=True)
    argv = ["failover", "--to", WEST, "--disaster", "--journal-dir", str(tmp_path)]

    assert main(argv) == 4
    assert (
        "Activation awaiting-approval (region-switch): no approval source"
        in capsys.readouterr().out
    )
    rs.assert_no_pending_responses()
    record = json.loads((tmp_path / "activation-us-west-2-ungraceful.execution.json").read_text())
    assert record["executionId"] == EXECUTION

    # approved by the job behind the protected environment: the same execution, no new start
    monkeypatch.setenv("RESKFLOW_APPROVED_BY", "alice (environment dr-failover)")
    rs.add_response(
        "get_plan_execution",
        execution("pendingManualApproval", [rs_step("approve", "pendingApproval")]),
        IDS,
    )
    rs.add_response("list_plan_execution_events", {"items": []}, IDS)
    rs.add_response(
        "approve_plan_execution_step",
        {},
        {
            **IDS,
            "stepName": "approve",
            "approval": "approve",
            "comment": "approved by alice (environment dr-failover) (environment) through "
            "reskflow-dr",
        },
    )
    stub_region_switch(clients, start=False)
    stub_west_stores(clients, docdb_by_tool=False)
    stub_arc(clients)
    monkeypatch.setattr("time.sleep", lambda _s: None)

    assert main(argv) == 0
    clients.assert_all_used()
    assert clients.operations("arc-region-switch").count("StartPlanExecution") == 1


def test_local_runner_runs_every_step_and_a_rerun_changes_nothing(
    clients: Clients,
    workspace: FakeWorkspace,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clients.lose(EAST)
    stub_west_stores(clients, docdb_by_tool=True)
    stub_arc(clients)
    monkeypatch.setenv("RESKFLOW_APPROVED_BY", "alice (environment dr-failover)")
    argv = [
        "failover",
        "--to",
        WEST,
        "--disaster",
        "--runner",
        "local",
        "--journal-dir",
        str(tmp_path),
    ]

    assert main(argv) == 0
    clients.assert_all_used()
    assert "arc-region-switch" not in {s for s, _, _ in clients.created}
    report = json.loads((tmp_path / "activation-us-west-2.json").read_text())
    assert report["runner"] == "local"
    assert [s["step"] for s in report["steps"]] == [
        "approve",
        "scale-target",
        "promote-postgres",
        "failover-cache",
        "failover-docdb",
        "verify-writable",
        "switch-traffic",
    ]
    # a completed activation's journal is archived: the next activation starts anew
    assert not (tmp_path / "activation-us-west-2-ungraceful.journal.json").exists()
    (archived,) = tmp_path.glob("activation-us-west-2-ungraceful.journal.*.done.json")
    journal = json.loads(archived.read_text())
    scale = next(s for s in journal["steps"] if s["name"] == "scale-target")
    assert scale["result"] == {
        "deferred": "the workloads in us-west-2 reach their active size at "
        "`pulumi up -s dr --policy-pack policy` (their replicas follow the role)"
    }


def test_local_runner_resumes_after_a_failed_step(
    clients: Clients,
    workspace: FakeWorkspace,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clients.lose(EAST)
    monkeypatch.setenv("RESKFLOW_APPROVED_BY", "alice (environment dr-failover)")
    rds = clients.stub("rds", WEST)
    rds.add_client_error("describe_db_instances", "InternalFailure", http_status_code=400)
    argv = ["failover", "--to", WEST, "--disaster", "--runner", "local"]
    argv += ["--journal-dir", str(tmp_path)]

    assert main(argv) == 1
    assert "Activation failed (local): promote-postgres failed" in capsys.readouterr().out
    clients.assert_all_used()

    clients.stubs.clear()
    stub_west_stores(clients, docdb_by_tool=True)
    stub_arc(clients)
    assert main(argv) == 0
    clients.assert_all_used()
    assert capsys.readouterr().out.count("completed in an earlier run") == 2  # approve, scale


def test_region_switch_without_a_plan_arn_is_a_usage_error(
    workspace: FakeWorkspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace.outputs["dr"] = {}
    argv = ["failover", "--to", WEST, "--disaster", "--runner", "region-switch"]
    assert main([*argv, "--journal-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        "reskflow-dr: --runner region-switch: no plan ARN (give --plan-arn, or export "
        "`regionSwitchPlanArn` from stack dr)"
    )
    assert not list(tmp_path.iterdir())


def test_failover_to_an_unknown_region_is_a_usage_error(
    workspace: FakeWorkspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["failover", "--to", "eu-west-1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "reskflow-dr: --to eu-west-1: expected one of us-east-1, us-west-2"
    )


def test_measured_durations_replace_the_promotion_assumption(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = activation.ActivationReport(
        WEST,
        "ungraceful",
        "local",
        "completed",
        durations={"approve": 30.0, "promote-postgres": 400.0, "switch-traffic": 2.0},
    )
    path = tmp_path / "activation-us-west-2.json"
    path.write_text(json.dumps(report.to_json()))
    out_json = tmp_path / "budget.json"
    assert main(["rto-rpo", "dr", "--quiet", "--measured", str(path), "--json", str(out_json)]) == 0
    promotion = json.loads(out_json.read_text())["components"]["promotion"]
    assert promotion == {
        "seconds": 432.0,
        "formula": "measured: sum of the steps (approve 30 s, promote-postgres 400 s, "
        "switch-traffic 2 s)",
        "source": str(path),
    }
    assert "configured assumption" not in capsys.readouterr().out


def test_a_file_that_is_no_activation_report_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"steps": 3}')
    assert main(["rto-rpo", "dr", "--quiet", "--measured", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"reskflow-dr: --measured {path}: not an activation report or failover journal (TypeError)"
    )


def test_fence_a_returning_region_from_its_own_outputs(
    clients: Clients, workspace: FakeWorkspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """``reskflow-dr fence prod``: prod's outputs name its fence groups; only us-east-1 is
    called (RDS, DocumentDB and ElastiCache Stubbers: moto ignores their security groups)."""
    workspace.unreachable.clear()
    workspace.outputs["prod"] = {activation.FENCE_GROUPS_OUTPUT: FENCES}
    rds = clients.stub("rds", EAST)
    rds.add_response(
        "describe_db_instances",
        {"DBInstances": [{"VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-app"}]}]},
        {"DBInstanceIdentifier": "reskflow-postgres-g1"},
    )
    rds.add_response(
        "modify_db_instance",
        {"DBInstance": {}},
        {
            "DBInstanceIdentifier": "reskflow-postgres-g1",
            "VpcSecurityGroupIds": ["sg-fence-pg"],
            "ApplyImmediately": True,
        },
    )
    doc = clients.stub("docdb", EAST)
    doc.add_response(
        "describe_db_clusters",
        {"DBClusters": [{"VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-fence-doc"}]}]},
        {"DBClusterIdentifier": "reskflow-docdb-us-east-1"},
    )
    cache = clients.stub("elasticache", EAST)
    cache.add_response(
        "describe_replication_groups",
        {"ReplicationGroups": [{"MemberClusters": ["reskflow-redis-us-east-1-001"]}]},
        {"ReplicationGroupId": "reskflow-redis-us-east-1"},
    )
    cache.add_response(
        "describe_cache_clusters",
        {"CacheClusters": [{"SecurityGroups": [{"SecurityGroupId": "sg-fence-redis"}]}]},
        {"CacheClusterId": "reskflow-redis-us-east-1-001"},
    )

    assert main(["fence", "prod"]) == 0

    clients.assert_all_used()
    assert clients.regions_called() == {EAST}
    assert capsys.readouterr().out.endswith(
        "Fenced us-east-1: rds:ModifyDBInstance reskflow-postgres-g1 -> sg-fence-pg\n"
    )
    assert ("outputs", "prod") in workspace.log and ("outputs", "dr") not in workspace.log
