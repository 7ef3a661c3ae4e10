"""``reskflow:edge`` parsing on its own: defaults, every refused field with its exact one-line
message, and which stack needs the distribution id."""

from __future__ import annotations

import json

import pytest

from infra.settings import ConfigError
from infra.settings.edge import EdgeSettings, parse_edge

WEST_CERT = "arn:aws:acm:us-west-2:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
API = "api.reskflow.example.com"
STORES = ("uploads", "logs", "config", "backups", "blockchain")


def parse(fields: dict[str, object], region: str = "us-east-1", dist: str | None = None) -> object:
    return parse_edge(json.dumps(fields), dist, region=region, api_record=API, stores=STORES)


def test_defaults_in_the_owning_stack() -> None:
    assert parse({"certificateArn": CERT}) == EdgeSettings(
        certificate_arn=CERT,
        static_store="uploads",
        api_origin=API,
        aliases=(),
        rate_limit=2000,
        rate_window_seconds=300,
        shield_advanced=False,
        distribution_id=None,
    )


def test_the_other_stack_keeps_the_distribution_id() -> None:
    edge = parse(
        {"certificateArn": CERT, "aliases": ["WWW.Reskflow.Example.com."]},
        "us-west-2",
        "E2EXAMPLE1ABCD",
    )
    assert isinstance(edge, EdgeSettings)
    assert (edge.distribution_id, edge.aliases) == ("E2EXAMPLE1ABCD", ("www.reskflow.example.com",))


def test_no_edge_is_none_and_a_lone_distribution_id_is_refused() -> None:
    assert parse_edge(None, None, region="us-west-2", api_record=API, stores=STORES) is None
    with pytest.raises(ConfigError) as err:
        parse_edge(None, "E2EXAMPLE1ABCD", region="us-west-2", api_record=API, stores=STORES)
    assert str(err.value) == (
        'config error: reskflow:edgeDistributionId = "E2EXAMPLE1ABCD": only meaningful when '
        "reskflow:edge is set"
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {},
            "config error: reskflow:edge.certificateArn = (not set): expected an ACM certificate "
            "ARN: arn:aws:acm:us-east-1:ACCOUNT:certificate/ID",
        ),
        (
            {"certificateArn": WEST_CERT},
            f'config error: reskflow:edge.certificateArn = "{WEST_CERT}": CloudFront only uses '
            "ACM certificates in us-east-1",
        ),
        (
            {"certificateArn": CERT, "rateLimit": "lots"},
            'config error: reskflow:edge.rateLimit = "lots": expected a whole number of requests '
            "from 10 to 2000000000 (AWS WAF's rate-based rule limits)",
        ),
        (
            {"certificateArn": CERT, "rateWindowSeconds": 30},
            "config error: reskflow:edge.rateWindowSeconds = 30: AWS WAF evaluates 60, 120, 300 or "
            "600 seconds",
        ),
        (
            {"certificateArn": CERT, "aliases": ["cdn"]},
            'config error: reskflow:edge.aliases = ["cdn"]: expected DNS names such as '
            "cdn.example.com",
        ),
        (
            {"certificateArn": CERT, "shieldAdvanced": "maybe"},
            'config error: reskflow:edge.shieldAdvanced = "maybe": expected a boolean: true or '
            "false",
        ),
        (
            {"certificateArn": CERT, "origin": "x"},
            'config error: reskflow:edge.origin = "x": unknown field; did you mean apiOrigin?',
        ),
    ],
)
def test_refused_fields(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(fields)
    assert str(err.value) == message
