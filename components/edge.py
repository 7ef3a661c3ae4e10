"""The CloudFront distribution in front of both regions, and the policy statements that admit it.

- ``/static/*`` is served from an origin group over the two regions' replicated buckets, reached
  through origin access control (SigV4, always signed). CloudFront fails over to the second
  bucket per request, on its data plane, when the first answers with a failover status code.
  Origin failover applies to GET, HEAD and OPTIONS only:
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html
- Everything else (the API) goes to one custom origin, the API's Route 53 failover name, over
  HTTPS: Route 53 moves it between regions, for every HTTP method.
- Viewers: HTTPS only (HTTP redirected), TLS 1.2 or later (security policy TLSv1.2_2021), the
  certificate from ACM in us-east-1.
- Standard logging (v2) through CloudWatch Logs vended-log delivery to an SSE-KMS bucket (legacy
  standard logging needs bucket ACLs, which the project's buckets disable):
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging.html
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.waf import WAF_LOG_PREFIX

#: Managed cache policies, attached by id:
#: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
#: Managed origin request policy AllViewerExceptHostHeader: forwards the viewer's headers,
#: cookies and query strings except Host, so the API origin sees its own name (and its
#: certificate matches it):
#: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

#: Status codes on which the origin group retries the second bucket. 5xx: the region's S3 is
#: failing. 403: the bucket or its regional key refuses (e.g. KMS in that region impaired).
#: 404: an object written less than the replication time (S3 RTC: 15 minutes) before a role
#: switch, not yet in the new primary's bucket. A real 404 costs one extra origin request.
FAILOVER_STATUS_CODES: tuple[int, ...] = (403, 404, 500, 502, 503, 504)
STATIC_PATH = "/static/*"
API_ORIGIN_ID = "api"
STATIC_GROUP_ID = "static"
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
READ_METHODS = ["GET", "HEAD", "OPTIONS"]
VIEWER_TLS_POLICY = "TLSv1.2_2021"
CLOUDFRONT_PRINCIPAL = "cloudfront.amazonaws.com"
LOG_DELIVERY_PRINCIPAL = "delivery.logs.amazonaws.com"


def distribution_arn(account_id: str, distribution_id: str) -> str:
    """CloudFront ARNs have no region: arn:aws:cloudfront::ACCOUNT:distribution/ID."""
    return f"arn:aws:cloudfront::{account_id}:distribution/{distribution_id}"


def bucket_regional_domain(bucket: str, region: str) -> str:
    """The bucket's regional REST endpoint: OAC signs for it (not the website endpoint)."""
    return f"{bucket}.s3.{region}.amazonaws.com"


def oac_bucket_statement(bucket_arn: str, dist_arn: str) -> dict[str, Any]:
    """The bucket policy statement letting exactly one distribution read objects through OAC.
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html"""
    return {
        "Sid": "CloudFrontReadsThroughOac",
        "Effect": "Allow",
        "Principal": {"Service": CLOUDFRONT_PRINCIPAL},
        "Action": "s3:GetObject",
        "Resource": f"{bucket_arn}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": dist_arn}},
    }


def oac_key_statement(dist_arn: str) -> dict[str, Any]:
    """The key policy statement letting that distribution decrypt SSE-KMS objects it reads
    (same page, "SSE-KMS"): kms:Decrypt for the CloudFront service principal, on its ARN."""
    return {
        "Sid": "CloudFrontDecryptsForDistribution",
        "Effect": "Allow",
        "Principal": {"Service": CLOUDFRONT_PRINCIPAL},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"AWS:SourceArn": dist_arn}},
    }


def delivery_source_pattern(region: str, account_id: str) -> str:
    return f"arn:aws:logs:{region}:{account_id}:delivery-source:*"


def log_delivery_key_statement(region: str, account_id: str) -> dict[str, Any]:
    """Vended-log delivery writes the access logs into the SSE-KMS log bucket:
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-V2-S3.html"""
    return {
        "Sid": "LogDeliveryEncryptsAccessLogs",
        "Effect": "Allow",
        "Principal": {"Service": LOG_DELIVERY_PRINCIPAL},
        "Action": "kms:GenerateDataKey*",
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": delivery_source_pattern(region, account_id)},
        },
    }


def log_bucket_statement(bucket_arn: str, region: str, account_id: str) -> dict[str, Any]:
    """The log bucket admits vended-log delivery from this account's delivery sources only."""
    return {
        "Sid": "LogDeliveryWritesAccessLogs",
        "Effect": "Allow",
        "Principal": {"Service": LOG_DELIVERY_PRINCIPAL},
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*",
        "Condition": {
            "StringEquals": {
                "s3:x-amz-acl": "bucket-owner-full-control",
                "aws:SourceAccount": account_id,
            },
            "ArnLike": {"aws:SourceArn": delivery_source_pattern(region, account_id)},
        },
    }


@dataclass(frozen=True)
class StaticOrigin:
    """One member of the static origin group: a region's replicated bucket."""

    region: str
    bucket: str


@dataclass(frozen=True)
class EdgeDistributionArgs:
    """Inputs of :class:`EdgeDistribution`."""

    static_origins: tuple[StaticOrigin, StaticOrigin]
    """The origin group's members, primary first (the active region's bucket)."""
    api_origin: str
    """The API's failover DNS name (HTTPS origin, no origin group)."""
    certificate_arn: str
    """ACM certificate in us-east-1 covering ``aliases``."""
    web_acl_arn: pulumi.Input[str]
    """The CLOUDFRONT-scope WAF web ACL (WAFv2: its ARN)."""
    aliases: Sequence[str] = ()
    shield_advanced: bool = False
    """Protect the distribution with AWS Shield Advanced (the account must be subscribed)."""
    tags: dict[str, str] = field(default_factory=dict)


def _origins(args: EdgeDistributionArgs, oac_id: pulumi.Input[str]) -> list[Any]:
    origins: list[Any] = [
        aws.cloudfront.DistributionOriginArgs(
            origin_id=f"s3-{o.region}",
            domain_name=bucket_regional_domain(o.bucket, o.region),
            origin_access_control_id=oac_id,
        )
        # A fixed order: a role switch changes only the origin group's member order.
        for o in sorted(args.static_origins, key=lambda o: o.region)
    ]
    origins.append(
        aws.cloudfront.DistributionOriginArgs(
            origin_id=API_ORIGIN_ID,
            domain_name=args.api_origin,
            custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                http_port=80,
                https_port=443,
                origin_protocol_policy="https-only",
                origin_ssl_protocols=["TLSv1.2"],
            ),
        )
    )
    return origins


class EdgeDistribution(pulumi.ComponentResource):
    """The distribution, its origin access control and, opt-in, its Shield Advanced protection
    (its logging is :class:`EdgeLogging`). CloudFront is global, its control plane in us-east-1:
    pass the us-east-1 provider in ``opts.providers``."""

    distribution_id: pulumi.Output[str]
    distribution_arn: pulumi.Output[str]
    domain_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: EdgeDistributionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:edge:EdgeDistribution", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        oac = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            name=f"{name}-s3",
            description="ReskFlow static content: SigV4-signed requests to both regions' buckets",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        primary, secondary = args.static_origins
        dist = aws.cloudfront.Distribution(
            f"{name}-distribution",
            enabled=True,
            comment="ReskFlow edge: static content from both regions, the API by failover DNS",
            aliases=list(args.aliases) or None,
            http_version="http2and3",
            is_ipv6_enabled=True,
            price_class="PriceClass_All",
            web_acl_id=args.web_acl_arn,
            origins=_origins(args, oac.id),
            origin_groups=[
                aws.cloudfront.DistributionOriginGroupArgs(
                    origin_id=STATIC_GROUP_ID,
                    failover_criteria=aws.cloudfront.DistributionOriginGroupFailoverCriteriaArgs(
                        status_codes=list(FAILOVER_STATUS_CODES)
                    ),
                    members=[
                        aws.cloudfront.DistributionOriginGroupMemberArgs(
                            origin_id=f"s3-{primary.region}"
                        ),
                        aws.cloudfront.DistributionOriginGroupMemberArgs(
                            origin_id=f"s3-{secondary.region}"
                        ),
                    ],
                )
            ],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=API_ORIGIN_ID,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=ALL_METHODS,
                cached_methods=["GET", "HEAD"],
                cache_policy_id=CACHING_DISABLED,
                origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST,
                compress=True,
            ),
            ordered_cache_behaviors=[
                aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                    path_pattern=STATIC_PATH,
                    target_origin_id=STATIC_GROUP_ID,
                    viewer_protocol_policy="redirect-to-https",
                    # An origin group serves only these methods (it cannot fail over others).
                    allowed_methods=READ_METHODS,
                    cached_methods=["GET", "HEAD"],
                    cache_policy_id=CACHING_OPTIMIZED,
                    compress=True,
                )
            ],
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                    restriction_type="none"
                )
            ),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=args.certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version=VIEWER_TLS_POLICY,
            ),
            tags=args.tags or None,
            opts=child,
        )
        if args.shield_advanced:
            aws.shield.Protection(
                f"{name}-shield", name=f"{name}-distribution", resource_arn=dist.arn, opts=child
            )
        self.distribution_id = dist.id
        self.distribution_arn = dist.arn
        self.domain_name = dist.domain_name
        self.register_outputs(
            {
                "distribution_id": self.distribution_id,
                "distribution_arn": self.distribution_arn,
                "domain_name": self.domain_name,
            }
        )


@dataclass(frozen=True)
class EdgeLoggingArgs:
    """Inputs of :class:`EdgeLogging`."""

    name: str
    """Prefix of the delivery names; the WAF log group is ``aws-waf-logs-<name>``."""
    distribution_arn: pulumi.Input[str]
    web_acl_arn: pulumi.Input[str]
    log_bucket_arn: pulumi.Input[str]
    """SSE-KMS bucket receiving the distribution's standard (v2) access logs."""
    kms_key_arn: pulumi.Input[str]
    """Key encrypting the WAF log group (its policy admits CloudWatch Logs of the region)."""
    log_retention_days: int = 90
    """Days CloudWatch Logs keeps the WAF's request logs."""


class EdgeLogging(pulumi.ComponentResource):
    """The distribution's standard logging (v2: a vended-log delivery source, an S3 delivery
    destination and the delivery) and the web ACL's request logging to an encrypted log group
    named with WAF's required ``aws-waf-logs-`` prefix. Both must be declared in us-east-1."""

    waf_log_group_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: EdgeLoggingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:edge:EdgeLogging", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        dist_arn = args.distribution_arn
        source = aws.cloudwatch.LogDeliverySource(
            f"{name}-access-logs",
            name=f"{name}-access-logs",
            log_type="ACCESS_LOGS",
            resource_arn=dist_arn,
            opts=child,
        )
        destination = aws.cloudwatch.LogDeliveryDestination(
            f"{name}-access-logs-bucket",
            name=f"{name}-access-logs-bucket",
            output_format="parquet",
            delivery_destination_configuration=(
                aws.cloudwatch.LogDeliveryDestinationDeliveryDestinationConfigurationArgs(
                    destination_resource_arn=args.log_bucket_arn
                )
            ),
            opts=child,
        )
        aws.cloudwatch.LogDelivery(
            f"{name}-access-logs-delivery",
            delivery_source_name=source.name,
            delivery_destination_arn=destination.arn,
            opts=child,
        )
        logs = aws.cloudwatch.LogGroup(
            f"{name}-waf",
            name=f"{WAF_LOG_PREFIX}{args.name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.kms_key_arn,
            opts=child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-waf-logging",
            resource_arn=args.web_acl_arn,
            log_destination_configs=[logs.arn],
            redacted_fields=[
                aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                    single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(
                        name="authorization"
                    )
                )
            ],
            opts=child,
        )
        self.waf_log_group_arn = logs.arn
        self.register_outputs({"waf_log_group_arn": self.waf_log_group_arn})
