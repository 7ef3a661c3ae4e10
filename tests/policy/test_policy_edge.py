"""The CloudFront and WAF policies through the analyzer interface: a compliant edge plan passes,
and each non-compliant fixture is flagged on exactly the resources and with the exact messages
expected."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from .builders import ACCOUNT, PlanBuilder, resource
from .conftest import Evaluate, flagged

Plan = dict[str, Any]
DIST_ARN = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2EXAMPLE1ABCD"
POLICIES = (
    "reskflow-cloudfront-viewer-tls",
    "reskflow-cloudfront-origin-https",
    "reskflow-cloudfront-waf",
    "reskflow-cloudfront-logging",
    "reskflow-cloudfront-oac",
    "reskflow-cloudfront-grant-scope",
    "reskflow-wafv2-rate-limit",
    "reskflow-wafv2-logging",
)


def oac_grant(sid: str, action: str, resource_: str, arn: str = DIST_ARN) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": action,
        "Resource": resource_,
        "Condition": {"StringEquals": {"AWS:SourceArn": arn}},
    }


def edge_plan() -> Plan:
    """A compliant edge: the distribution, its OAC, web ACL, both logs, and the uploads bucket
    and key admitting it."""
    b = PlanBuilder()
    bucket = b.bucket_name("uploads")
    b.add(
        "aws:s3/bucketPolicy:BucketPolicy",
        "uploads-policy",
        {
            "bucket": bucket,
            "policy": json.dumps(
                {"Statement": [oac_grant("Read", "s3:GetObject", f"arn:aws:s3:::{bucket}/*")]}
            ),
        },
    )
    b.add(
        "aws:kms/key:Key",
        "kms",
        {"policy": json.dumps({"Statement": [oac_grant("Decrypt", "kms:Decrypt", "*")]})},
    )
    b.add(
        "aws:cloudfront/originAccessControl:OriginAccessControl",
        "edge-oac",
        {
            "name": "edge-s3",
            "originAccessControlOriginType": "s3",
            "signingBehavior": "always",
            "signingProtocol": "sigv4",
        },
    )
    b.add(
        "aws:wafv2/webAcl:WebAcl",
        "edge-acl",
        {
            "scope": "CLOUDFRONT",
            "rules": [
                {
                    "name": "rate",
                    "priority": 0,
                    "action": {"block": {}},
                    "statement": {"rateBasedStatement": {"aggregateKeyType": "IP", "limit": 2000}},
                }
            ],
        },
    )
    acl_arn = f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/reskflow-edge/abc"
    b.add(
        "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
        "edge-waf-logging",
        {
            "resourceArn": acl_arn,
            "logDestinationConfigs": [
                f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:aws-waf-logs-reskflow-edge"
            ],
        },
    )
    b.add(
        "aws:cloudfront/distribution:Distribution",
        "edge-distribution",
        {
            "webAclId": acl_arn,
            "viewerCertificate": {
                "acmCertificateArn": f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/x",
                "minimumProtocolVersion": "TLSv1.2_2021",
                "sslSupportMethod": "sni-only",
            },
            "origins": [
                {
                    "originId": "s3-us-east-1",
                    "domainName": f"{bucket}.s3.us-east-1.amazonaws.com",
                    "originAccessControlId": "edge-s3",
                },
                {
                    "originId": "api",
                    "domainName": "api.reskflow.example.com",
                    "customOriginConfig": {
                        "httpPort": 80,
                        "httpsPort": 443,
                        "originProtocolPolicy": "https-only",
                        "originSslProtocols": ["TLSv1.2"],
                    },
                },
            ],
            "defaultCacheBehavior": {
                "targetOriginId": "api",
                "viewerProtocolPolicy": "redirect-to-https",
            },
            "orderedCacheBehaviors": [
                {
                    "pathPattern": "/static/*",
                    "targetOriginId": "s3-us-east-1",
                    "viewerProtocolPolicy": "https-only",
                }
            ],
        },
    )
    b.add(
        "aws:cloudwatch/logDeliverySource:LogDeliverySource",
        "edge-access-logs",
        {"name": "edge-access-logs", "logType": "ACCESS_LOGS", "resourceArn": DIST_ARN},
    )
    b.add(
        "aws:cloudwatch/logDelivery:LogDelivery",
        "edge-access-logs-delivery",
        {"deliverySourceName": "edge-access-logs", "deliveryDestinationArn": "arn:dest"},
    )
    return b.plan()


def inputs(plan: Plan, name: str) -> dict[str, Any]:
    return resource(plan, name)["inputs"]  # type: ignore[no-any-return]


def dist(plan: Plan) -> dict[str, Any]:
    return inputs(plan, "edge-distribution")


def set_policy(name: str, statement: dict[str, Any]) -> Callable[[Plan], None]:
    def edit(plan: Plan) -> None:
        inputs(plan, name)["policy"] = json.dumps({"Statement": [statement]})

    return edit


def drop(name: str) -> Callable[[Plan], None]:
    def edit(plan: Plan) -> None:
        plan["resources"] = [r for r in plan["resources"] if r["name"] != name]

    return edit


def test_compliant_edge_passes(evaluate: Evaluate) -> None:
    verdicts = evaluate(edge_plan())
    assert {p: flagged(verdicts, p) for p in POLICIES} == {p: {} for p in POLICIES}


D = "Distribution edge-distribution: "
CASES: dict[str, tuple[str, Callable[[Plan], None], dict[str, list[str]]]] = {
    "TLS 1.0 viewers": (
        "reskflow-cloudfront-viewer-tls",
        lambda p: dist(p)["viewerCertificate"].update(minimumProtocolVersion="TLSv1"),
        {"edge-distribution": [D + "minimumProtocolVersion TLSv1 allows TLS below 1.2"]},
    ),
    "default certificate": (
        "reskflow-cloudfront-viewer-tls",
        lambda p: dist(p).update(viewerCertificate={"cloudfrontDefaultCertificate": True}),
        {"edge-distribution": [D + "the default *.cloudfront.net certificate allows TLSv1"]},
    ),
    "plain HTTP behaviour": (
        "reskflow-cloudfront-viewer-tls",
        lambda p: dist(p)["orderedCacheBehaviors"][0].update(viewerProtocolPolicy="allow-all"),
        {"edge-distribution": [D + "behaviour /static/* allows plain HTTP (allow-all)"]},
    ),
    "HTTP to the API origin": (
        "reskflow-cloudfront-origin-https",
        lambda p: dist(p)["origins"][1]["customOriginConfig"].update(
            originProtocolPolicy="match-viewer", originSslProtocols=["TLSv1", "TLSv1.2"]
        ),
        {
            "edge-distribution": [
                D + "origin api uses match-viewer (not https-only); origin api allows TLSv1"
            ]
        },
    ),
    "no web ACL": (
        "reskflow-cloudfront-waf",
        lambda p: dist(p).pop("webAclId"),
        {"edge-distribution": [D + "no WAF web ACL (webAclId)"]},
    ),
    "no access-log delivery": (
        "reskflow-cloudfront-logging",
        drop("edge-access-logs-delivery"),
        {
            "edge-distribution": [
                D + "no standard logging (no loggingConfig and no delivered ACCESS_LOGS delivery "
                "source for it)"
            ]
        },
    ),
    "S3 origin without OAC": (
        "reskflow-cloudfront-oac",
        lambda p: dist(p)["origins"][0].pop("originAccessControlId"),
        {"edge-distribution": [D + "S3 origin s3-us-east-1 has no origin access control"]},
    ),
    "OAC that does not always sign": (
        "reskflow-cloudfront-oac",
        lambda p: inputs(p, "edge-oac").update(signingBehavior="no-override"),
        {
            "edge-distribution": [
                D + "origin s3-us-east-1: OAC edge-oac signingBehavior no-override (must be always)"
            ]
        },
    ),
    "bucket open to every distribution": (
        "reskflow-cloudfront-grant-scope",
        set_policy(
            "uploads-policy",
            {
                "Sid": "AnyDistribution",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": "*",
            },
        ),
        {
            "uploads-policy": [
                "BucketPolicy uploads-policy: statement AnyDistribution admits "
                "cloudfront.amazonaws.com without an AWS:SourceArn equal to one distribution"
            ]
        },
    ),
    "key open to a wildcard distribution": (
        "reskflow-cloudfront-grant-scope",
        set_policy(
            "kms",
            oac_grant("Wild", "kms:Decrypt", "*", f"arn:aws:cloudfront::{ACCOUNT}:distribution/*"),
        ),
        {
            "kms": [
                "Key kms: statement Wild admits cloudfront.amazonaws.com without an "
                "AWS:SourceArn equal to one distribution"
            ]
        },
    ),
    "rate limit below WAF's minimum": (
        "reskflow-wafv2-rate-limit",
        lambda p: inputs(p, "edge-acl")["rules"][0]["statement"]["rateBasedStatement"].update(
            limit=5
        ),
        {"edge-acl": ["WebAcl edge-acl: rate limit 5 is below WAF's minimum of 10"]},
    ),
    "no blocking rate rule": (
        "reskflow-wafv2-rate-limit",
        lambda p: inputs(p, "edge-acl")["rules"][0].update(action={"count": {}}),
        {"edge-acl": ["WebAcl edge-acl: no rate-based rule that blocks"]},
    ),
    "WAF logs to a misnamed group": (
        "reskflow-wafv2-logging",
        lambda p: inputs(p, "edge-waf-logging").update(
            logDestinationConfigs=[f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:waf"]
        ),
        {
            "edge-waf-logging": [
                "WebAclLoggingConfiguration edge-waf-logging: "
                f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:waf is not named aws-waf-logs-*"
            ]
        },
    ),
    "web ACL without logging": (
        "reskflow-wafv2-logging",
        drop("edge-waf-logging"),
        {"edge-acl": ["WebAcl edge-acl: no logging configuration"]},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_non_compliant_edge_is_flagged_exactly(evaluate: Evaluate, case: str) -> None:
    policy, edit, expected = CASES[case]
    plan = edge_plan()
    edit(plan)
    verdicts = evaluate(plan)
    assert flagged(verdicts, policy) == expected
    others = {p: flagged(verdicts, p) for p in POLICIES if p != policy}
    assert others == {p: {} for p in POLICIES if p != policy}
