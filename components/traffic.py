"""Cross-region glue for traffic: this region's Route 53 health check and its failover record for
the API name.

Each stack owns one record of the failover pair, fixed by region: the us-east-1 stack the
PRIMARY, the us-west-2 stack the SECONDARY. Records never move between stacks, so no drill ever
needs a record state Route 53 rejects; the active role moves by *draining* a health check
(``disabled`` + ``inverted`` = always unhealthy). See docs/backup-and-traffic.md for the states.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

FailoverRole = Literal["PRIMARY", "SECONDARY"]


@dataclass(frozen=True)
class FailoverEndpointArgs:
    """Inputs of :class:`FailoverEndpoint`."""

    region: str
    """Region served by the endpoint; it is also the record's set identifier."""
    zone_id: str
    """Id of the public hosted zone holding the API name."""
    record_name: str
    """The API name both regions answer for, e.g. ``api.example.com``."""
    endpoint: str
    """This region's public endpoint (DNS name of its load balancer or ingress)."""
    failover: FailoverRole
    """The record of the pair this stack owns."""
    drained: bool
    """Drain the region: the health check is disabled and inverted, so Route 53 treats it as
    unhealthy without checking. Only flags of the health check change, in place."""
    request_interval: int = 10
    """Seconds between checks from each checker (Route 53 offers 10 or 30)."""
    failure_threshold: int = 3
    """Consecutive failed (or passed) checks that flip the status (1-10)."""
    ttl: int = 60
    """TTL of the failover record, at most 60 s."""
    checker_regions: Sequence[str] = ("us-east-1", "us-west-1", "us-west-2", "eu-west-1")
    """Route 53 checker regions (at least three)."""
    health_path: str = "/health"
    """Path requested over HTTPS on the endpoint."""
    switch_health_check_id: pulumi.Input[str] | None = None
    """The traffic switch's health check for this region (components/traffic_switch.py): when
    set, the record uses it instead of the endpoint probe (ARC mode: the routing control's
    check; signal mode: the calculated check, which itself requires the probe). The probe is
    declared either way."""


class FailoverEndpoint(pulumi.ComponentResource):
    """An HTTPS health check on the region's endpoint and the failover CNAME record that uses it.
    Route 53 is global: the regional provider passed in only signs the calls."""

    health_check_id: pulumi.Output[str]
    record_fqdn: pulumi.Output[str]

    def __init__(
        self, name: str, args: FailoverEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:traffic:FailoverEndpoint", name, None, opts)
        check = aws.route53.HealthCheck(
            f"{name}-health-check",
            type="HTTPS",
            fqdn=args.endpoint,
            port=443,
            resource_path=args.health_path,
            enable_sni=True,
            request_interval=args.request_interval,
            failure_threshold=args.failure_threshold,
            regions=list(args.checker_regions),
            disabled=args.drained,
            invert_healthcheck=args.drained,
            tags={"Name": f"reskflow-api-{args.region}"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        record = aws.route53.Record(
            f"{name}-record",
            zone_id=args.zone_id,
            name=args.record_name,
            type="CNAME",
            ttl=args.ttl,
            records=[args.endpoint],
            set_identifier=args.region,
            failover_routing_policies=[
                aws.route53.RecordFailoverRoutingPolicyArgs(type=args.failover)
            ],
            health_check_id=(
                check.id if args.switch_health_check_id is None else args.switch_health_check_id
            ),
            allow_overwrite=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.health_check_id = check.id
        self.record_fqdn = record.fqdn
        self.register_outputs(
            {"health_check_id": self.health_check_id, "record_fqdn": self.record_fqdn}
        )
