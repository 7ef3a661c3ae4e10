"""The edge: one CloudFront distribution in front of both regions, and its WAF web ACL.

The distribution is owned by the stack of :data:`EDGE_OWNER_REGION` (us-east-1): CloudFront's
control plane, the ACM certificates it uses and CLOUDFRONT-scope WAF web ACLs all live there, so
that stack's regional provider is already the one these resources need, and the other stack never
makes a us-east-1 call (it must deploy while us-east-1 is down). The other stack only admits the
distribution to its bucket and key policies, by the id it reads from config.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from infra.settings.core import KMS_PRIMARY_REGION, PROJECT, ConfigError, Key
from infra.settings.parse import as_bool, fields_of, whole

#: The region whose stack owns the distribution and its web ACL (see the module docstring).
EDGE_OWNER_REGION = KMS_PRIMARY_REGION

#: AWS WAF rate-based rules: the lowest limit allowed is 10 requests per evaluation window
#: (https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html;
#: it was 100 before). Evaluation windows: 60, 120, 300 or 600 seconds.
WAF_MIN_RATE_LIMIT = 10
WAF_MAX_RATE_LIMIT = 2_000_000_000
WAF_EVALUATION_WINDOWS = (60, 120, 300, 600)

#: CloudFront uses ACM certificates from us-east-1 only (pulumi_aws ``acm_certificate_arn``:
#: "The ACM certificate must be in US-EAST-1").
CERTIFICATE_REGION = "us-east-1"
_CERT_RE = re.compile(r"arn:aws:acm:([a-z0-9-]+):([0-9]{12}):certificate/[0-9a-f-]{36}")
#: A CloudFront distribution id as the API returns it (E followed by upper-case letters/digits).
_DISTRIBUTION_ID_RE = re.compile(r"E[0-9A-Z]{5,20}")
_DNS_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DNS_NAME_RE = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})+$")


@dataclass(frozen=True)
class EdgeSettings:
    """CloudFront and WAF settings (``reskflow:edge``) and the peer's distribution id."""

    certificate_arn: str
    """ACM certificate for the aliases, in us-east-1."""
    static_store: str = "uploads"
    """The replicated store served under ``/static/*`` through an origin group."""
    api_origin: str = ""
    """The API's failover DNS name (``reskflow:traffic.recordName``): the default behaviour's
    origin, resolved by Route 53's failover records on the data plane."""
    aliases: tuple[str, ...] = ()
    rate_limit: int = 2000
    """Requests per client IP per evaluation window before the WAF blocks it."""
    rate_window_seconds: int = 300
    shield_advanced: bool = False
    """Opt-in AWS Shield Advanced protection of the distribution (a paid subscription)."""
    distribution_id: str | None = None
    """The distribution's id in the stack that does not own it (``edgeDistributionId``)."""


_EDGE_FIELDS = {
    "certificateArn": "certificate_arn",
    "staticStore": "static_store",
    "apiOrigin": "api_origin",
    "aliases": "aliases",
    "rateLimit": "rate_limit",
    "rateWindowSeconds": "rate_window_seconds",
    "shieldAdvanced": "shield_advanced",
}


def _certificate(key: str, value: Any) -> str:
    text = str(value or "")
    match = _CERT_RE.fullmatch(text)
    if match is None:
        raise ConfigError(
            key,
            value,
            "expected an ACM certificate ARN: arn:aws:acm:us-east-1:ACCOUNT:certificate/ID",
        )
    if match.group(1) != CERTIFICATE_REGION:
        raise ConfigError(
            key, value, f"CloudFront only uses ACM certificates in {CERTIFICATE_REGION}"
        )
    return text


def _aliases(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise ConfigError(key, value, "expected a list of DNS names")
    names = tuple(str(v).strip().rstrip(".").lower() for v in value)
    for name in names:
        if len(name) > 253 or not _DNS_NAME_RE.fullmatch(name):
            raise ConfigError(key, value, "expected DNS names such as cdn.example.com")
    if len(set(names)) != len(names):
        raise ConfigError(key, value, "each alias at most once")
    return names


def parse_edge(
    raw: str | None,
    distribution_id: str | None,
    *,
    region: str,
    api_record: str,
    stores: Sequence[str],
) -> EdgeSettings | None:
    """``reskflow:edge`` (None: no edge) checked against the stack's stores and API name."""
    key = EDGE_KEY.name
    id_key = EDGE_DISTRIBUTION_ID_KEY.name
    if raw is None:
        if distribution_id:
            raise ConfigError(id_key, distribution_id, f"only meaningful when {key} is set")
        return None
    values = fields_of(key, raw, _EDGE_FIELDS)
    cert = _certificate(f"{key}.certificateArn", values.get("certificate_arn"))
    store = values.get("static_store", "uploads")
    if store not in stores:
        raise ConfigError(
            f"{key}.staticStore",
            store,
            "must be one of the replicated buckets' stores: " + ", ".join(stores),
        )
    api = str(values.get("api_origin", api_record)).strip().rstrip(".").lower()
    if api != api_record:
        raise ConfigError(
            f"{key}.apiOrigin",
            values.get("api_origin"),
            f"must be the API's failover name {api_record} (reskflow:traffic.recordName)",
        )
    rate = whole(
        f"{key}.rateLimit",
        values.get("rate_limit", 2000),
        WAF_MIN_RATE_LIMIT,
        WAF_MAX_RATE_LIMIT,
        "requests",
        " (AWS WAF's rate-based rule limits)",
    )
    window = values.get("rate_window_seconds", 300)
    if isinstance(window, bool) or window not in WAF_EVALUATION_WINDOWS:
        raise ConfigError(
            f"{key}.rateWindowSeconds", window, "AWS WAF evaluates 60, 120, 300 or 600 seconds"
        )
    shield = values.get("shield_advanced", False)
    if not isinstance(shield, bool):
        shield = as_bool(f"{key}.shieldAdvanced", str(shield))
    owner = region == EDGE_OWNER_REGION
    if owner and distribution_id:
        raise ConfigError(
            id_key,
            distribution_id,
            f"not used in the {EDGE_OWNER_REGION} stack, which owns the distribution",
        )
    if not owner:
        if not distribution_id:
            raise ConfigError(
                id_key,
                None,
                f"required in the {region} stack when {key} is set: the distribution's id "
                f"(after the first `pulumi up -s prod`: `pulumi stack output edgeDistributionId "
                "-s prod`)",
            )
        if not _DISTRIBUTION_ID_RE.fullmatch(distribution_id):
            raise ConfigError(
                id_key, distribution_id, "expected a CloudFront distribution id: E..."
            )
    return EdgeSettings(
        certificate_arn=cert,
        static_store=str(store),
        api_origin=api,
        aliases=_aliases(f"{key}.aliases", values.get("aliases", [])),
        rate_limit=rate,
        rate_window_seconds=int(window),
        shield_advanced=shield,
        distribution_id=None if owner else distribution_id,
    )


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

EDGE_KEY = Key(
    f"{PROJECT}:edge",
    "object",
    "unset (no edge)",
    "CloudFront in front of both regions, owned by the us-east-1 stack (docs/edge.md): "
    "`certificateArn` (ACM, us-east-1 only; required), `aliases` (DNS names; none), "
    "`staticStore` (the replicated store served under /static/*; uploads), `apiOrigin` (must be "
    "`traffic.recordName`, its default), `rateLimit` (WAF requests per IP per window, at least "
    "10; 2000), `rateWindowSeconds` (60, 120, 300 or 600; 300), `shieldAdvanced` (opt-in AWS "
    "Shield Advanced protection: a paid subscription with a one-year commitment; false).",
    fields=tuple(_EDGE_FIELDS),
)

EDGE_DISTRIBUTION_ID_KEY = Key(
    f"{PROJECT}:edgeDistributionId",
    "string",
    "required in the us-west-2 stack when `edge` is set",
    "Id of the distribution the us-east-1 stack owns (`pulumi stack output edgeDistributionId "
    "-s prod`): the us-west-2 buckets and key admit exactly that distribution.",
)

#: This tier's keys, in the order the README lists them.
KEYS: tuple[Key, ...] = (EDGE_KEY, EDGE_DISTRIBUTION_ID_KEY)
