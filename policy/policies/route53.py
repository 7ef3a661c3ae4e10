"""Route 53: failover records that can fail over on the data plane alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    ROUTE53_HEALTH_CHECK,
    ROUTE53_RECORD,
    UNKNOWN,
    Findings,
    Meta,
    Res,
    Stack,
    fmt,
    get,
    num,
    present,
    resource_policy,
    stack_policy,
)

TTL_SCHEMA: dict[str, dict[str, Any]] = {
    "maxTtlSeconds": {
        "type": "integer",
        "minimum": 0,
        "default": 60,
        "description": "Largest TTL of a failover record (resolvers cache it through a failover).",
    }
}


def failover_role(record: Res) -> Any:
    """``PRIMARY``, ``SECONDARY``, None (not a failover record) or UNKNOWN."""
    policies = record.items("failoverRoutingPolicies")
    if policies is UNKNOWN:
        return UNKNOWN
    return get(policies[0], "type") if policies else None


def _check_failover_record(record: Res, cfg: Mapping[str, Any], out: Findings) -> None:
    role = failover_role(record)
    if role is None:
        return
    if role is UNKNOWN:
        out.unknown(record, "failover role")
        return
    problems = []
    if not present(record.props, "setIdentifier"):
        problems.append("no setIdentifier")
    if role == "PRIMARY" and not present(record.props, "healthCheckId"):
        problems.append("no healthCheckId, so Route 53 never fails over")
    if not present(record.props, "aliases"):
        ttl = record.get("ttl")
        limit = float(cfg["maxTtlSeconds"])
        if ttl is UNKNOWN:
            out.unknown(record, "ttl")
        elif num(ttl) is None:
            problems.append("no ttl")
        elif (num(ttl) or 0) > limit:
            problems.append(f"ttl {fmt(num(ttl) or 0)} s is above {fmt(limit)} s")
    if problems:
        out.fail(f"Record {record.name} ({role}): " + "; ".join(problems))


def _record_key(record: Res) -> tuple[str, ...]:
    zone = record.get("zoneId")
    zone_key = (
        zone if isinstance(zone, str) else ",".join(record.property_dependencies.get("zoneId", ()))
    )
    return (zone_key, str(record.get("name")), str(record.get("type")))


def _check_pairing(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    groups: dict[tuple[str, ...], list[Res]] = {}
    for record in stack.of_type(ROUTE53_RECORD):
        if failover_role(record) in ("PRIMARY", "SECONDARY"):
            groups.setdefault(_record_key(record), []).append(record)
    for (_zone, name, rtype), records in groups.items():
        seen_roles: dict[str, str] = {}
        seen_ids: dict[str, str] = {}
        for record in records:
            role = failover_role(record)
            set_id = record.get("setIdentifier")
            if role in seen_roles:
                out.fail(
                    f"Record {record.name}: second {role} for {name} {rtype} "
                    f"(first: {seen_roles[role]})",
                    record,
                )
            seen_roles.setdefault(role, record.name)
            if isinstance(set_id, str):
                if set_id in seen_ids:
                    out.fail(
                        f"Record {record.name}: setIdentifier {set_id} is also used by "
                        f"{seen_ids[set_id]}",
                        record,
                    )
                seen_ids.setdefault(set_id, record.name)


def _check_health_check(check: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    problems = []
    interval = num(check.get("requestInterval"))
    threshold = num(check.get("failureThreshold"))
    if interval is not None and interval not in (10.0, 30.0):
        problems.append(f"requestInterval {fmt(interval)} is not 10 or 30")
    if threshold is not None and not 1 <= threshold <= 10:
        problems.append(f"failureThreshold {fmt(threshold)} is not between 1 and 10")
    if problems:
        out.fail(f"HealthCheck {check.name}: " + "; ".join(problems))


POLICIES = [
    resource_policy(
        Meta(
            "reskflow-route53-failover-record",
            "Failover records have a set identifier, a health check on the primary and a short "
            "TTL.",
            "Give each failover record a setIdentifier, attach a healthCheckId to the PRIMARY "
            "and keep ttl at or below maxTtlSeconds (60).",
            "deployability",
            severity=Severity.MEDIUM,
            schema=TTL_SCHEMA,
        ),
        [ROUTE53_RECORD],
        _check_failover_record,
    ),
    stack_policy(
        Meta(
            "reskflow-route53-failover-pairing",
            "A failover name has at most one PRIMARY and one SECONDARY, with distinct set "
            "identifiers.",
            "Declare exactly one PRIMARY and one SECONDARY record per name and type (the partner "
            "may live in the peer stack), each with its own setIdentifier.",
            "deployability",
            severity=Severity.MEDIUM,
        ),
        _check_pairing,
    ),
    resource_policy(
        Meta(
            "reskflow-route53-health-check",
            "Route 53 health checks use settings Route 53 accepts.",
            "Set requestInterval to 10 or 30 seconds and failureThreshold between 1 and 10.",
            "deployability",
            severity=Severity.MEDIUM,
        ),
        [ROUTE53_HEALTH_CHECK],
        _check_health_check,
    ),
]
