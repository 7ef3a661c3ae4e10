"""The edge tier under the real program, for both stacks in both roles: the distribution's
behaviours, origin group members and failover codes, OAC, the web ACL, logging, and the exact
bucket and key policy statements that admit the distribution."""

from __future__ import annotations

from typing import Any

import pytest

from infra.settings import ConfigError
from reskflow_dr.engine import Plan
from reskflow_dr.preview import preview
from tests.conftest import ROLE_OVERRIDES, named, policy_doc

ACCOUNT = "123456789012"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
DR_DIST_ARN = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2EXAMPLE1ABCD"
EAST, WEST = "us-east-1", "us-west-2"
EDGE_TYPES = {
    "aws:cloudfront/distribution:Distribution",
    "aws:cloudfront/originAccessControl:OriginAccessControl",
    "aws:wafv2/webAcl:WebAcl",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
    "aws:cloudwatch/logDeliverySource:LogDeliverySource",
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination",
    "aws:cloudwatch/logDelivery:LogDelivery",
    "aws:shield/protection:Protection",
}


def bucket(store: str, region: str) -> str:
    return f"reskflow-{ACCOUNT}-{store}-{region}"


@pytest.fixture(scope="module")
def plans() -> dict[tuple[str, str], Plan]:
    return {
        (stack, role): preview(stack, list(ROLE_OVERRIDES[stack, role]))
        for stack in ("prod", "dr")
        for role in ("active", "passive")
    }


def statement(resource: Any, sid: str) -> dict[str, Any]:
    found = [s for s in policy_doc(resource)["Statement"] if s.get("Sid") == sid]
    assert len(found) == 1, f"{resource.name}: expected one {sid}"
    return found[0]  # type: ignore[no-any-return]


def sids(resource: Any) -> set[str]:
    return {s["Sid"] for s in policy_doc(resource)["Statement"]}


@pytest.mark.parametrize("role", ["active", "passive"])
def test_prod_owns_the_distribution_with_its_us_east_1_provider(
    plans: dict[tuple[str, str], Plan], role: str
) -> None:
    plan = plans["prod", role]
    edge = [r for r in plan.resources if r.type in EDGE_TYPES]
    assert sorted(r.name for r in edge) == [
        "edge-access-logs",
        "edge-access-logs-bucket",
        "edge-access-logs-delivery",
        "edge-acl",
        "edge-distribution",
        "edge-oac",
        "edge-waf-logging",
    ]
    assert {r.region for r in edge} == {EAST}
    assert all(r.provider and "aws-us-east-1" in r.provider for r in edge)


@pytest.mark.parametrize("role", ["active", "passive"])
def test_dr_declares_no_edge_resource(plans: dict[tuple[str, str], Plan], role: str) -> None:
    plan = plans["dr", role]
    assert [r.name for r in plan.resources if r.type in EDGE_TYPES] == []
    assert not any(r.name.startswith("s3-edge-logs") for r in plan.resources)


@pytest.mark.parametrize(
    ("role", "primary", "secondary"), [("active", EAST, WEST), ("passive", WEST, EAST)]
)
def test_static_origin_group_puts_the_active_regions_bucket_first(
    plans: dict[tuple[str, str], Plan], role: str, primary: str, secondary: str
) -> None:
    dist = named(plans["prod", role], "edge-distribution").inputs
    assert dist["originGroups"] == [
        {
            "originId": "static",
            "failoverCriteria": {"statusCodes": [403, 404, 500, 502, 503, 504]},
            "members": [{"originId": f"s3-{primary}"}, {"originId": f"s3-{secondary}"}],
        }
    ]
    oac = named(plans["prod", role], "edge-oac")
    assert oac.inputs == {
        "name": "edge-s3",
        "description": "ReskFlow static content: SigV4-signed requests to both regions' buckets",
        "originAccessControlOriginType": "s3",
        "signingBehavior": "always",
        "signingProtocol": "sigv4",
    }
    assert dist["origins"] == [
        {
            "originId": f"s3-{r}",
            "domainName": f"{bucket('uploads', r)}.s3.{r}.amazonaws.com",
            "originAccessControlId": "edge-s3",
        }
        for r in (EAST, WEST)
    ] + [
        {
            "originId": "api",
            "domainName": "api.reskflow.example.com",
            "customOriginConfig": {
                "httpPort": 80,
                "httpsPort": 443,
                "originProtocolPolicy": "https-only",
                "originSslProtocols": ["TLSv1.2"],
            },
        }
    ]


@pytest.mark.parametrize("role", ["active", "passive"])
def test_behaviours_tls_certificate_and_web_acl(
    plans: dict[tuple[str, str], Plan], role: str
) -> None:
    plan = plans["prod", role]
    dist = named(plan, "edge-distribution").inputs
    assert dist["defaultCacheBehavior"] == {
        "targetOriginId": "api",
        "viewerProtocolPolicy": "redirect-to-https",
        "allowedMethods": ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"],
        "cachedMethods": ["GET", "HEAD"],
        "cachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
        "originRequestPolicyId": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
        "compress": True,
    }
    assert dist["orderedCacheBehaviors"] == [
        {
            "pathPattern": "/static/*",
            "targetOriginId": "static",
            "viewerProtocolPolicy": "redirect-to-https",
            "allowedMethods": ["GET", "HEAD", "OPTIONS"],
            "cachedMethods": ["GET", "HEAD"],
            "cachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            "compress": True,
        }
    ]
    assert dist["viewerCertificate"] == {
        "acmCertificateArn": CERT,
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    }
    assert dist["aliases"] == ["www.reskflow.example.com"]
    # The web ACL (WAFv2: by ARN) is the one whose logging is configured.
    acl_arn = named(plan, "edge-waf-logging").inputs["resourceArn"]
    assert acl_arn.startswith(f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/reskflow-edge/")
    assert dist["webAclId"] == acl_arn


@pytest.mark.parametrize("role", ["active", "passive"])
def test_web_acl_rules_and_rate_limit(plans: dict[tuple[str, str], Plan], role: str) -> None:
    acl = named(plans["prod", role], "edge-acl").inputs
    assert (acl["scope"], acl["defaultAction"]) == ("CLOUDFRONT", {"allow": {}})
    rules = [
        (r["priority"], r["name"], r.get("overrideAction"), r.get("action")) for r in acl["rules"]
    ]
    assert rules == [
        (0, "AWSManagedRulesCommonRuleSet", {"none": {}}, None),
        (1, "AWSManagedRulesKnownBadInputsRuleSet", {"none": {}}, None),
        (2, "rate-limit-per-ip", None, {"block": {}}),
    ]
    assert [r["statement"] for r in acl["rules"]] == [
        {
            "managedRuleGroupStatement": {
                "name": "AWSManagedRulesCommonRuleSet",
                "vendorName": "AWS",
            }
        },
        {
            "managedRuleGroupStatement": {
                "name": "AWSManagedRulesKnownBadInputsRuleSet",
                "vendorName": "AWS",
            }
        },
        {
            "rateBasedStatement": {
                "aggregateKeyType": "IP",
                "limit": 2000,
                "evaluationWindowSec": 300,
            }
        },
    ]


def test_rate_limit_and_window_come_from_config() -> None:
    plan = preview(
        "prod",
        [
            'reskflow:edge={"certificateArn": "' + CERT + '", "rateLimit": 10, '
            '"rateWindowSeconds": 60, "shieldAdvanced": true}'
        ],
    )
    rule = named(plan, "edge-acl").inputs["rules"][2]["statement"]["rateBasedStatement"]
    assert (rule["limit"], rule["evaluationWindowSec"]) == (10, 60)
    shield = named(plan, "edge-shield").inputs
    assert shield["name"] == "edge-distribution"
    assert shield["resourceArn"].startswith(f"arn:aws:cloudfront::{ACCOUNT}:distribution/E")


@pytest.mark.parametrize("role", ["active", "passive"])
def test_logging_to_the_encrypted_bucket_and_the_waf_log_group(
    plans: dict[tuple[str, str], Plan], role: str
) -> None:
    plan = plans["prod", role]
    dist_arn = named(plan, "edge-access-logs").inputs["resourceArn"]
    assert dist_arn.startswith(f"arn:aws:cloudfront::{ACCOUNT}:distribution/E")
    assert named(plan, "edge-access-logs").inputs["logType"] == "ACCESS_LOGS"
    assert named(plan, "edge-access-logs-bucket").inputs["deliveryDestinationConfiguration"] == {
        "destinationResourceArn": f"arn:aws:s3:::{bucket('edge-logs', EAST)}"
    }
    sse = named(plan, "s3-edge-logs-encryption").inputs["rules"][0]
    assert sse["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    waf_logs = named(plan, "edge-waf").inputs
    assert waf_logs["name"] == "aws-waf-logs-reskflow-edge"
    assert waf_logs["kmsKeyId"].startswith(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/mrk-")
    assert named(plan, "edge-waf-logging").inputs["redactedFields"] == [
        {"singleHeader": {"name": "authorization"}}
    ]
    assert statement(named(plan, "s3-edge-logs-policy"), "LogDeliveryWritesAccessLogs") == {
        "Sid": "LogDeliveryWritesAccessLogs",
        "Effect": "Allow",
        "Principal": {"Service": "delivery.logs.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket('edge-logs', EAST)}/AWSLogs/{ACCOUNT}/*",
        "Condition": {
            "StringEquals": {
                "s3:x-amz-acl": "bucket-owner-full-control",
                "aws:SourceAccount": ACCOUNT,
            },
            "ArnLike": {"aws:SourceArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:delivery-source:*"},
        },
    }


def oac_statements(dist_arn: str, region: str) -> tuple[dict[str, Any], dict[str, Any]]:
    condition = {"StringEquals": {"AWS:SourceArn": dist_arn}}
    return (
        {
            "Sid": "CloudFrontReadsThroughOac",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket('uploads', region)}/*",
            "Condition": condition,
        },
        {
            "Sid": "CloudFrontDecryptsForDistribution",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": condition,
        },
    )


BASE_KEY_SIDS = {
    "AccountAdministersThroughIam",
    "CloudWatchLogsEncryptsLogGroups",
    "ServicesPublishToEncryptedTopics",
}
BASE_BUCKET_SIDS = {"DenyInsecureTransport", "DenyIncorrectEncryptionHeader"}


@pytest.mark.parametrize("role", ["active", "passive"])
@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_bucket_and_key_policies_admit_exactly_the_distribution(
    plans: dict[tuple[str, str], Plan], stack: str, role: str
) -> None:
    plan = plans[stack, role]
    region = EAST if stack == "prod" else WEST
    dist_arn = (
        named(plan, "edge-access-logs").inputs["resourceArn"] if stack == "prod" else DR_DIST_ARN
    )
    read, decrypt = oac_statements(dist_arn, region)
    uploads = named(plan, "s3-uploads-policy")
    assert statement(uploads, "CloudFrontReadsThroughOac") == read
    assert sids(uploads) == BASE_BUCKET_SIDS | {"CloudFrontReadsThroughOac"}
    key = named(plan, "kms-key")
    assert statement(key, "CloudFrontDecryptsForDistribution") == decrypt
    extra = {"LogDeliveryEncryptsAccessLogs"} if stack == "prod" else set()
    assert sids(key) == BASE_KEY_SIDS | {"CloudFrontDecryptsForDistribution"} | extra
    # Only the static store's bucket admits CloudFront.
    others = [
        r
        for r in plan.resources
        if r.type == "aws:s3/bucketPolicy:BucketPolicy" and r.name != "s3-uploads-policy"
    ]
    assert others and all("CloudFrontReadsThroughOac" not in sids(r) for r in others)


def test_without_edge_nothing_changes_in_the_policies() -> None:
    plan = preview("prod", ["reskflow:edge=", "reskflow:edgeDistributionId="])
    assert [r.name for r in plan.resources if r.type in EDGE_TYPES] == []
    assert sids(named(plan, "kms-key")) == BASE_KEY_SIDS
    assert sids(named(plan, "s3-uploads-policy")) == BASE_BUCKET_SIDS


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "",
            "config error: reskflow:edgeDistributionId = (not set): required in the us-west-2 "
            "stack when reskflow:edge is set: the distribution's id (after the first `pulumi up "
            "-s prod`: `pulumi stack output edgeDistributionId -s prod`)",
        ),
        (
            "d111111abcdef8",
            'config error: reskflow:edgeDistributionId = "d111111abcdef8": expected a CloudFront '
            "distribution id: E...",
        ),
    ],
)
def test_dr_needs_the_distribution_id(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        preview("dr", [f"reskflow:edgeDistributionId={value}"])
    assert str(err.value) == message
