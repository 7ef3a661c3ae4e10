"""Backups that survive the account and dumps that cannot be deleted early: the isolated copy,
S3 Object Lock on the backups bucket, and the cross-key rules that keep retentions consistent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from infra.settings.core import ACCOUNT_ID_RE, PROJECT, ConfigError, Key
from infra.settings.parse import choice, fields_of, matching, whole

IsolationMode = Literal["airGapped", "account", "none"]
ISOLATION_MODES: tuple[str, ...] = ("airGapped", "account", "none")
ObjectLockMode = Literal["COMPLIANCE", "GOVERNANCE"]
OBJECT_LOCK_MODES: tuple[str, ...] = ("COMPLIANCE", "GOVERNANCE")

#: Storage classes S3 Replication does not replicate: a weekly dump written in one of them
#: would exist in one region only.
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html
UNREPLICATED_STORAGE_CLASSES: tuple[str, ...] = ("GLACIER", "DEEP_ARCHIVE")

#: A backup vault ARN in another account: arn:aws:backup:<region>:<account>:backup-vault:<name>.
_VAULT_ARN_RE = re.compile(
    r"arn:aws:backup:(?P<region>[a-z]{2}(-[a-z]+)+-[0-9]):(?P<account>[0-9]{12}):"
    r"backup-vault:[A-Za-z0-9_-]{2,50}"
)
#: The longest an isolated copy may be kept (AWS Backup: 100 years).
ISOLATED_MAX_DAYS = 36500


@dataclass(frozen=True)
class IsolatedCopySettings:
    """The 3-2-1 copy that survives a compromised account. ``airGapped``: an AWS Backup logically
    air-gapped vault (compliance-locked by AWS, recovery points owned by the AWS Backup service
    account, shareable to a recovery account); ``account``: a copy to a vault in another account
    of the organisation (``account_id`` and ``vault_arn``); ``none``: no isolated copy (the
    3-2-1 policy then fails)."""

    mode: IsolationMode = "airGapped"
    daily_days: int = 7
    weekly_days: int = 28
    account_id: str = ""
    vault_arn: str = ""

    @property
    def retentions(self) -> tuple[int, int]:
        return (self.daily_days, self.weekly_days)


@dataclass(frozen=True)
class ObjectLockSettings:
    """S3 Object Lock on the backups bucket (both regions): the default retention protects the
    daily dumps; the weekly dump job sets its own, longer, retain-until date on upload."""

    mode: ObjectLockMode = "GOVERNANCE"


_ISOLATED_FIELDS = {
    "mode": "mode",
    "dailyDays": "daily_days",
    "weeklyDays": "weekly_days",
    "accountId": "account_id",
    "vaultArn": "vault_arn",
}
_OBJECT_LOCK_FIELDS = {"mode": "mode"}


def parse_isolated_copy(raw: str | None, region: str, own_account: str) -> IsolatedCopySettings:
    key = ISOLATED_COPY_KEY.name
    values = fields_of(key, raw, _ISOLATED_FIELDS)
    mode = choice(f"{key}.mode", str(values.get("mode", "airGapped")), ISOLATION_MODES)
    seed = IsolatedCopySettings()
    daily = whole(
        f"{key}.dailyDays",
        values.get("daily_days", seed.daily_days),
        seed.daily_days,
        ISOLATED_MAX_DAYS,
        "days",
        f" (the seed keeps daily backups {seed.daily_days} days)",
    )
    weekly = whole(
        f"{key}.weeklyDays",
        values.get("weekly_days", seed.weekly_days),
        seed.weekly_days,
        ISOLATED_MAX_DAYS,
        "days",
        f" (the seed keeps weekly backups {seed.weekly_days} days)",
    )
    account = str(values.get("account_id", ""))
    vault = str(values.get("vault_arn", ""))
    if mode != "account":
        for name, value in (("accountId", account), ("vaultArn", vault)):
            if value:
                raise ConfigError(
                    f"{key}.{name}", value, "only mode: account copies to another account"
                )
    else:
        account = matching(f"{key}.accountId", account, ACCOUNT_ID_RE, "a 12-digit account id")
        if account == own_account:
            raise ConfigError(
                f"{key}.accountId",
                account,
                "the isolated copy must be in another account than the stack's own",
            )
        found = _VAULT_ARN_RE.fullmatch(vault)
        if found is None:
            raise ConfigError(
                f"{key}.vaultArn",
                vault,
                "expected arn:aws:backup:<region>:<accountId>:backup-vault:<name>",
            )
        if found["account"] != account or found["region"] != region:
            raise ConfigError(
                f"{key}.vaultArn",
                vault,
                f"must name a vault of account {account} in {region} (the stack's region)",
            )
    return IsolatedCopySettings(mode, daily, weekly, account, vault)  # type: ignore[arg-type]


def parse_object_lock(raw: str | None) -> ObjectLockSettings:
    key = OBJECT_LOCK_KEY.name
    values = fields_of(key, raw, _OBJECT_LOCK_FIELDS)
    mode = choice(f"{key}.mode", str(values.get("mode", "GOVERNANCE")), OBJECT_LOCK_MODES)
    return ObjectLockSettings(mode)  # type: ignore[arg-type]  # narrowed by choice


def continuous_covers_engine(key: str, continuous_days: int, postgres_retention_days: int) -> None:
    """AWS Backup's continuous backups of RDS *are* the instance's automated backups, and AWS
    Backup applies the plan's retention to them: a shorter continuous retention than the
    engine's own would shorten the point-in-time window on every backup, and the program's
    ``backupRetentionPeriod`` would fight the plan on every ``up``.
    https://docs.aws.amazon.com/aws-backup/latest/devguide/point-in-time-recovery.html"""
    if continuous_days < postgres_retention_days:
        raise ConfigError(
            f"{key}.continuousDays",
            continuous_days,
            f"at least {postgres_retention_days} (postgres.backupRetentionDays): AWS Backup "
            "applies the continuous rule's retention to the instance's automated backups",
        )


def weekly_class_replicates(key: str, storage_class: str) -> None:
    """S3 does not replicate objects stored in GLACIER or DEEP_ARCHIVE."""
    if storage_class in UNREPLICATED_STORAGE_CLASSES:
        raise ConfigError(
            key,
            storage_class,
            "S3 Replication does not replicate objects stored in GLACIER or DEEP_ARCHIVE, so "
            "the weekly dumps would exist in one region only; allowed value is GLACIER_IR",
        )


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

ISOLATED_COPY_KEY = Key(
    f"{PROJECT}:isolatedCopy",
    "object",
    "`{mode: airGapped, dailyDays: 7, weeklyDays: 28}`",
    "The backup copy that survives a compromised account: `mode` `airGapped` (an AWS Backup "
    "logically air-gapped vault in the stack's region, locked in compliance mode by AWS), "
    "`account` (a copy to the vault `vaultArn` of account `accountId`, in the stack's region; "
    "that vault's policy must allow `backup:CopyIntoBackupVault` from this account) or `none`. "
    "`dailyDays` (7) and `weeklyDays` (28) keep the isolated copies; neither may be below the "
    "seed's value.",
    fields=tuple(_ISOLATED_FIELDS),
)

OBJECT_LOCK_KEY = Key(
    f"{PROJECT}:backupObjectLock",
    "object",
    "`{mode: GOVERNANCE}`",
    "S3 Object Lock on the backups bucket in both regions: `mode` `GOVERNANCE` (removable with "
    "`s3:BypassGovernanceRetention`) or `COMPLIANCE` (no one can delete a dump before its "
    "retention ends). Daily dumps are locked for `retention.dailyBackupsDays` by the bucket's "
    "default, weekly dumps for `retention.weeklyBackupsDays` by the job that uploads them.",
    fields=tuple(_OBJECT_LOCK_FIELDS),
)

KEYS: tuple[Key, ...] = (ISOLATED_COPY_KEY, OBJECT_LOCK_KEY)
