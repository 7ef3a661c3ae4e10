"""Typed stack configuration: the one place where config is read and validated.

Pulumi hands a program its config as a flat map of ``namespace:key`` to strings (objects arrive as
JSON text). :func:`load_settings` turns that map into frozen dataclasses, or raises
:class:`ConfigError` with one line naming the key, the value and what is allowed. Components never
read config; the composition root passes these plain values down.

The registry :data:`KEYS` is the single description of every key (type, default, meaning); the
README's config reference table is generated from it (``reskflow-dr config-reference``).
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from components.storage import Expiry

PROJECT = "reskflow"

#: The region pair this program supports, and which of them holds the multi-Region KMS primary.
SUPPORTED_REGIONS: tuple[str, ...] = ("us-east-1", "us-west-2")
KMS_PRIMARY_REGION = "us-east-1"
ROLES: tuple[str, ...] = ("active", "passive")
#: In normal operation this region is active: a stack's default ``peerRole`` encodes that topology.
NORMALLY_ACTIVE_REGION = KMS_PRIMARY_REGION
WEEKLY_STORAGE_CLASSES: tuple[str, ...] = ("GLACIER_IR", "GLACIER")

#: S3 Replication Time Control offers exactly one threshold (AWS fact, not a choice).
REPLICATION_TIME_MINUTES = 15

#: Config namespaces whose keys are validated here. Other namespaces (``pulumi:``, provider
#: plugins that later issues configure) are left to their owners.
VALIDATED_NAMESPACES = (PROJECT, "aws")

Role = Literal["active", "passive"]


class ConfigError(ValueError):
    """A stack config value is missing or invalid. ``str(err)`` is the one-line user message."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        shown = "(not set)" if value is None else json.dumps(value)
        super().__init__(f"config error: {key} = {shown}: {allowed}")


# --------------------------------------------------------------------------------------------
# Settings dataclasses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retention:
    """How long each class of S3 object is kept, in days (seed: "Backup Strategy Overview")."""

    uploads_days: int = 90
    logs_days: int = 30
    daily_backups_days: int = 7
    weekly_backups_days: int = 28
    noncurrent_versions_days: int = 30
    incomplete_multipart_days: int = 7


@dataclass(frozen=True)
class StoreSpec:
    """An S3 data store: one bucket per region, replicated both ways."""

    key: str
    description: str
    expiries: tuple[Expiry, ...]


@dataclass(frozen=True)
class RecoveryTargets:
    """The seed's recovery objectives and the promotion-time assumption of the RTO budget."""

    rto_minutes: int = 15
    rpo_minutes: int = 5
    promotion_minutes: int = 10
    """Assumed duration of a cross-region replica promotion: AWS documents only that it "can take
    several minutes or longer to complete, depending on the size of the read replica"."""


@dataclass(frozen=True)
class StackSettings:
    """Everything the composition root needs, validated."""

    project: str
    stack: str
    region: str
    peer_region: str
    role: Role
    account_id: str
    bucket_prefix: str
    kms_primary_key_id: str | None
    peer_deployed: bool
    weekly_backup_storage_class: str
    retention: Retention
    tags: Mapping[str, str] = field(default_factory=dict)
    aws_profile: str | None = None
    peer_lost: bool = False
    """The operator declares the peer region lost (``reskflow:peerLost``)."""
    peer_role: Role = "passive"
    """The peer's role as this stack knows it, without calling it (``reskflow:peerRole``)."""
    recovery: RecoveryTargets = field(default_factory=RecoveryTargets)

    @property
    def holds_kms_primary(self) -> bool:
        """True when this stack's region holds the multi-Region primary key."""
        return self.region == KMS_PRIMARY_REGION

    def bucket_name(self, store: str, region: str) -> str:
        """Deterministic bucket name, so each stack derives its peer's names without a lookup."""
        return f"{self.bucket_prefix}-{store}-{region}"

    def bucket_arn(self, store: str, region: str) -> str:
        return f"arn:aws:s3:::{self.bucket_name(store, region)}"

    @property
    def stores(self) -> tuple[StoreSpec, ...]:
        return store_catalog(self.retention, self.weekly_backup_storage_class)

    def kms_key_arn(self, region: str, key_id: str) -> str:
        """ARN of the multi-Region key ``key_id`` in ``region`` (all replicas share the key id)."""
        return f"arn:aws:kms:{region}:{self.account_id}:key/{key_id}"


def store_catalog(retention: Retention, weekly_storage_class: str) -> tuple[StoreSpec, ...]:
    """The seed's S3 stores with their retention ("Application Data Backup", "Backup Strategy")."""
    r = retention
    return (
        StoreSpec(
            "uploads",
            "User uploads, synced hourly; kept 90 days.",
            (Expiry("expire-uploads", "", r.uploads_days, r.noncurrent_versions_days),),
        ),
        StoreSpec(
            "logs",
            "Application logs, uploaded daily after logrotate; kept 30 days.",
            (Expiry("expire-logs", "", r.logs_days, r.noncurrent_versions_days),),
        ),
        StoreSpec(
            "config",
            "Configuration backups, on change; every version kept indefinitely.",
            (),
        ),
        StoreSpec(
            "backups",
            "Database dumps: daily incrementals under daily/ written as STANDARD_IA and kept "
            "7 days, weekly fulls under weekly/ written in a Glacier tier and kept 4 weeks.",
            (
                Expiry("daily-incrementals", "daily/", r.daily_backups_days, 1, "STANDARD_IA"),
                Expiry("weekly-fulls", "weekly/", r.weekly_backups_days, 1, weekly_storage_class),
            ),
        ),
        StoreSpec(
            "blockchain",
            "Smart-contract state snapshots; current versions kept indefinitely.",
            (Expiry("expire-noncurrent", "", None, r.noncurrent_versions_days),),
        ),
    )


# --------------------------------------------------------------------------------------------
# The key registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One config key: its full name, type, default (None = required or derived) and meaning."""

    name: str
    type: str
    default: str
    doc: str
    fields: tuple[str, ...] = ()


_RETENTION_FIELDS = {
    "uploadsDays": "uploads_days",
    "logsDays": "logs_days",
    "dailyBackupsDays": "daily_backups_days",
    "weeklyBackupsDays": "weekly_backups_days",
    "noncurrentVersionsDays": "noncurrent_versions_days",
    "incompleteMultipartDays": "incomplete_multipart_days",
}

KEYS: tuple[Key, ...] = (
    Key("aws:region", "string", "required", "The stack's region: `us-east-1` or `us-west-2`."),
    Key(
        "aws:profile",
        "string",
        "unset",
        "AWS CLI profile the regional provider uses for a real deployment.",
    ),
    Key(
        f"{PROJECT}:role",
        "string",
        "required",
        "`active` (serves traffic, holds the writable primaries) or `passive` (replicas, pilot "
        "light). A drill or failover switches roles, never regions.",
    ),
    Key(
        f"{PROJECT}:peerRegion",
        "string",
        "the other supported region",
        "Region of the peer stack; must differ from `aws:region`.",
    ),
    Key(
        f"{PROJECT}:accountId",
        "string",
        "required",
        "12-digit AWS account id. Providers refuse any other account; ARNs of peer resources are "
        "derived from it.",
    ),
    Key(
        f"{PROJECT}:bucketPrefix",
        "string",
        "`reskflow-<accountId>`",
        "Prefix of every bucket name (`<prefix>-<store>-<region>`); the resulting names must "
        "satisfy S3's bucket naming rules.",
    ),
    Key(
        f"{PROJECT}:kmsPrimaryKeyId",
        "string",
        "unset",
        "Id (`mrk-` + 32 hex digits) of the multi-Region primary key created by the us-east-1 "
        "stack. Required in the us-west-2 stack, which replicates it without calling us-east-1 "
        "again; `pulumi stack output kmsKeyId -s prod` prints it.",
    ),
    Key(
        f"{PROJECT}:peerDeployed",
        "boolean",
        "`true`",
        "Whether the peer stack's buckets exist. S3 refuses a replication rule whose destination "
        "bucket does not exist, so the very first `pulumi up` of prod sets this to `false`.",
    ),
    Key(
        f"{PROJECT}:weeklyBackupStorageClass",
        "string",
        "`GLACIER_IR`",
        "Tier weekly full backups are written in: `GLACIER_IR` (millisecond restore) or "
        "`GLACIER` (Flexible Retrieval, restores take minutes to hours). Both bill 90 days.",
    ),
    Key(
        f"{PROJECT}:retention",
        "object",
        "seed values",
        "Retention in days, each a positive integer: `uploadsDays` (90), `logsDays` (30), "
        "`dailyBackupsDays` (7), `weeklyBackupsDays` (28), `noncurrentVersionsDays` (30), "
        "`incompleteMultipartDays` (7).",
        fields=tuple(_RETENTION_FIELDS),
    ),
    Key(
        f"{PROJECT}:tags",
        "object",
        "`{}`",
        "Extra tags (string to string) on every AWS resource, added to the provider's default "
        "tags (`project`, `stack`, `managed-by`). The role is deliberately not a tag: a drill "
        "would otherwise update every resource.",
    ),
    # DR drills: split-brain guard and recovery targets (docs/runbooks/)
    Key(
        f"{PROJECT}:peerRole",
        "string",
        f"`passive` in {NORMALLY_ACTIVE_REGION}, `active` elsewhere",
        "The peer stack's role as this stack knows it, set by the drill runbook on both stacks. "
        "The split-brain guard refuses `role: active` while this is `active` (at preview and at "
        "`pulumi up`, without calling the peer); offline it must match the peer's stack file.",
    ),
    Key(
        f"{PROJECT}:peerLost",
        "boolean",
        "`false`",
        "The operator declares the peer region lost (disaster failover): only then may this stack "
        "be `active` while its peer is `active`. Only an active stack may set it.",
    ),
    Key(
        f"{PROJECT}:rtoTargetMinutes",
        "integer",
        "`15`",
        "Recovery time objective the RTO/RPO budget is compared with (seed: 15 minutes).",
    ),
    Key(
        f"{PROJECT}:rpoTargetMinutes",
        "integer",
        "`5`",
        "Recovery point objective the RTO/RPO budget and the readiness lag check use (seed: 5 "
        "minutes).",
    ),
    Key(
        f"{PROJECT}:promotionMinutes",
        "integer",
        "`10`",
        "Assumed time to promote a cross-region replica, in the RTO budget. AWS documents only "
        'that promotion "can take several minutes or longer to complete, depending on the size '
        'of the read replica"; measure it in drills and set it here.',
    ),
)

_KEYS_BY_NAME = {k.name: k for k in KEYS}


def config_reference_markdown() -> str:
    """The README's config reference table, generated from :data:`KEYS`."""
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for k in KEYS:
        lines.append(f"| `{k.name}` | {k.type} | {k.default} | {k.doc} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

_ACCOUNT_RE = re.compile(r"^\d{12}$")
_MRK_RE = re.compile(r"^mrk-[0-9a-f]{32}$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_BUCKET_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_TAG_KEY_RE = re.compile(r"^[\w .:/=+\-@]{1,128}$")


def _choice(key: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(key, value, "allowed values are " + ", ".join(allowed))
    return value


def _bool(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ConfigError(key, value, "expected a boolean: true or false")


def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(key, value, "expected a positive whole number of days")
    text = str(value).strip()
    if not re.fullmatch(r"-?\d+", text):
        raise ConfigError(key, value, "expected a positive whole number of days")
    number = int(text)
    if number <= 0:
        raise ConfigError(key, value, "expected a positive whole number of days (at least 1)")
    return number


def _object(key: str, value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ConfigError(key, value, "expected an object (a YAML map)")
    return parsed


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else "known keys: " + ", ".join(sorted(known))


def _check_unknown_keys(raw: Mapping[str, str]) -> None:
    known = list(_KEYS_BY_NAME)
    for name in sorted(raw):
        namespace = name.split(":", 1)[0]
        if namespace in VALIDATED_NAMESPACES and name not in _KEYS_BY_NAME:
            raise ConfigError(name, raw[name], "unknown config key; " + _suggest(name, known))


def validate_bucket_name(key: str, name: str) -> str:
    """S3's general-purpose bucket naming rules; raise naming ``key`` when ``name`` breaks one."""
    problems = []
    if not 3 <= len(name) <= 63:
        problems.append(f"is {len(name)} characters (allowed 3 to 63)")
    if not _BUCKET_RE.match(name):
        problems.append(
            "may contain only lowercase letters, digits, dots and hyphens, and must begin and "
            "end with a letter or digit"
        )
    if ".." in name:
        problems.append("must not contain two adjacent dots")
    try:
        ipaddress.IPv4Address(name)
        problems.append("must not be formatted as an IP address")
    except ValueError:
        pass
    for bad in _BUCKET_BAD_PREFIXES:
        if name.startswith(bad):
            problems.append(f"must not start with {bad!r}")
    for bad in _BUCKET_BAD_SUFFIXES:
        if name.endswith(bad):
            problems.append(f"must not end with {bad!r}")
    if problems:
        raise ConfigError(key, name, f"bucket name {name!r} " + "; ".join(problems))
    return name


def _retention(raw: str | None) -> Retention:
    if raw is None:
        return Retention()
    key = f"{PROJECT}:retention"
    obj = _object(key, raw)
    values: dict[str, int] = {}
    for name, value in obj.items():
        if name not in _RETENTION_FIELDS:
            raise ConfigError(
                f"{key}.{name}", value, "unknown field; " + _suggest(name, list(_RETENTION_FIELDS))
            )
        values[_RETENTION_FIELDS[name]] = _positive_int(f"{key}.{name}", value)
    return Retention(**values)


def _tags(raw: str | None) -> dict[str, str]:
    if raw is None:
        return {}
    key = f"{PROJECT}:tags"
    obj = _object(key, raw)
    for name, value in obj.items():
        if not isinstance(value, str) or not _TAG_KEY_RE.match(name) or len(value) > 256:
            raise ConfigError(
                f"{key}.{name}",
                value,
                "tags map a key of 1-128 characters to a string value of at most 256 characters",
            )
        if name.lower().startswith("aws:"):
            raise ConfigError(f"{key}.{name}", value, "tag keys starting with 'aws:' are reserved")
    return dict(obj)


def load_settings(raw: Mapping[str, str], stack: str, project: str = PROJECT) -> StackSettings:
    """Validate ``raw`` (Pulumi's flat config map of strings) into :class:`StackSettings`."""
    _check_unknown_keys(raw)

    def get(name: str) -> str | None:
        return raw.get(name)

    def require(name: str, allowed: str) -> str:
        value = get(name)
        if value is None or value == "":
            raise ConfigError(name, value, f"required; {allowed}")
        return value

    regions = ", ".join(SUPPORTED_REGIONS)
    region = _choice(
        "aws:region",
        require("aws:region", f"allowed values are {regions}"),
        SUPPORTED_REGIONS,
    )
    peer_default = next(r for r in SUPPORTED_REGIONS if r != region)
    peer_region = _choice(
        f"{PROJECT}:peerRegion", get(f"{PROJECT}:peerRegion") or peer_default, SUPPORTED_REGIONS
    )
    if peer_region == region:
        raise ConfigError(
            f"{PROJECT}:peerRegion",
            peer_region,
            f"both stacks would be in one region; the peer of {region} must be {peer_default}",
        )
    role = _choice(
        f"{PROJECT}:role",
        require(f"{PROJECT}:role", "allowed values are " + ", ".join(ROLES)),
        ROLES,
    )
    account_id = require(f"{PROJECT}:accountId", "a 12-digit AWS account id")
    if not _ACCOUNT_RE.match(account_id):
        raise ConfigError(f"{PROJECT}:accountId", account_id, "expected a 12-digit AWS account id")

    bucket_prefix = get(f"{PROJECT}:bucketPrefix") or f"{PROJECT}-{account_id}"
    kms_key_id = get(f"{PROJECT}:kmsPrimaryKeyId") or None
    if kms_key_id is not None and not _MRK_RE.match(kms_key_id):
        raise ConfigError(
            f"{PROJECT}:kmsPrimaryKeyId",
            kms_key_id,
            "expected a multi-Region key id: 'mrk-' followed by 32 lowercase hex digits",
        )
    if region != KMS_PRIMARY_REGION and kms_key_id is None:
        raise ConfigError(
            f"{PROJECT}:kmsPrimaryKeyId",
            None,
            f"required in the {region} stack: the id of the multi-Region primary key in "
            f"{KMS_PRIMARY_REGION} (after the first `pulumi up -s prod`: "
            "`pulumi stack output kmsKeyId -s prod`)",
        )
    peer_deployed_raw = get(f"{PROJECT}:peerDeployed")
    peer_deployed = (
        True if peer_deployed_raw is None else _bool(f"{PROJECT}:peerDeployed", peer_deployed_raw)
    )
    weekly = _choice(
        f"{PROJECT}:weeklyBackupStorageClass",
        get(f"{PROJECT}:weeklyBackupStorageClass") or "GLACIER_IR",
        WEEKLY_STORAGE_CLASSES,
    )

    peer_role, peer_lost = split_brain_guard(raw, region, peer_region, role)

    settings = StackSettings(
        project=project,
        stack=stack,
        region=region,
        peer_region=peer_region,
        role=role,  # type: ignore[arg-type]  # narrowed by _choice
        account_id=account_id,
        bucket_prefix=bucket_prefix,
        kms_primary_key_id=kms_key_id,
        peer_deployed=peer_deployed,
        weekly_backup_storage_class=weekly,
        retention=_retention(get(f"{PROJECT}:retention")),
        tags=_tags(get(f"{PROJECT}:tags")),
        aws_profile=get("aws:profile") or None,
        peer_lost=peer_lost,
        peer_role=peer_role,
        recovery=_recovery_targets(raw),
    )
    for store in settings.stores:
        for r in (region, peer_region):
            validate_bucket_name(f"{PROJECT}:bucketPrefix", settings.bucket_name(store.key, r))
    return settings


# --------------------------------------------------------------------------------------------
# DR drills: the split-brain guard and the recovery targets
# --------------------------------------------------------------------------------------------


def split_brain_guard(
    raw: Mapping[str, str], region: str, peer_region: str, role: str
) -> tuple[Role, bool]:
    """A stack may be ``active`` only while its peer is known ``passive`` or declared lost.

    The peer's role comes from this stack's own config (``peerRole``), so the guard holds at
    ``pulumi up`` with no call into the peer's region and whether or not the peer exists."""
    lost_key, peer_key = f"{PROJECT}:peerLost", f"{PROJECT}:peerRole"
    lost = _bool(lost_key, raw[lost_key]) if raw.get(lost_key) else False
    if lost and role != "active":
        raise ConfigError(lost_key, True, "only an active stack may declare its peer lost")
    normal = "passive" if region == NORMALLY_ACTIVE_REGION else "active"
    peer_role = _choice(peer_key, raw.get(peer_key) or normal, ROLES)
    if role == "active" and peer_role == "active" and not lost:
        raise ConfigError(
            f"{PROJECT}:role",
            role,
            f"the peer stack ({peer_region}) is active too ({peer_key} = active): two writable "
            f"primaries. Make the peer passive first and set {peer_key} passive here, or set "
            f"{lost_key} true if {peer_region} is lost",
        )
    return peer_role, lost  # type: ignore[return-value]  # narrowed by _choice


def check_peer_role(settings: StackSettings, peer_stack: str, peer_role: str | None) -> None:
    """Offline, the peer's stack file is at hand: its role must be the one this stack assumes."""
    if settings.peer_lost or peer_role not in ROLES:
        return  # a lost peer's file is stale by definition; a bad role is its own preview's error
    if settings.role == peer_role == "active":
        raise ConfigError(
            f"{PROJECT}:role",
            settings.role,
            f"stack {peer_stack!r} is active too (Pulumi.{peer_stack}.yaml): two writable "
            f"primaries. Make it passive first, or set {PROJECT}:peerLost true if "
            f"{settings.peer_region} is lost",
        )
    if peer_role != settings.peer_role:
        raise ConfigError(
            f"{PROJECT}:peerRole",
            settings.peer_role,
            f"stack {peer_stack!r} is {peer_role} (Pulumi.{peer_stack}.yaml): set "
            f"{PROJECT}:peerRole {peer_role} in this stack, the value its pulumi up checks",
        )


def _minutes(raw: Mapping[str, str], name: str, default: int, high: int) -> int:
    key = f"{PROJECT}:{name}"
    value = raw.get(key)
    if value is None or value == "":
        return default
    text = value.strip()
    if not re.fullmatch(r"\d+", text) or not 1 <= int(text) <= high:
        raise ConfigError(key, value, f"expected a whole number of minutes from 1 to {high}")
    return int(text)


def _recovery_targets(raw: Mapping[str, str]) -> RecoveryTargets:
    return RecoveryTargets(
        rto_minutes=_minutes(raw, "rtoTargetMinutes", RecoveryTargets.rto_minutes, 1440),
        rpo_minutes=_minutes(raw, "rpoTargetMinutes", RecoveryTargets.rpo_minutes, 1440),
        promotion_minutes=_minutes(raw, "promotionMinutes", RecoveryTargets.promotion_minutes, 240),
    )


def to_pulumi_value(value: Any) -> str:
    """Encode a YAML config value the way the Pulumi CLI hands it to a program (strings)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)
