"""The Lambda entries: one per contract action, the Region switch event parsed in one place, the
mode read from the execution when the event does not carry it. arc-region-switch and ElastiCache's
Global Datastore calls are botocore Stubbers (moto implements neither)."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest

from failover_steps import lambda_entry
from failover_steps.aws import StepError
from failover_steps.contract import ACTIONS, CONFIG_ENV, StepConfig
from failover_steps.lambda_entry import Invocation, handle, parse_event
from tests.failover.conftest import EAST, WEST, Clients

PLAN = "arn:aws:arc-region-switch::123456789012:plan/reskflow-dr:abc123"
EXECUTION = "us-west-2/0123456789abcdef"
METADATA = {
    "InvokedBy": "arc-region-switch",
    "PlanArn": PLAN,
    "ExecutionId": EXECUTION,
    "StepName": "failover-cache",
}


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_every_contract_handler_resolves_to_an_entry() -> None:
    for action in ACTIONS.values():
        module, _, name = action.handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), action.handler
    assert {n for n in ACTIONS} <= set(dir(lambda_entry))


def test_metadata_only_event_targets_the_function_region() -> None:
    assert parse_event(METADATA, WEST) == Invocation(
        target_region=WEST,
        mode=None,
        execution_id=EXECUTION,
        plan_arn=PLAN,
        step_name="failover-cache",
        invoked_by="arc-region-switch",
    )


def test_payload_keys_win() -> None:
    found = parse_event({**METADATA, "targetRegion": EAST, "mode": "graceful"}, WEST)
    assert (found.target_region, found.mode) == (EAST, "graceful")


def test_a_bad_mode_is_named() -> None:
    with pytest.raises(StepError) as err:
        parse_event({"mode": "fast"}, WEST)
    assert str(err.value) == "event mode 'fast' is not one of graceful, ungraceful"


def stub_execution(clients: Clients, action: str, mode: str) -> None:
    clients.stub("arc-region-switch", WEST).add_response(
        "get_plan_execution",
        {
            "planArn": PLAN,
            "executionId": EXECUTION,
            "startTime": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            "mode": mode,
            "executionState": "inProgress",
            "executionAction": action,
            "executionRegion": WEST,
        },
        {"planArn": PLAN, "executionId": EXECUTION},
    )


def test_mode_comes_from_the_execution(clients: Clients, config: StepConfig) -> None:
    stub_execution(clients, "activate", "ungraceful")
    cache = clients.stub("elasticache", WEST)
    cache.add_response(
        "describe_global_replication_groups",
        {
            "GlobalReplicationGroups": [
                {"Members": [{"ReplicationGroupId": "reskflow-redis-west", "Role": "SECONDARY"}]}
            ]
        },
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
    cache.add_response("describe_global_replication_groups", {"GlobalReplicationGroups": []})
    environ = {CONFIG_ENV: config.to_json(), "AWS_REGION": WEST}

    out = handle("failover_cache", METADATA, Context(60_000), environ)

    assert out == {
        "action": "failover_cache",
        "region": WEST,
        "ok": True,
        "changed": ["elasticache:DisassociateGlobalReplicationGroup reskflow-redis-west"],
        "checks": [],
        "notes": [],
        "data": {"role_before": "SECONDARY"},
        "mode": "ungraceful",
        "executionId": EXECUTION,
        "stepName": "failover-cache",
    }
    clients.assert_all_used()
    assert clients.regions_called() == {WEST}


def test_a_deactivation_is_refused(clients: Clients, config: StepConfig) -> None:
    stub_execution(clients, "deactivate", "graceful")
    environ = {CONFIG_ENV: config.to_json(), "AWS_REGION": WEST}
    with pytest.raises(StepError) as err:
        handle("failover_docdb", METADATA, None, environ)
    assert str(err.value) == (
        f"execution {EXECUTION} is 'deactivate': these steps only activate a region"
    )


def test_fence_acts_on_the_peer_of_the_activating_region(
    clients: Clients, config: StepConfig
) -> None:
    clients.stub("rds", EAST).add_response(
        "describe_db_instances",
        {"DBInstances": [{"VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-fence-pg-east"}]}]},
        {"DBInstanceIdentifier": "reskflow-postgres-g1"},
    )
    clients.stub("docdb", EAST).add_response(
        "describe_db_clusters",
        {"DBClusters": [{"VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-fence-doc-east"}]}]},
    )
    cache = clients.stub("elasticache", EAST)
    cache.add_response(
        "describe_replication_groups", {"ReplicationGroups": [{"MemberClusters": ["c1"]}]}
    )
    cache.add_response(
        "describe_cache_clusters",
        {"CacheClusters": [{"SecurityGroups": [{"SecurityGroupId": "sg-fence-redis-east"}]}]},
    )
    environ = {CONFIG_ENV: config.to_json(), "AWS_REGION": WEST}

    out = handle("fence_region", METADATA, None, environ)

    assert (out["region"], out["changed"]) == (EAST, [])
    assert clients.regions_called() == {EAST}


def test_missing_config_is_one_line() -> None:
    with pytest.raises(StepError) as err:
        handle("verify_writable", METADATA, None, {"AWS_REGION": WEST})
    assert str(err.value) == f"{CONFIG_ENV} is not set: the function has no step config"
