"""Route 53: health checks and failover records for both roles, a drained region, the drill."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from infra.settings import ConfigError
from reskflow_dr.cli import main
from reskflow_dr.engine import Plan
from reskflow_dr.preview import ROOT, load, preview
from tests.conftest import ROLE_OVERRIDES, PlanOf, belongs_to_workloads, named

REGION = {"prod": "us-east-1", "dr": "us-west-2"}
ROLES = {"prod": "active", "dr": "passive"}
ZONE = "Z0123456789EXAMPLEAB"
API = "api.reskflow.example.com"


def endpoint(region: str) -> str:
    return f"api-{region}.reskflow.example.com"


@pytest.fixture(scope="module")
def plans() -> dict[tuple[str, str], Plan]:
    """Each stack in each role."""
    return {
        (stack, role): preview(stack, list(ROLE_OVERRIDES[stack, role]))
        for stack in ("prod", "dr")
        for role in ("active", "passive")
    }


@pytest.mark.parametrize("role", ["active", "passive"])
@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_https_health_check_on_the_region_endpoint(
    plans: dict[tuple[str, str], Plan], stack: str, role: str
) -> None:
    check = named(plans[stack, role], "api-health-check")
    drained = stack == "prod" and role == "passive"
    assert check.inputs == {
        "type": "HTTPS",
        "fqdn": endpoint(REGION[stack]),
        "port": 443,
        "resourcePath": "/health",
        "enableSni": True,
        "requestInterval": 10,
        "failureThreshold": 3,
        "regions": ["us-east-1", "us-west-1", "us-west-2", "eu-west-1"],
        "disabled": drained,
        "invertHealthcheck": drained,
        "tags": {"Name": f"reskflow-api-{REGION[stack]}"},
    }


@pytest.mark.parametrize("role", ["active", "passive"])
@pytest.mark.parametrize(("stack", "failover"), [("prod", "PRIMARY"), ("dr", "SECONDARY")])
def test_record_ownership_is_fixed_by_region_not_role(
    plans: dict[tuple[str, str], Plan], stack: str, failover: str, role: str
) -> None:
    plan = plans[stack, role]
    record = named(plan, "api-record")
    assert record.inputs == {
        "zoneId": ZONE,
        "name": API,
        "type": "CNAME",
        "ttl": 60,
        "records": [endpoint(REGION[stack])],
        "setIdentifier": REGION[stack],
        "failoverRoutingPolicies": [{"type": failover}],
        # The traffic switch's check for this region (infra/tiers/failover.py), not the probe.
        "healthCheckId": plan.outputs["failover"]["recordHealthCheckId"],
        "allowOverwrite": False,
    }
    assert plan.outputs["failover"]["recordHealthCheck"] == "traffic-switch"
    assert plan.outputs["failover"]["recordHealthCheckId"] != plan.outputs["healthCheckId"]


def test_drained_region_is_disabled_and_inverted_only_when_passive_primary(
    plans: dict[tuple[str, str], Plan],
) -> None:
    drained = {
        key: (c.inputs["disabled"], c.inputs["invertHealthcheck"])
        for key, plan in plans.items()
        for c in [named(plan, "api-health-check")]
    }
    assert drained == {
        ("prod", "active"): (False, False),
        ("prod", "passive"): (True, True),
        ("dr", "active"): (False, False),
        ("dr", "passive"): (False, False),
    }


def _inputs(plan: Plan) -> dict[str, Any]:
    return {r.name: r.inputs for r in plan.resources if not belongs_to_workloads(r)}


def test_drill_on_prod_only_flips_the_health_check_flags_and_its_alarm(
    plans: dict[tuple[str, str], Plan],
) -> None:
    before, after = _inputs(plans["prod", "active"]), _inputs(plans["prod", "passive"])
    tiers = {n for n in before if n.startswith(("api-", "alerts-"))}  # traffic and alarms
    changed = {name for name in tiers if before[name] != after.get(name)}
    # and the monitoring alarms that follow the role: the PostgreSQL rules watch the new replica
    # generation, the order-volume alarm is disarmed in the passive role (docs/monitoring.md)
    assert changed == {
        "api-health-check",
        "alerts-api-health-check",
        "alerts-business-low-order-volume",
        "alerts-postgres-high-cpu",
        "alerts-postgres-disk-space",
    }
    diff = {
        k: (before["api-health-check"][k], after["api-health-check"][k])
        for k in before["api-health-check"]
        if before["api-health-check"][k] != after["api-health-check"][k]
    }
    assert diff == {"disabled": (False, True), "invertHealthcheck": (False, True)}


def test_promoting_dr_needs_no_route53_change(plans: dict[tuple[str, str], Plan]) -> None:
    """In a real us-east-1 outage the Route 53 control plane may be down: promoting us-west-2
    must not touch its health check or record."""
    passive, active = plans["dr", "passive"], plans["dr", "active"]
    for name in ("api-health-check", "api-record"):
        assert named(passive, name).inputs == named(active, name).inputs


def _healthy(up: bool, drained: bool) -> bool:
    """Route 53: a disabled check is healthy; an inverted one reports the opposite."""
    return (True if drained else up) != drained


def _answer(primary_healthy: bool, secondary_healthy: bool) -> str:
    """Route 53 failover: PRIMARY while healthy; SECONDARY when it is healthy and the PRIMARY is
    not; PRIMARY when both are unhealthy."""
    return "PRIMARY" if primary_healthy or not secondary_healthy else "SECONDARY"


#: (prod role, dr role, us-east-1 up, us-west-2 up) -> region answered (docs table of states).
STATES = [
    ("active", "passive", True, True, "us-east-1"),
    ("active", "passive", False, True, "us-west-2"),  # data-plane failover, no API call
    ("active", "passive", True, False, "us-east-1"),
    ("active", "passive", False, False, "us-east-1"),
    ("passive", "passive", True, True, "us-west-2"),  # mid-drill: prod drained first
    ("passive", "active", True, True, "us-west-2"),  # drilled: traffic follows the role
    ("passive", "active", True, False, "us-east-1"),  # both unhealthy: Route 53 answers PRIMARY
    ("passive", "active", False, False, "us-east-1"),
]


@pytest.mark.parametrize(("prod_role", "dr_role", "east_up", "west_up", "answered"), STATES)
def test_traffic_follows_the_active_role_and_fails_over_on_the_data_plane(
    prod_role: str, dr_role: str, east_up: bool, west_up: bool, answered: str
) -> None:
    _, prod = load(ROOT, "prod", list(ROLE_OVERRIDES["prod", prod_role]))
    _, dr = load(ROOT, "dr", list(ROLE_OVERRIDES["dr", dr_role]))
    assert (prod.failover_role, dr.failover_role) == ("PRIMARY", "SECONDARY")
    answer = _answer(_healthy(east_up, prod.drained), _healthy(west_up, dr.drained))
    assert {"PRIMARY": "us-east-1", "SECONDARY": "us-west-2"}[answer] == answered


def test_interval_threshold_and_ttl_come_from_config(plan_of: PlanOf) -> None:
    plan = plan_of(
        "dr",
        "reskflow:traffic={hostedZoneId: ZABC, recordName: api.example.org, "
        "endpoint: west.example.org, requestInterval: 30, failureThreshold: 2, ttl: 30, "
        "checkerRegions: [us-west-1, eu-west-1, sa-east-1]}",
    )
    check, record = named(plan, "api-health-check"), named(plan, "api-record")
    assert (check.inputs["requestInterval"], check.inputs["failureThreshold"]) == (30, 2)
    assert check.inputs["regions"] == ["us-west-1", "eu-west-1", "sa-east-1"]
    assert (record.inputs["zoneId"], record.inputs["name"], record.inputs["ttl"]) == (
        "ZABC",
        "api.example.org",
        30,
    )
    assert record.inputs["records"] == ["west.example.org"]


TRAFFIC = "hostedZoneId: Z1, recordName: api.example.org, endpoint: east.example.org"
BAD_TRAFFIC_CONFIG = [
    (f"{{{TRAFFIC}, requestInterval: 20}}", "requestInterval = 20", "10 (fast) or 30"),
    (f"{{{TRAFFIC}, requestInterval: 60}}", "requestInterval = 60", "10 (fast) or 30"),
    (f"{{{TRAFFIC}, ttl: 61}}", "ttl = 61", "from 0 to 60"),
    (f"{{{TRAFFIC}, ttl: 300}}", "ttl = 300", "from 0 to 60"),
    (f"{{{TRAFFIC}, failureThreshold: 11}}", "failureThreshold = 11", "from 1 to 10"),
    (f"{{{TRAFFIC}, checkerRegions: [us-east-1, us-west-2]}}", "checkerRegions", "at least 3"),
    (f"{{{TRAFFIC}, checkerRegions: [us-east-1, us-west-2, eu-north-1]}}", "checkerRegions", ""),
    (
        "{hostedZoneId: nope, recordName: a.example.org, endpoint: b.example.org}",
        "hostedZoneId",
        "",
    ),
    ("{hostedZoneId: Z1, recordName: a.example.org, endpoint: a.example.org}", "endpoint", "loops"),
    (
        "{hostedZoneId: Z1, recordName: a.example.org, endpoint: https://b.example.org/}",
        "endpoint",
        "",
    ),
    ("{hostedZoneId: Z1, recordName: a.example.org}", "reskflow:traffic.endpoint", "DNS name"),
]


@pytest.mark.parametrize(("value", "named_key", "allowed"), BAD_TRAFFIC_CONFIG)
def test_bad_traffic_config_is_one_config_error(value: str, named_key: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as err:
        preview("prod", [f"reskflow:traffic={value}"])
    message = str(err.value)
    assert "\n" not in message
    assert f"reskflow:traffic.{named_key.split('.')[-1]}" in message
    assert allowed in message


def test_missing_traffic_config_exits_2(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    stack = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    del stack["config"]["reskflow:traffic"]
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack))
    with pytest.raises(ConfigError, match=r"^config error: reskflow:traffic = \(not set\)"):
        load(tmp_path, "prod")
    code = main(["preview", "prod", "--set", f"reskflow:traffic={{{TRAFFIC}, ttl: 90}}"])
    assert code == 2
    assert capsys.readouterr().err.count("\n") == 1
