"""S3 data stores: retention, bucket names, tags and the KMS key the buckets use."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from components.storage import Expiry
from infra.settings.core import PROJECT, WEEKLY_STORAGE_CLASSES, ConfigError, Key
from infra.settings.parse import as_object, positive_int, suggest


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


VaultLockMode = Literal["compliance", "governance", "none"]


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
                # A deleted dump (delete marker) stays recoverable for noncurrentVersionsDays.
                Expiry(
                    "daily-incrementals",
                    "daily/",
                    r.daily_backups_days,
                    r.noncurrent_versions_days,
                    "STANDARD_IA",
                ),
                Expiry(
                    "weekly-fulls",
                    "weekly/",
                    r.weekly_backups_days,
                    r.noncurrent_versions_days,
                    weekly_storage_class,
                ),
            ),
        ),
        StoreSpec(
            "blockchain",
            "Smart-contract state snapshots; current versions kept indefinitely.",
            (Expiry("expire-noncurrent", "", None, r.noncurrent_versions_days),),
        ),
    )


_RETENTION_FIELDS = {
    "uploadsDays": "uploads_days",
    "logsDays": "logs_days",
    "dailyBackupsDays": "daily_backups_days",
    "weeklyBackupsDays": "weekly_backups_days",
    "noncurrentVersionsDays": "noncurrent_versions_days",
    "incompleteMultipartDays": "incomplete_multipart_days",
}


MRK_RE = re.compile(r"^mrk-[0-9a-f]{32}$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_BUCKET_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
#: AWS tags: keys 1-128 and values 0-256 Unicode letters, numbers, spaces and ``_ . : / = + - @``;
#: keys starting with ``aws:`` (any case) are reserved for AWS.
TAG_SYMBOLS = "_.:/=+-@"
TAG_KEY_LENGTH, TAG_VALUE_LENGTH = (1, 128), (0, 256)
TAG_RULE = "tag keys are 1-128 and values 0-256 letters, numbers, spaces or _ . : / = + - @"


def tag_text_ok(text: str, lengths: tuple[int, int]) -> bool:
    """``text`` is within ``lengths`` and uses only the characters AWS allows in tags."""
    return lengths[0] <= len(text) <= lengths[1] and all(
        c.isalpha() or c.isnumeric() or unicodedata.category(c) == "Zs" or c in TAG_SYMBOLS
        for c in text
    )


def validate_bucket_name(key: str, name: str) -> str:
    """S3's general-purpose bucket naming rules; raise naming ``key`` when ``name`` breaks one."""
    problems = []
    if not 3 <= len(name) <= 63:
        problems.append(f"is {len(name)} characters (allowed 3 to 63)")
    if not _BUCKET_RE.fullmatch(name):
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


def parse_retention(raw: str | None) -> Retention:
    if raw is None:
        return Retention()
    key = RETENTION_KEY.name
    obj = as_object(key, raw)
    values: dict[str, int] = {}
    for name, value in obj.items():
        if name not in _RETENTION_FIELDS:
            raise ConfigError(
                f"{key}.{name}", value, "unknown field; " + suggest(name, list(_RETENTION_FIELDS))
            )
        values[_RETENTION_FIELDS[name]] = positive_int(f"{key}.{name}", value)
    return Retention(**values)


def parse_tags(raw: str | None) -> dict[str, str]:
    if raw is None:
        return {}
    key = TAGS_KEY.name
    obj = as_object(key, raw)
    for name, value in obj.items():
        if not isinstance(value, str) or not tag_text_ok(value, TAG_VALUE_LENGTH):
            raise ConfigError(f"{key}.{name}", value, TAG_RULE)
        if not tag_text_ok(name, TAG_KEY_LENGTH):
            raise ConfigError(f"{key}.{name}", value, TAG_RULE)
        if name.lower().startswith("aws:"):
            raise ConfigError(f"{key}.{name}", value, "tag keys starting with 'aws:' are reserved")
    return dict(obj)


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

BUCKET_PREFIX_KEY = Key(
    f"{PROJECT}:bucketPrefix",
    "string",
    "`reskflow-<accountId>`",
    "Prefix of every bucket name (`<prefix>-<store>-<region>`); the resulting names must "
    "satisfy S3's bucket naming rules.",
)


KMS_PRIMARY_KEY_ID_KEY = Key(
    f"{PROJECT}:kmsPrimaryKeyId",
    "string",
    "unset",
    "Id (`mrk-` + 32 hex digits) of the multi-Region primary key created by the us-east-1 "
    "stack. Required in the us-west-2 stack, which replicates it without calling us-east-1 "
    "again; `pulumi stack output kmsKeyId -s prod` prints it.",
)


PEER_DEPLOYED_KEY = Key(
    f"{PROJECT}:peerDeployed",
    "boolean",
    "`true`",
    "Whether the peer stack's buckets exist. S3 refuses a replication rule whose destination "
    "bucket does not exist, so the very first `pulumi up` of prod sets this to `false`. "
    "While `false`, backups are not copied to the peer's (missing) vault either.",
    pulumi_default=True,
)


WEEKLY_BACKUP_STORAGE_CLASS_KEY = Key(
    f"{PROJECT}:weeklyBackupStorageClass",
    "string",
    "`GLACIER_IR`",
    "Tier weekly full backups are written in: `GLACIER_IR` (millisecond restore, bills 90 "
    "days). `GLACIER` is refused: S3 Replication does not replicate objects stored in it.",
    choices=WEEKLY_STORAGE_CLASSES,
    pulumi_default="GLACIER_IR",
)


RETENTION_KEY = Key(
    f"{PROJECT}:retention",
    "object",
    "seed values",
    "Retention in days, each a positive integer: `uploadsDays` (90), `logsDays` (30), "
    "`dailyBackupsDays` (7), `weeklyBackupsDays` (28), `noncurrentVersionsDays` (30), "
    "`incompleteMultipartDays` (7).",
    fields=tuple(_RETENTION_FIELDS),
)


TAGS_KEY = Key(
    f"{PROJECT}:tags",
    "object",
    "`{}`",
    "Extra tags (string to string) on every AWS resource, added to the provider's default "
    "tags (`project`, `stack`, `managed-by`). The role is deliberately not a tag: a drill "
    "would otherwise update every resource.",
)

#: This tier's keys, in the order the README lists them.
KEYS: tuple[Key, ...] = (
    BUCKET_PREFIX_KEY,
    KMS_PRIMARY_KEY_ID_KEY,
    PEER_DEPLOYED_KEY,
    WEEKLY_BACKUP_STORAGE_CLASS_KEY,
    RETENTION_KEY,
    TAGS_KEY,
)
