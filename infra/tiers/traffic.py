"""Route 53 failover: this region's health check and its failover record."""

from __future__ import annotations

import pulumi

from components.traffic import FailoverEndpoint, FailoverEndpointArgs
from infra.settings import StackSettings


def build_traffic(
    settings: StackSettings,
    regional: pulumi.ResourceOptions,
    switch_health_check_id: pulumi.Input[str] | None = None,
) -> FailoverEndpoint:
    """This region's health check and its failover record (ownership fixed by region); the
    record uses the traffic switch's check for this region when given (infra/tiers/failover.py)."""
    t = settings.traffic
    return FailoverEndpoint(
        "api",
        FailoverEndpointArgs(
            region=settings.region,
            zone_id=t.hosted_zone_id,
            record_name=t.record_name,
            endpoint=t.endpoint,
            failover=settings.failover_role,
            drained=settings.drained,
            request_interval=t.request_interval,
            failure_threshold=t.failure_threshold,
            ttl=t.ttl,
            checker_regions=t.checker_regions,
            switch_health_check_id=switch_health_check_id,
        ),
        opts=regional,
    )
