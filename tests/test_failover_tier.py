"""The failover tier wired into the stacks: who declares what in each traffic mode, the peer
stack reference present or absent, the fence of a returning region, the split-brain guard at
`pulumi up` from the peer's deployed role, the workloads' traffic contract, and step_config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.settings import ConfigError, load_settings
from infra.settings.failover import (
    SwitchFacts,
    facts_from_outputs,
    returning_region,
    step_config,
)
from infra.settings.guards import check_peer_outputs
from reskflow_dr.engine import Plan, ProgramError, run_program
from reskflow_dr.mocks import offline_stack_outputs
from reskflow_dr.stackfiles import load_stack

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"
REGION = {"prod": "us-east-1", "dr": "us-west-2"}
DR_REF = "organization/reskflow/dr"

SWITCH_ARC = {
    "aws:route53recoverycontrol/cluster:Cluster": 1,
    "aws:route53recoverycontrol/controlPanel:ControlPanel": 1,
    "aws:route53recoverycontrol/routingControl:RoutingControl": 2,
    "aws:route53recoverycontrol/safetyRule:SafetyRule": 2,
}
STEPS = {"aws:lambda/function:Function": 6, "aws:cloudwatch/logGroup:LogGroup": 6}


def plan(stack: str, *sets: str, outputs: dict[str, Any] | None = None) -> Plan:
    config = load_stack(ROOT, stack, list(sets))
    return run_program(config, ACCOUNT, REGION[stack], outputs)


def counts(p: Plan, types: set[str]) -> dict[str, int]:
    """How many of each type the failover tier declares (other tiers' Lambdas and log groups,
    such as the restore validation's or WAF's, are not counted)."""
    out: dict[str, int] = {}
    for r in p.resources:
        if r.type in types and (r.type not in STEPS or r.name.startswith("steps-")):
            out[r.type] = out.get(r.type, 0) + 1
    return out


FAILOVER_TYPES = {
    *SWITCH_ARC,
    *STEPS,
    "aws:arcregionswitch/plan:Plan",
    "reskflow:traffic:TrafficSwitch",
    "reskflow:failover:RegionSwitchPlan",
    "reskflow:failover:StepFunctions",
}


def switch_checks(p: Plan) -> dict[str, str]:
    return {
        r.name: r.inputs["type"]
        for r in p.resources
        if r.name.startswith("switch-") and r.type == "aws:route53/healthCheck:HealthCheck"
    }


@pytest.mark.parametrize("mode", ["arc", "signal"])
def test_dr_declares_the_switch_and_its_own_step_functions(mode: str) -> None:
    p = plan("dr", f"reskflow:trafficSwitch={mode}")
    expected = {"reskflow:traffic:TrafficSwitch": 1, "reskflow:failover:StepFunctions": 1, **STEPS}
    if mode == "arc":
        expected.update(SWITCH_ARC)
        assert switch_checks(p) == {
            "switch-us-east-1-check": "RECOVERY_CONTROL",
            "switch-us-west-2-check": "RECOVERY_CONTROL",
        }
    else:
        assert switch_checks(p) == {
            "switch-us-east-1-check": "CALCULATED",
            "switch-us-west-2-check": "CALCULATED",
            "switch-us-east-1-signal-check": "CLOUDWATCH_METRIC",
            "switch-us-west-2-signal-check": "CLOUDWATCH_METRIC",
        }
    assert counts(p, FAILOVER_TYPES) == expected
    record = next(r for r in p.resources if r.type == "aws:route53/record:Record")
    own = next(r for r in p.resources if r.name == "switch-us-west-2-check")
    assert (
        record.inputs["healthCheckId"] == p.outputs["failover"]["switchHealthCheckIds"]["us-west-2"]
    )
    assert own.name == "switch-us-west-2-check"
    assert p.outputs["failover"]["recordHealthCheck"] == "traffic-switch"


@pytest.mark.parametrize("mode", ["arc", "signal"])
def test_prod_declares_the_plan_and_uses_the_switch_from_the_dr_stack(mode: str) -> None:
    p = plan("prod", f"reskflow:trafficSwitch={mode}")
    assert counts(p, FAILOVER_TYPES) == {
        "aws:arcregionswitch/plan:Plan": 1,
        "reskflow:failover:RegionSwitchPlan": 1,
        "reskflow:failover:StepFunctions": 1,
        **STEPS,
    }
    facts = offline_stack_outputs(DR_REF, ACCOUNT)["failoverFacts"]
    record = next(r for r in p.resources if r.type == "aws:route53/record:Record")
    assert record.inputs["healthCheckId"] == facts["switchHealthCheckIds"]["us-east-1"]
    assert p.outputs["failover"]["recordHealthCheck"] == "traffic-switch"
    plan_res = next(r for r in p.resources if r.type == "aws:arcregionswitch/plan:Plan")
    last = plan_res.inputs["workflows"][0]["steps"][-1]
    if mode == "arc":
        controls = last["arcRoutingControlConfigs"][0]["regionAndRoutingControls"]
        assert [c["routingControls"][0] for c in controls] == [
            {"routingControlArn": facts["routingControlArns"]["us-east-1"], "state": "On"},
            {"routingControlArn": facts["routingControlArns"]["us-west-2"], "state": "Off"},
        ]
    else:
        assert last["executionBlockType"] == "CustomActionLambda"


def test_without_the_peer_reference_prod_keeps_the_probe_and_no_arc_plan() -> None:
    p = plan("prod", "reskflow:peerStack=none")
    probe = next(r for r in p.resources if r.name == "api-health-check")
    record = next(r for r in p.resources if r.type == "aws:route53/record:Record")
    assert record.inputs["healthCheckId"] == p.outputs["healthCheckId"]
    assert probe.inputs["type"] == "HTTPS"
    assert p.outputs["failover"]["recordHealthCheck"] == "endpoint-probe"
    assert p.outputs["failover"].get("peerStack") is None
    assert p.outputs["failover"].get("regionSwitchPlanArn") is None
    assert counts(p, {"aws:arcregionswitch/plan:Plan"}) == {}
    assert any("no peer stack reference" in d for d in p.diagnostics)


def test_first_bring_up_of_prod_reads_no_peer() -> None:
    p = plan("prod", "reskflow:peerDeployed=false")
    assert p.outputs["failover"].get("peerStack") is None
    assert p.outputs["failover"]["recordHealthCheck"] == "endpoint-probe"


def test_a_peer_stack_without_outputs_keeps_the_probe_but_refuses_an_arc_plan() -> None:
    with pytest.raises(ProgramError) as err:
        plan("prod", outputs={})
    # Which missing fact is reported first depends on the order the outputs resolve.
    message = str(err.value)
    assert message.startswith("stack organization/reskflow/dr exports no failoverFacts.")
    assert message.endswith(
        "run `pulumi up` on it first (it declares the traffic switch), or set "
        "reskflow:peerStack none"
    )
    p = plan("prod", "reskflow:trafficSwitch=signal", outputs={})
    assert p.outputs["failover"]["recordHealthCheck"] == "endpoint-probe"


def test_signal_mode_in_dr_needs_the_peer_reference() -> None:
    with pytest.raises(ProgramError) as err:
        plan("dr", "reskflow:trafficSwitch=signal", "reskflow:peerStack=none")
    assert err.value.config_error
    assert str(err.value) == (
        'config error: reskflow:peerStack = "none": signal mode: the us-west-2 stack\'s '
        "calculated checks need the peer's endpoint probe (its healthCheckId output); name the "
        "peer stack"
    )


def test_region_switch_opt_out_declares_no_plan_and_no_functions() -> None:
    p = plan("prod", "reskflow:regionSwitch=false", "reskflow:failoverApprovalRoleArn=")
    assert counts(p, FAILOVER_TYPES) == {}
    assert p.outputs["failover"]["regionSwitch"] is False
    assert json.loads(p.outputs["stepConfig"])["traffic_mode"] == "arc"


# Fencing a returning region ---------------------------------------------------------------


def groups(p: Plan) -> dict[str, list[str]]:
    docdb = next(r for r in p.resources if r.type == "aws:docdb/cluster:Cluster")
    redis = next(
        r for r in p.resources if r.type == "aws:elasticache/replicationGroup:ReplicationGroup"
    )
    return {"docdb": docdb.inputs["vpcSecurityGroupIds"], "redis": redis.inputs["securityGroupIds"]}


def test_fenced_stores_carry_only_the_fence_groups() -> None:
    p = plan("dr", "reskflow:fenceDataStores=true")
    fences = p.outputs["failoverFacts"]["fenceSecurityGroupIds"]["us-west-2"]
    assert groups(p) == {"docdb": [fences["docdb"]], "redis": [fences["cache"]]}
    assert p.outputs["failover"]["servesTraffic"] is False
    normal = plan("dr")
    assert groups(normal)["docdb"] != [fences["docdb"]]
    assert normal.outputs["failover"]["fenced"] is False


def test_returning_region_default() -> None:
    assert returning_region("us-east-1", "passive", "active") is True
    assert returning_region("us-east-1", "active", "passive") is False
    assert returning_region("us-west-2", "passive", "active") is False


# The split-brain guard from the peer's deployed role ---------------------------------------

STALE_PROD = (
    "config error: reskflow:role = \"active\": stack 'organization/reskflow/dr' is deployed "
    "active (its role output): two writable primaries. After a failover this region comes back "
    "passive and fenced: set reskflow:role passive and reskflow:peerRole active here"
)


def test_first_up_of_prod_after_a_disaster_is_refused() -> None:
    outputs = {DR_REF: {**offline_stack_outputs(DR_REF, ACCOUNT), "role": "active"}}
    with pytest.raises(ProgramError) as err:
        plan("prod", outputs=outputs)
    assert err.value.config_error
    assert str(err.value) == STALE_PROD


def test_prod_may_stay_active_while_dr_is_deployed_passive() -> None:
    outputs = {DR_REF: {**offline_stack_outputs(DR_REF, ACCOUNT), "role": "passive"}}
    p = plan("prod", outputs=outputs)
    assert p.outputs["role"] == "active"


@pytest.mark.parametrize(
    ("role", "peer_role", "lost", "refused"),
    [
        ("active", "active", False, True),
        ("active", "active", True, False),
        ("active", "passive", False, False),
        ("passive", "active", False, False),
        ("active", None, False, False),
    ],
)
def test_check_peer_outputs(role: str, peer_role: str | None, lost: bool, refused: bool) -> None:
    raw = dict(load_stack(ROOT, "dr").values)
    raw["reskflow:role"] = role
    raw["reskflow:peerRole"] = "passive"
    if role == "active":
        raw["reskflow:cachePrimaryRegion"] = raw["reskflow:docdbPrimaryRegion"] = "us-west-2"
    if lost:
        raw["reskflow:peerLost"] = "true"
    settings = load_settings(raw, "dr", secret_keys=set())
    if refused:
        with pytest.raises(ConfigError):
            check_peer_outputs(settings, "p", peer_role)
    else:
        check_peer_outputs(settings, "p", peer_role)


# /health contract and step_config ----------------------------------------------------------


def env_of(p: Plan, service: str) -> dict[str, str]:
    dep = next(
        r
        for r in p.resources
        if r.type == "kubernetes:apps/v1:Deployment" and r.inputs["metadata"]["name"] == service
    )
    container = dep.inputs["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", "") for e in container["env"] if "value" in e}


def test_workloads_are_told_whether_the_region_serves_traffic() -> None:
    assert env_of(plan("prod"), "api-gateway")["RESKFLOW_SERVES_TRAFFIC"] == "true"
    assert env_of(plan("dr"), "api-gateway")["RESKFLOW_SERVES_TRAFFIC"] == "false"


def test_step_config_names_both_regions_stores() -> None:
    settings = load_settings(dict(load_stack(ROOT, "dr").values), "dr", secret_keys=set())
    facts = facts_from_outputs(
        {
            "fenceSecurityGroupIds": {
                "us-east-1": {"postgres": "sg-1", "docdb": "sg-2", "cache": "sg-3"}
            },
            "cacheGlobalDatastoreId": "abcde-reskflow-redis",
        },
        {
            "routingControlArns": {"us-east-1": "arn:e", "us-west-2": "arn:w"},
            "clusterEndpoints": [{"region": "us-west-2", "endpoint": "https://w"}],
        },
    )
    config = step_config(settings, facts)
    assert config.regions["us-east-1"].postgres_id == "reskflow-postgres-g1"
    assert config.regions["us-west-2"].postgres_id == "reskflow-postgres-g2"
    assert config.regions["us-east-1"].fence_security_group_ids == {
        "postgres": "sg-1",
        "docdb": "sg-2",
        "cache": "sg-3",
    }
    assert config.regions["us-west-2"].routing_control_arn == "arn:w"
    assert config.cache_global_id == "abcde-reskflow-redis"
    assert [e.endpoint for e in config.cluster_endpoints] == ["https://w"]
    assert step_config(settings, facts) == config  # pure
    assert step_config(settings, SwitchFacts()).regions["us-east-1"].routing_control_arn == ""
