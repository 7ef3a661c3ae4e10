"""The edge: CloudFront and WAF in the us-east-1 stack; both stacks admit the distribution.

Built in two steps around the key and the buckets: :func:`build_edge` before them (their
policies name the distribution), :func:`build_edge_logging` after them (the access-log bucket and
the WAF log group are encrypted with the key). See docs/edge.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.edge import (
    EdgeDistribution,
    EdgeDistributionArgs,
    EdgeLogging,
    EdgeLoggingArgs,
    StaticOrigin,
    distribution_arn,
    log_bucket_statement,
    log_delivery_key_statement,
    oac_bucket_statement,
    oac_key_statement,
)
from components.storage import Expiry, SecureBucket, SecureBucketArgs
from components.waf import EdgeFirewall, EdgeFirewallArgs
from infra.settings import EDGE_OWNER_REGION, StackSettings
from infra.tiers.encryption import Encryption

#: The access-log bucket's store tag (not a replicated data store: logs of the edge itself).
EDGE_LOG_STORE = "edge-logs"
EDGE_NAME = "edge"

Statements = pulumi.Input[list[dict[str, Any]]]


@dataclass(frozen=True)
class EdgeAccess:
    """The distribution (in the owning stack) and its ARN (in both stacks, None without edge)."""

    distribution_arn: pulumi.Input[str] | None
    distribution: EdgeDistribution | None = None
    firewall: EdgeFirewall | None = None


def owns_edge(settings: StackSettings) -> bool:
    return settings.edge is not None and settings.region == EDGE_OWNER_REGION


def build_edge(settings: StackSettings, regional: pulumi.ResourceOptions) -> EdgeAccess:
    """The web ACL and the distribution in the owning stack; the peer's distribution ARN (from
    ``reskflow:edgeDistributionId``) in the other stack. The owning stack's provider is the
    us-east-1 one, which CloudFront, its certificates and CLOUDFRONT-scope web ACLs need."""
    edge = settings.edge
    if edge is None:
        return EdgeAccess(None)
    if not owns_edge(settings):
        return EdgeAccess(distribution_arn(settings.account_id, str(edge.distribution_id)))
    firewall = EdgeFirewall(
        EDGE_NAME,
        EdgeFirewallArgs(
            name=f"{settings.project}-{EDGE_NAME}",
            rate_limit=edge.rate_limit,
            rate_window_seconds=edge.rate_window_seconds,
        ),
        opts=regional,
    )
    active = settings.region if settings.role == "active" else settings.peer_region
    standby = settings.peer_region if active == settings.region else settings.region
    store = edge.static_store
    distribution = EdgeDistribution(
        EDGE_NAME,
        EdgeDistributionArgs(
            static_origins=(
                StaticOrigin(active, settings.bucket_name(store, active)),
                StaticOrigin(standby, settings.bucket_name(store, standby)),
            ),
            api_origin=edge.api_origin,
            certificate_arn=edge.certificate_arn,
            web_acl_arn=firewall.web_acl_arn,
            aliases=edge.aliases,
            shield_advanced=edge.shield_advanced,
        ),
        opts=regional,
    )
    return EdgeAccess(distribution.distribution_arn, distribution, firewall)


def key_statements(settings: StackSettings, access: EdgeAccess) -> Statements | None:
    """Key policy statements: CloudFront decrypts for exactly this distribution; in the owning
    stack, vended-log delivery also encrypts the access logs."""
    if access.distribution_arn is None:
        return None
    region, account = settings.region, settings.account_id
    return pulumi.Output.from_input(access.distribution_arn).apply(
        lambda arn: [
            oac_key_statement(arn),
            *([log_delivery_key_statement(region, account)] if owns_edge(settings) else []),
        ]
    )


def bucket_statements(settings: StackSettings, access: EdgeAccess) -> dict[str, Statements] | None:
    """The static store's bucket admits the distribution (through OAC), by store key."""
    if access.distribution_arn is None or settings.edge is None:
        return None
    store = settings.edge.static_store
    bucket_arn = settings.bucket_arn(store, settings.region)
    return {
        store: pulumi.Output.from_input(access.distribution_arn).apply(
            lambda arn: [oac_bucket_statement(bucket_arn, arn)]
        )
    }


def build_edge_logging(
    settings: StackSettings,
    regional: pulumi.ResourceOptions,
    encryption: Encryption,
    access: EdgeAccess,
) -> SecureBucket | None:
    """The SSE-KMS access-log bucket and both logs (owning stack only)."""
    if access.distribution is None or access.firewall is None:
        return None
    region, account = settings.region, settings.account_id
    name = settings.bucket_name(EDGE_LOG_STORE, region)
    arn = settings.bucket_arn(EDGE_LOG_STORE, region)
    days = settings.retention.logs_days
    bucket = SecureBucket(
        f"s3-{EDGE_LOG_STORE}",
        SecureBucketArgs(
            bucket_name=name,
            kms_key_arn=encryption.key.key_arn,
            store=EDGE_LOG_STORE,
            expiries=(Expiry("expire-access-logs", "", days, 1),),
            incomplete_multipart_days=settings.retention.incomplete_multipart_days,
            extra_statements=[log_bucket_statement(arn, region, account)],
        ),
        opts=regional,
    )
    EdgeLogging(
        EDGE_NAME,
        EdgeLoggingArgs(
            name=f"{settings.project}-{EDGE_NAME}",
            distribution_arn=access.distribution.distribution_arn,
            web_acl_arn=access.firewall.web_acl_arn,
            log_bucket_arn=bucket.bucket_arn,
            kms_key_arn=encryption.key.key_arn,
        ),
        opts=regional,
    )
    return bucket
