"""The traffic switch under the Pulumi mocks: ARC routing controls with their safety rules and
recovery-control health checks, or the CloudWatch signal with calculated health checks; and what
Route 53 answers in each state the switch allows (docs/traffic-switch.md, failure timelines)."""

from __future__ import annotations

import itertools
from typing import Any

import pulumi
import pytest

from components.traffic import FailoverEndpoint, FailoverEndpointArgs
from components.traffic_switch import TrafficSwitch, TrafficSwitchArgs
from reskflow_dr.engine import Plan
from reskflow_dr.mocks import DERIVATIONS, ResourceContext
from tests.component_plan import ACCOUNT, of_type, provider, run_components

EAST, WEST = "us-east-1", "us-west-2"
REGIONS = (EAST, WEST)
PROBES = {EAST: "probe-east", WEST: "probe-west"}
ARN = "arn:aws:route53recoverycontrol:us-west-2:111122223333"


def switch_plan(**kwargs: Any) -> tuple[Plan, dict[str, Any]]:
    """A TrafficSwitch in the dr stack's provider; its resolved outputs."""
    seen: dict[str, Any] = {}

    def build() -> None:
        switch = TrafficSwitch(
            "switch",
            TrafficSwitchArgs(regions=REGIONS, **kwargs),
            pulumi.ResourceOptions(provider=provider(WEST)),
        )
        for region, check in switch.health_check_ids.items():
            check.apply(lambda v, r=region: seen.setdefault(f"check:{r}", v))
        for region, arn in switch.routing_control_arns.items():
            arn.apply(lambda v, r=region: seen.setdefault(f"control:{r}", v))
        seen["alarms"] = dict(switch.signal_alarm_names)
        if switch.cluster_endpoints is not None:
            switch.cluster_endpoints.apply(lambda v: seen.setdefault("endpoints", v))

    return run_components(build, region=WEST), seen


def check_id(name: str) -> str:
    """The id the mocks give a health check (as AWS would: generated on create)."""
    state = DERIVATIONS["aws:route53/healthCheck:HealthCheck"](
        ResourceContext(name, {}, WEST, ACCOUNT)
    )
    return str(state["id"])


# ARC mode -------------------------------------------------------------------------------------


def test_arc_declares_cluster_panel_controls_rules_and_checks_only() -> None:
    plan, _ = switch_plan(mode="arc")
    assert {(r.type.split(":")[1], r.name) for r in plan.resources if r.custom} == {
        ("providers", "aws-us-west-2"),
        ("route53recoverycontrol/cluster", "switch-cluster"),
        ("route53recoverycontrol/controlPanel", "switch-panel"),
        ("route53recoverycontrol/routingControl", "switch-us-east-1"),
        ("route53recoverycontrol/routingControl", "switch-us-west-2"),
        ("route53recoverycontrol/safetyRule", "switch-at-least-one"),
        ("route53recoverycontrol/safetyRule", "switch-at-most-one"),
        ("route53/healthCheck", "switch-us-east-1-check"),
        ("route53/healthCheck", "switch-us-west-2-check"),
    }
    component = next(r for r in plan.resources if r.type == "reskflow:traffic:TrafficSwitch")
    children = [r for r in plan.resources if r.custom and r.type.startswith("aws:")]
    assert {r.parent for r in children} == {component.urn}
    assert {r.provider.split("::")[3] for r in children} == {"aws-us-west-2"}


def test_arc_cluster_panel_and_one_routing_control_per_region() -> None:
    plan, seen = switch_plan(mode="arc")
    rcc = "aws:route53recoverycontrol/"
    cluster = of_type(plan, f"{rcc}cluster:Cluster")["switch-cluster"]
    assert cluster.inputs == {"name": "reskflow-dr", "tags": {"Name": "reskflow-dr"}}
    panel = of_type(plan, f"{rcc}controlPanel:ControlPanel")["switch-panel"]
    assert panel.inputs == {"clusterArn": f"{ARN}:cluster/reskflow-dr", "name": "reskflow-traffic"}
    controls = of_type(plan, f"{rcc}routingControl:RoutingControl")
    assert {n: c.inputs for n, c in controls.items()} == {
        f"switch-{r}": {
            "name": f"reskflow-{r}",
            "clusterArn": f"{ARN}:cluster/reskflow-dr",
            "controlPanelArn": f"{ARN}:controlpanel/reskflow-traffic",
        }
        for r in REGIONS
    }
    assert {k: v for k, v in seen.items() if k.startswith("control:")} == {
        f"control:{r}": f"{ARN}:routingcontrol/reskflow-{r}" for r in REGIONS
    }


def test_arc_safety_rules_allow_exactly_one_region_on() -> None:
    plan, _ = switch_plan(mode="arc")
    rules = of_type(plan, "aws:route53recoverycontrol/safetyRule:SafetyRule")
    asserted = [f"{ARN}:routingcontrol/reskflow-{r}" for r in REGIONS]
    common = {
        "controlPanelArn": f"{ARN}:controlpanel/reskflow-traffic",
        "assertedControls": asserted,
        "waitPeriodMs": 5000,
    }
    assert {n: r.inputs for n, r in rules.items()} == {
        "switch-at-least-one": {
            **common,
            "name": "reskflow-at-least-one-on",
            "ruleConfig": {"type": "ATLEAST", "threshold": 1, "inverted": False},
        },
        "switch-at-most-one": {
            **common,
            "name": "reskflow-at-most-one-on",
            "ruleConfig": {"type": "ATLEAST", "threshold": 2, "inverted": True},
        },
    }


def rules_allow(states: dict[str, bool]) -> bool:
    """ARC evaluates assertion rules on the states after a transaction: ATLEAST n is true when
    at least n asserted controls are On; ``inverted`` negates the rule."""
    on = sum(states.values())
    return (on >= 1) and not (on >= 2)


@pytest.mark.parametrize("east_on", [False, True])
@pytest.mark.parametrize("west_on", [False, True])
def test_the_two_rules_accept_only_states_with_one_region_on(east_on: bool, west_on: bool) -> None:
    assert rules_allow({EAST: east_on, WEST: west_on}) == (east_on != west_on)


def test_arc_health_checks_follow_the_routing_controls() -> None:
    plan, seen = switch_plan(mode="arc")
    checks = of_type(plan, "aws:route53/healthCheck:HealthCheck")
    assert {n: c.inputs for n, c in checks.items()} == {
        f"switch-{r}-check": {
            "type": "RECOVERY_CONTROL",
            "routingControlArn": f"{ARN}:routingcontrol/reskflow-{r}",
            "tags": {"Name": f"reskflow-switch-{r}"},
        }
        for r in REGIONS
    }
    assert {k: v for k, v in seen.items() if k.startswith("check:")} == {
        f"check:{r}": check_id(f"switch-{r}-check") for r in REGIONS
    }


FIVE = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "ap-northeast-1"]


def test_arc_exposes_the_cluster_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS returns the five regional endpoints on create; the mocks answer as AWS would."""

    def cluster(ctx: ResourceContext) -> dict[str, Any]:
        return {
            "id": "c1",
            "arn": f"{ARN}:cluster/c1",
            "clusterEndpoints": [
                {"region": r, "endpoint": f"https://host-{r}.example/v1"} for r in FIVE
            ],
        }

    monkeypatch.setitem(DERIVATIONS, "aws:route53recoverycontrol/cluster:Cluster", cluster)
    _, seen = switch_plan(mode="arc")
    assert seen["endpoints"] == [
        {"region": r, "endpoint": f"https://host-{r}.example/v1"} for r in FIVE
    ]


def test_signal_mode_has_no_cluster_endpoints() -> None:
    _, seen = switch_plan(mode="signal", endpoint_health_check_ids=PROBES)
    assert "endpoints" not in seen
    assert not any(k.startswith("control:") for k in seen)


# Signal mode ----------------------------------------------------------------------------------


def test_signal_declares_alarms_and_health_checks_only() -> None:
    plan, seen = switch_plan(mode="signal", endpoint_health_check_ids=PROBES)
    assert {(r.type.split(":")[1], r.name) for r in plan.resources if r.custom} == {
        ("providers", "aws-us-west-2"),
        ("cloudwatch/metricAlarm", "switch-signal-us-east-1"),
        ("cloudwatch/metricAlarm", "switch-signal-us-west-2"),
        ("route53/healthCheck", "switch-us-east-1-signal-check"),
        ("route53/healthCheck", "switch-us-west-2-signal-check"),
        ("route53/healthCheck", "switch-us-east-1-check"),
        ("route53/healthCheck", "switch-us-west-2-check"),
    }
    assert seen["alarms"] == {r: f"reskflow-region-active-{r}" for r in REGIONS}


@pytest.mark.parametrize("signal_region", [WEST, EAST])
def test_signal_alarms_live_in_the_signal_region(signal_region: str) -> None:
    plan, _ = switch_plan(
        mode="signal", endpoint_health_check_ids=PROBES, signal_region=signal_region
    )
    alarms = of_type(plan, "aws:cloudwatch/metricAlarm:MetricAlarm")
    assert {n: a.inputs for n, a in alarms.items()} == {
        f"switch-signal-{r}": {
            "name": f"reskflow-region-active-{r}",
            "region": signal_region,
            "alarmDescription": f"ALARM while {r} is not marked active: Route 53 then holds it "
            "out of traffic (docs/traffic-switch.md)",
            "namespace": "ReskFlow/DR",
            "metricName": "RegionActive",
            "dimensions": {"Region": r},
            "statistic": "Maximum",
            "period": 60,
            "evaluationPeriods": 1,
            "datapointsToAlarm": 1,
            "threshold": 1,
            "comparisonOperator": "LessThanThreshold",
            "treatMissingData": "ignore",
        }
        for r in REGIONS
    }
    assert {a.region for a in alarms.values()} == {signal_region}


def test_signal_calculated_check_requires_the_probe_and_the_signal() -> None:
    plan, seen = switch_plan(mode="signal", endpoint_health_check_ids=PROBES)
    checks = {n: c.inputs for n, c in of_type(plan, "aws:route53/healthCheck:HealthCheck").items()}
    expected: dict[str, Any] = {}
    for r in REGIONS:
        expected[f"switch-{r}-signal-check"] = {
            "type": "CLOUDWATCH_METRIC",
            "cloudwatchAlarmName": f"reskflow-region-active-{r}",
            "cloudwatchAlarmRegion": WEST,
            "insufficientDataHealthStatus": "LastKnownStatus",
            "tags": {"Name": f"reskflow-signal-{r}"},
        }
        expected[f"switch-{r}-check"] = {
            "type": "CALCULATED",
            "childHealthchecks": [PROBES[r], check_id(f"switch-{r}-signal-check")],
            "childHealthThreshold": 2,
            "tags": {"Name": f"reskflow-switch-{r}"},
        }
    assert checks == expected
    assert {k: v for k, v in seen.items() if k.startswith("check:")} == {
        f"check:{r}": check_id(f"switch-{r}-check") for r in REGIONS
    }


BAD_ARGS = [
    ({"mode": "arc", "regions": (EAST,)}, "two distinct regions"),
    ({"mode": "arc", "regions": (EAST, EAST)}, "two distinct regions"),
    ({"mode": "dns", "regions": REGIONS}, "'arc' or 'signal'"),
    ({"mode": "signal", "regions": REGIONS}, "lacks ['us-east-1', 'us-west-2']"),
    (
        {"mode": "signal", "regions": REGIONS, "endpoint_health_check_ids": {EAST: "p"}},
        "lacks ['us-west-2']",
    ),
    (
        {
            "mode": "signal",
            "regions": REGIONS,
            "endpoint_health_check_ids": PROBES,
            "signal_period_seconds": 10,
        },
        "multiple of 60",
    ),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_ARGS)
def test_bad_switch_args_are_refused_before_anything_is_declared(
    kwargs: dict[str, Any], message: str
) -> None:
    declared: list[str] = []

    def build() -> None:
        try:
            TrafficSwitch("switch", TrafficSwitchArgs(**kwargs))
        except ValueError as err:
            declared.append(str(err))

    plan = run_components(build)
    assert len(declared) == 1 and message in declared[0] and "\n" not in declared[0]
    assert [r.type for r in plan.resources if r.custom] == []


# The failover record with the switch's check -------------------------------------------------


def endpoint_plan(switch_check: str | None) -> Plan:
    def build() -> None:
        FailoverEndpoint(
            "api",
            FailoverEndpointArgs(
                region=WEST,
                zone_id="Z1",
                record_name="api.example.org",
                endpoint="west.example.org",
                failover="SECONDARY",
                drained=False,
                switch_health_check_id=switch_check,
            ),
            pulumi.ResourceOptions(provider=provider(WEST)),
        )

    return run_components(build)


def test_record_uses_the_switch_check_and_the_probe_stays() -> None:
    plan = endpoint_plan("switch-check-west")
    record = of_type(plan, "aws:route53/record:Record")["api-record"]
    assert record.inputs["healthCheckId"] == "switch-check-west"
    probe = of_type(plan, "aws:route53/healthCheck:HealthCheck")["api-health-check"]
    assert (probe.inputs["type"], probe.inputs["fqdn"]) == ("HTTPS", "west.example.org")


def test_record_without_a_switch_keeps_the_probe() -> None:
    plan = endpoint_plan(None)
    record = of_type(plan, "aws:route53/record:Record")["api-record"]
    assert record.inputs["healthCheckId"] == check_id("api-health-check")


# What Route 53 answers -----------------------------------------------------------------------


def answer(east_healthy: bool, west_healthy: bool) -> str:
    """Route 53 failover: the PRIMARY (us-east-1) while healthy; the SECONDARY when it is healthy
    and the PRIMARY is not; the PRIMARY when both are unhealthy (it fails open)."""
    return EAST if east_healthy or not west_healthy else WEST


UP = list(itertools.product([True, False], repeat=2))


@pytest.mark.parametrize("active", REGIONS)
@pytest.mark.parametrize(("east_up", "west_up"), UP)
def test_arc_traffic_only_ever_reaches_the_region_switched_on(
    active: str, east_up: bool, west_up: bool
) -> None:
    """ARC mode: each record's only check is its routing control, so the answer does not depend
    on the endpoints: a region that comes back stays out until switched On."""
    on = {r: r == active for r in REGIONS}
    assert rules_allow(on)
    assert answer(on[EAST], on[WEST]) == active


@pytest.mark.parametrize("active", REGIONS)
@pytest.mark.parametrize(("east_up", "west_up"), UP)
def test_signal_traffic_reaches_the_active_region_unless_its_endpoint_fails(
    active: str, east_up: bool, west_up: bool
) -> None:
    """Signal mode: calculated = probe AND signal. The marked region gets traffic while its
    endpoint answers; when it does not, both records are unhealthy and Route 53 fails open to
    the PRIMARY, us-east-1, even when us-east-1 is not marked (docs: what this mode cannot do)."""
    up = {EAST: east_up, WEST: west_up}
    healthy = {r: up[r] and r == active for r in REGIONS}
    expected = active if up[active] else EAST
    assert answer(healthy[EAST], healthy[WEST]) == expected
