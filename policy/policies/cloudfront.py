"""CloudFront and AWS WAF: TLS 1.2+ to viewers, HTTPS to origins, a web ACL, logging, and S3
origins reached only through origin access control admitted for exactly one distribution.

Joins between resources (a delivery source to its distribution, a logging configuration to its
web ACL) use the engine's property dependencies when the plan carries them (``pulumi preview``);
an offline plan carries values instead, and the distribution's ARN is an output, so there the
rules count: every distribution (web ACL) needs its own delivered source (logging configuration).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    BUCKET_POLICY,
    KMS_KEY,
    KMS_REPLICA_KEY,
    UNKNOWN,
    Findings,
    Meta,
    Res,
    Stack,
    as_list,
    get,
    items,
    json_document,
    num,
    present,
    resource_policy,
    stack_policy,
)

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
OAC = "aws:cloudfront/originAccessControl:OriginAccessControl"
DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"

#: CloudFront security policies that accept TLS 1.2 or later only:
#: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/secure-connections-supported-viewer-protocols-ciphers.html
TLS12_POLICIES = frozenset(
    {"TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"}
)
VIEWER_HTTPS = frozenset({"https-only", "redirect-to-https"})
#: AWS WAF: the lowest rate-based rule limit (it was 100 before).
WAF_MIN_RATE_LIMIT = 10
WAF_LOG_PREFIX = "aws-waf-logs-"
_S3_REST = re.compile(r"^[a-z0-9.-]+\.s3(\.[a-z0-9-]+)?\.amazonaws\.com$")
_DISTRIBUTION_ARN = re.compile(r"^arn:aws:cloudfront::[0-9]{12}:distribution/[A-Z0-9]+$")
CLOUDFRONT_PRINCIPAL = "cloudfront.amazonaws.com"


def _behaviours(dist: Res) -> Any:
    default = dist.get("defaultCacheBehavior")
    ordered = dist.items("orderedCacheBehaviors")
    if ordered is UNKNOWN:
        return UNKNOWN
    return [b for b in [default, *ordered] if b is not None]


def _check_viewer_tls(dist: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    problems: list[str] = []
    cert = dist.get("viewerCertificate")
    version = get(cert, "minimumProtocolVersion")
    if get(cert, "cloudfrontDefaultCertificate") is True:
        problems.append("the default *.cloudfront.net certificate allows TLSv1")
    elif version is UNKNOWN:
        out.unknown(dist, "viewerCertificate.minimumProtocolVersion")
    elif version not in TLS12_POLICIES:
        problems.append(f"minimumProtocolVersion {version or 'not set'} allows TLS below 1.2")
    behaviours = _behaviours(dist)
    if behaviours is UNKNOWN:
        out.unknown(dist, "cache behaviours")
    else:
        for b in behaviours:
            policy = get(b, "viewerProtocolPolicy")
            if policy is not UNKNOWN and policy not in VIEWER_HTTPS:
                where = get(b, "pathPattern") or "default"
                problems.append(f"behaviour {where} allows plain HTTP ({policy})")
    if problems:
        out.fail(f"Distribution {dist.name}: " + "; ".join(problems))


def _is_s3_origin(origin: Any) -> bool:
    domain = get(origin, "domainName")
    return isinstance(domain, str) and bool(_S3_REST.match(domain))


def _check_origin_https(dist: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    origins = dist.items("origins")
    if origins is UNKNOWN:
        out.unknown(dist, "origins")
        return
    problems: list[str] = []
    for origin in origins:
        custom = get(origin, "customOriginConfig")
        if custom is None:
            continue
        oid = get(origin, "originId")
        policy = get(custom, "originProtocolPolicy")
        if policy is not UNKNOWN and policy != "https-only":
            problems.append(f"origin {oid} uses {policy} (not https-only)")
        protocols = items(custom, "originSslProtocols")
        if protocols is not UNKNOWN:
            weak = sorted(p for p in protocols if isinstance(p, str) and p != "TLSv1.2")
            if weak:
                problems.append(f"origin {oid} allows {', '.join(weak)}")
    if problems:
        out.fail(f"Distribution {dist.name}: " + "; ".join(problems))


def _check_web_acl(dist: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    if not present(dist.props, "webAclId"):
        out.fail(f"Distribution {dist.name}: no WAF web ACL (webAclId)")


def _refs(res: Res, prop: str) -> tuple[str, ...]:
    return res.property_dependencies.get(prop, ())


def _delivered_sources(stack: Stack) -> list[Res]:
    deliveries = stack.of_type(DELIVERY)
    delivered = []
    for source in stack.of_type(DELIVERY_SOURCE):
        if source.get("logType") != "ACCESS_LOGS":
            continue
        if any(
            d.get("deliverySourceName") == source.get("name")
            or source.urn in _refs(d, "deliverySourceName")
            for d in deliveries
        ):
            delivered.append(source)
    return delivered


def _check_logging(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    sources = _delivered_sources(stack)
    unjoined: list[Res] = []
    for dist in stack.of_type(DISTRIBUTION):
        if present(dist.props, "loggingConfig", "bucket"):
            continue
        if any(dist.urn in _refs(s, "resourceArn") for s in sources):
            continue
        unjoined.append(dist)
    by_value = {
        s.get("resourceArn")
        for s in sources
        if not _refs(s, "resourceArn") and _DISTRIBUTION_ARN.match(str(s.get("resourceArn")))
    }
    if len(unjoined) > len(by_value):
        for dist in unjoined:
            out.fail(
                f"Distribution {dist.name}: no standard logging (no loggingConfig and no "
                "delivered ACCESS_LOGS delivery source for it)",
                dist,
            )


def _oac_ok(oac: Res) -> list[str]:
    wanted = {
        "originAccessControlOriginType": "s3",
        "signingBehavior": "always",
        "signingProtocol": "sigv4",
    }
    return [
        f"{k} {oac.get(k)} (must be {v})"
        for k, v in wanted.items()
        if oac.get(k) is not UNKNOWN and oac.get(k) != v
    ]


def _check_oac(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    oacs = stack.of_type(OAC)
    by_id = {o.get("name"): o for o in oacs} | {o.urn: o for o in oacs}
    for dist in stack.of_type(DISTRIBUTION):
        origins = dist.items("origins")
        if origins is UNKNOWN:
            out.unknown(dist, "origins")
            continue
        problems: list[str] = []
        for origin in origins:
            if not _is_s3_origin(origin):
                continue
            oid = get(origin, "originId")
            if present(origin, "s3OriginConfig", "originAccessIdentity"):
                problems.append(f"origin {oid} uses a legacy origin access identity")
            oac_id = get(origin, "originAccessControlId")
            if not present(origin, "originAccessControlId"):
                problems.append(f"S3 origin {oid} has no origin access control")
                continue
            refs = [by_id[u] for u in _refs(dist, "origins") if u in by_id]
            oac = by_id.get(oac_id) if isinstance(oac_id, str) else None
            for o in [oac] if oac is not None else refs:
                problems.extend(f"origin {oid}: OAC {o.name} {p}" for p in _oac_ok(o))
        if problems:
            out.fail(f"Distribution {dist.name}: " + "; ".join(problems), dist)


def _cloudfront_grants(doc: Any) -> list[Any]:
    statements = as_list(get(doc, "Statement"))
    found = []
    for s in statements:
        principal = get(s, "Principal")
        services = as_list(get(principal, "Service")) if isinstance(principal, Mapping) else []
        if get(s, "Effect") == "Allow" and CLOUDFRONT_PRINCIPAL in services:
            found.append(s)
    return found


def _source_arns(statement: Any) -> list[Any]:
    condition = get(statement, "Condition")
    arns: list[Any] = []
    for operator in ("StringEquals", "ArnEquals"):
        block = get(condition, operator)
        if isinstance(block, Mapping):
            for key in block:
                if key.lower() == "aws:sourcearn":
                    arns.extend(as_list(get(block, key)))
    return arns


def _check_grants(res: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    """Bucket and key policies admit CloudFront only for named distributions."""
    doc = json_document(res.get("policy"))
    if doc is UNKNOWN:
        out.unknown(res, "policy")
        return
    for s in _cloudfront_grants(doc):
        arns = _source_arns(s)
        bad = [a for a in arns if not (isinstance(a, str) and _DISTRIBUTION_ARN.match(a))]
        if not arns or bad:
            sid = get(s, "Sid") or "(no Sid)"
            out.fail(
                f"{res.type.split(':')[-1]} {res.name}: statement {sid} admits "
                f"{CLOUDFRONT_PRINCIPAL} without an AWS:SourceArn equal to one distribution"
            )


def _check_rate_rule(acl: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    rules = acl.items("rules")
    if rules is UNKNOWN:
        out.unknown(acl, "rules")
        return
    limits = [
        num(get(r, "statement", "rateBasedStatement", "limit"))
        for r in rules
        if present(r, "statement", "rateBasedStatement") and present(r, "action", "block")
    ]
    if not limits:
        out.fail(f"WebAcl {acl.name}: no rate-based rule that blocks")
    for limit in limits:
        if limit is not None and limit < WAF_MIN_RATE_LIMIT:
            out.fail(f"WebAcl {acl.name}: rate limit {limit:g} is below WAF's minimum of 10")


def _check_waf_logging(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    configs = stack.of_type(WEB_ACL_LOGGING)
    for c in configs:
        destinations = c.items("logDestinationConfigs")
        for dest in [] if destinations is UNKNOWN else destinations:
            if isinstance(dest, str) and WAF_LOG_PREFIX not in dest:
                out.fail(
                    f"WebAclLoggingConfiguration {c.name}: {dest} is not named {WAF_LOG_PREFIX}*", c
                )
    unjoined = [
        a
        for a in stack.of_type(WEB_ACL)
        if not any(a.urn in _refs(c, "resourceArn") for c in configs)
    ]
    by_value = {c.get("resourceArn") for c in configs if not _refs(c, "resourceArn")}
    if len(unjoined) > len(by_value):
        for acl in unjoined:
            out.fail(f"WebAcl {acl.name}: no logging configuration", acl)


def _meta(name: str, description: str, remediation: str) -> Meta:
    return Meta(name, description, remediation, "security", severity=Severity.HIGH)


POLICIES = [
    resource_policy(
        _meta(
            "reskflow-cloudfront-viewer-tls",
            "Distributions accept viewers over TLS 1.2 or later only.",
            "Use an ACM certificate (us-east-1) with minimumProtocolVersion TLSv1.2_2021 and "
            "viewerProtocolPolicy redirect-to-https or https-only on every behaviour.",
        ),
        [DISTRIBUTION],
        _check_viewer_tls,
    ),
    resource_policy(
        _meta(
            "reskflow-cloudfront-origin-https",
            "Distributions reach custom origins over HTTPS with TLS 1.2.",
            "Set originProtocolPolicy https-only and originSslProtocols [TLSv1.2].",
        ),
        [DISTRIBUTION],
        _check_origin_https,
    ),
    resource_policy(
        _meta(
            "reskflow-cloudfront-waf",
            "Distributions are protected by an AWS WAF web ACL.",
            "Set webAclId to a CLOUDFRONT-scope web ACL's ARN (created in us-east-1).",
        ),
        [DISTRIBUTION],
        _check_web_acl,
    ),
    stack_policy(
        _meta(
            "reskflow-cloudfront-logging",
            "Distributions have standard logging.",
            "Declare an ACCESS_LOGS delivery source for the distribution and a delivery to an "
            "encrypted bucket (standard logging v2).",
        ),
        _check_logging,
    ),
    stack_policy(
        _meta(
            "reskflow-cloudfront-oac",
            "S3 origins are reached only through origin access control (SigV4, always).",
            "Give every S3 origin an originAccessControlId of an OAC with signingBehavior "
            "always and signingProtocol sigv4; drop origin access identities.",
        ),
        _check_oac,
    ),
    resource_policy(
        _meta(
            "reskflow-cloudfront-grant-scope",
            "Bucket and key policies admit CloudFront for exactly named distributions.",
            "Condition every statement for cloudfront.amazonaws.com on AWS:SourceArn equal to "
            "the distribution's ARN (StringEquals).",
        ),
        [BUCKET_POLICY, KMS_KEY, KMS_REPLICA_KEY],
        _check_grants,
    ),
    resource_policy(
        _meta(
            "reskflow-wafv2-rate-limit",
            "Web ACLs block clients above a rate limit WAF accepts.",
            "Add a rate-based rule with a block action and a limit of at least 10.",
        ),
        [WEB_ACL],
        _check_rate_rule,
    ),
    stack_policy(
        _meta(
            "reskflow-wafv2-logging",
            "Web ACLs log requests to a destination named aws-waf-logs-*.",
            "Declare a WebAclLoggingConfiguration per web ACL to a log group named "
            "aws-waf-logs-<name>.",
        ),
        _check_waf_logging,
    ),
]
