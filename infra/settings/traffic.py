"""Route 53 failover: the API record, this region's endpoint and its health check."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from infra.settings.core import PROJECT, ConfigError, Key
from infra.settings.parse import fields_of, whole


@dataclass(frozen=True)
class TrafficSettings:
    """Route 53 failover for the API name: this region's endpoint and health check."""

    hosted_zone_id: str
    record_name: str
    endpoint: str
    request_interval: int = 10
    failure_threshold: int = 3
    ttl: int = 60
    checker_regions: tuple[str, ...] = ("us-east-1", "us-west-1", "us-west-2", "eu-west-1")


_TRAFFIC_FIELDS = {
    "hostedZoneId": "hosted_zone_id",
    "recordName": "record_name",
    "endpoint": "endpoint",
    "requestInterval": "request_interval",
    "failureThreshold": "failure_threshold",
    "ttl": "ttl",
    "checkerRegions": "checker_regions",
}


#: Route 53 health checks: request interval 10 (fast) or 30 (standard) seconds, failure
#: threshold 1-10, checker regions from this list (at least three).
HEALTH_CHECK_INTERVALS = (10, 30)
HEALTH_CHECKER_REGIONS: tuple[str, ...] = (
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
)
_ZONE_ID_RE = re.compile(r"^Z[0-9A-Z]{1,31}$")
_DNS_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DNS_NAME_RE = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})+$")


def _dns_name(key: str, value: Any) -> str:
    name = str(value or "").strip().rstrip(".").lower()
    if len(name) > 253 or not _DNS_NAME_RE.fullmatch(name):
        raise ConfigError(key, value, "expected a DNS name such as api.example.com (no scheme)")
    return name


def parse_traffic(raw: str | None) -> TrafficSettings:
    key = TRAFFIC_KEY.name
    if raw is None:
        raise ConfigError(
            key, None, "required: an object with hostedZoneId, recordName and endpoint"
        )
    values = fields_of(key, raw, _TRAFFIC_FIELDS)
    zone = str(values.get("hosted_zone_id") or "")
    if not _ZONE_ID_RE.fullmatch(zone):
        raise ConfigError(f"{key}.hostedZoneId", zone or None, "expected a hosted zone id: Z...")
    record = _dns_name(f"{key}.recordName", values.get("record_name"))
    endpoint = _dns_name(f"{key}.endpoint", values.get("endpoint"))
    if endpoint == record:
        raise ConfigError(
            f"{key}.endpoint", endpoint, "must differ from recordName (a CNAME to itself loops)"
        )
    default = TrafficSettings(zone, record, endpoint)
    interval = values.get("request_interval", default.request_interval)
    if interval not in HEALTH_CHECK_INTERVALS or isinstance(interval, bool):
        raise ConfigError(
            f"{key}.requestInterval",
            interval,
            "Route 53 health checks run every 10 (fast) or 30 (standard) seconds",
        )
    threshold = whole(
        f"{key}.failureThreshold",
        values.get("failure_threshold", default.failure_threshold),
        1,
        10,
        "checks",
    )
    ttl = whole(
        f"{key}.ttl",
        values.get("ttl", default.ttl),
        0,
        60,
        "seconds",
        " (a failover record cached longer delays the failover)",
    )
    return replace(
        default,
        request_interval=interval,
        failure_threshold=threshold,
        ttl=ttl,
        checker_regions=_checker_regions(
            f"{key}.checkerRegions", values.get("checker_regions", default.checker_regions)
        ),
    )


def _checker_regions(key: str, value: Any) -> tuple[str, ...]:
    regions = tuple(value) if isinstance(value, (list, tuple)) else ()
    allowed = ", ".join(HEALTH_CHECKER_REGIONS)
    if (
        len(set(regions)) != len(regions)
        or len(regions) < 3
        or not set(regions) <= set(HEALTH_CHECKER_REGIONS)
    ):
        raise ConfigError(key, value, f"at least 3 distinct Route 53 checker regions of {allowed}")
    return regions


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

TRAFFIC_KEY = Key(
    f"{PROJECT}:traffic",
    "object",
    "required",
    "`hostedZoneId`, `recordName` (the API name), `endpoint` (this region's public endpoint, "
    "checked over HTTPS at `/health`), `requestInterval` (10 or 30 s; 10), "
    "`failureThreshold` (1-10; 3), `ttl` (0-60 s; 60), `checkerRegions` (at least 3 Route 53 "
    "checker regions).",
    fields=tuple(_TRAFFIC_FIELDS),
)

#: This tier's keys, in the order the README lists them.
KEYS: tuple[Key, ...] = (TRAFFIC_KEY,)
