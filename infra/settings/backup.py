"""AWS Backup: the plan's retentions, its cross-region copies and the vault lock."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from infra.settings import backup_safety
from infra.settings.backup_safety import (
    IsolatedCopySettings,
    ObjectLockSettings,
    parse_isolated_copy,
    parse_object_lock,
)
from infra.settings.core import PROJECT, RTO_MINUTES, ConfigError, Key
from infra.settings.parse import choice, fields_of, whole
from infra.settings.storage import VaultLockMode


@dataclass(frozen=True)
class VaultLockSettings:
    """AWS Backup Vault Lock of the regional vault. ``compliance`` is irreversible once
    ``changeable_for_days`` have passed, so it is only ever set explicitly."""

    mode: VaultLockMode = "governance"
    min_retention_days: int = 1
    max_retention_days: int = 35
    changeable_for_days: int | None = None


@dataclass(frozen=True)
class BackupSettings:
    """AWS Backup plan retentions in days (seed: "Backup Strategy Overview") and its targets."""

    continuous_days: int = 7
    daily_days: int = 7
    weekly_days: int = 28
    daily_copy_days: int = 7
    weekly_copy_days: int = 28
    copy_region: str = ""
    restore_time_target_minutes: int = RTO_MINUTES
    lock: VaultLockSettings = field(default_factory=VaultLockSettings)
    isolated: IsolatedCopySettings = field(default_factory=IsolatedCopySettings)
    object_lock: ObjectLockSettings = field(default_factory=ObjectLockSettings)

    @property
    def job_retentions(self) -> tuple[int, ...]:
        """Retention of every backup or copy job that lands in a vault of this design."""
        return (
            self.continuous_days,
            self.daily_days,
            self.weekly_days,
            self.daily_copy_days,
            self.weekly_copy_days,
        )


_BACKUP_FIELDS = {
    "continuousDays": "continuous_days",
    "dailyDays": "daily_days",
    "weeklyDays": "weekly_days",
    "dailyCopyDays": "daily_copy_days",
    "weeklyCopyDays": "weekly_copy_days",
    "copyRegion": "copy_region",
    "restoreTimeTargetMinutes": "restore_time_target_minutes",
}
_LOCK_FIELDS = {
    "mode": "mode",
    "minRetentionDays": "min_retention_days",
    "maxRetentionDays": "max_retention_days",
    "changeableForDays": "changeable_for_days",
}


LOCK_MODES: tuple[str, ...] = ("compliance", "governance", "none")
#: AWS Backup: continuous backups are kept 1 to 35 days; any recovery point at most 100 years.
CONTINUOUS_MAX_DAYS = 35
RECOVERY_POINT_MAX_DAYS = 36500
#: ChangeableForDays: AWS enforces a 72-hour cooling-off period; this program allows a year.
GRACE_DAYS = (3, 365)


#: The seed's continuous backup keeps 24 hours; the default (7) follows the engines' own
#: retention instead (see :func:`backup_safety.continuous_covers_engine`).
SEED_CONTINUOUS_DAYS = 1


def parse_backup(
    raw: str | None,
    lock_raw: str | None,
    region: str,
    peer: str,
    isolated_raw: str | None = None,
    object_lock_raw: str | None = None,
    account_id: str = "",
) -> BackupSettings:
    key = BACKUP_KEY.name
    values = fields_of(key, raw, _BACKUP_FIELDS)
    seed = BackupSettings()
    for name, py in _BACKUP_FIELDS.items():
        if py.endswith("_days") and py in values:
            high = CONTINUOUS_MAX_DAYS if py == "continuous_days" else RECOVERY_POINT_MAX_DAYS
            floor = SEED_CONTINUOUS_DAYS if py == "continuous_days" else getattr(seed, py)
            values[py] = whole(
                f"{key}.{name}",
                values[py],
                floor,
                high,
                "days",
                f" (the seed's 3-2-1 strategy keeps these at least {floor} days)",
            )
    copy_region = str(values.get("copy_region") or peer)
    if copy_region == region:
        raise ConfigError(
            f"{key}.copyRegion",
            copy_region,
            f"a copy in the stack's own region is not offsite; the 3-2-1 copy goes to {peer}",
        )
    if copy_region != peer:
        raise ConfigError(
            f"{key}.copyRegion",
            copy_region,
            f"only the peer stack ({peer}) creates a vault to copy to; allowed value is {peer}",
        )
    values["copy_region"] = copy_region
    if "restore_time_target_minutes" in values:
        values["restore_time_target_minutes"] = whole(
            f"{key}.restoreTimeTargetMinutes",
            values["restore_time_target_minutes"],
            1,
            10080,
            "minutes",
        )
    backup = BackupSettings(**values)
    return replace(
        backup,
        lock=_vault_lock(lock_raw, backup),
        isolated=parse_isolated_copy(isolated_raw, region, account_id),
        object_lock=parse_object_lock(object_lock_raw),
    )


def _vault_lock(raw: str | None, backup: BackupSettings) -> VaultLockSettings:
    key = VAULT_LOCK_KEY.name
    values = fields_of(key, raw, _LOCK_FIELDS)
    mode = choice(f"{key}.mode", str(values.get("mode", "governance")), LOCK_MODES)
    grace = values.get("changeable_for_days")
    if mode != "compliance" and grace is not None:
        raise ConfigError(
            f"{key}.changeableForDays",
            grace,
            "only a compliance lock has a grace period; remove it or set mode: compliance",
        )
    if mode == "compliance":
        grace = whole(
            f"{key}.changeableForDays",
            grace,
            *GRACE_DAYS,
            "days",
            " (required for compliance mode: after it the lock can never be removed)",
        )
    default = VaultLockSettings()
    low = whole(
        f"{key}.minRetentionDays",
        values.get("min_retention_days", default.min_retention_days),
        1,
        RECOVERY_POINT_MAX_DAYS,
        "days",
    )
    high = whole(
        f"{key}.maxRetentionDays",
        values.get("max_retention_days", default.max_retention_days),
        1,
        RECOVERY_POINT_MAX_DAYS,
        "days",
    )
    lock = VaultLockSettings(mode, low, high, grace)  # type: ignore[arg-type]  # by choice
    if mode != "none":
        _check_lock_window(key, lock, backup.job_retentions)
    return lock


def _check_lock_window(key: str, lock: VaultLockSettings, retentions: tuple[int, ...]) -> None:
    """A locked vault fails every backup or copy job whose retention is outside min..max."""
    if lock.min_retention_days > lock.max_retention_days:
        raise ConfigError(
            f"{key}.minRetentionDays",
            lock.min_retention_days,
            f"must not exceed maxRetentionDays ({lock.max_retention_days})",
        )
    if lock.min_retention_days > min(retentions):
        raise ConfigError(
            f"{key}.minRetentionDays",
            lock.min_retention_days,
            f"at most {min(retentions)}: the vault would refuse recovery points kept "
            f"{min(retentions)} days (the shortest job retention)",
        )
    if lock.max_retention_days < max(retentions):
        raise ConfigError(
            f"{key}.maxRetentionDays",
            lock.max_retention_days,
            f"at least {max(retentions)}: the vault would refuse recovery points kept "
            f"{max(retentions)} days (weekly backups and their copies)",
        )


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

BACKUP_KEY = Key(
    f"{PROJECT}:backup",
    "object",
    "seed values",
    "AWS Backup retentions in days: `continuousDays` (7, AWS allows 1-35; at least "
    "`postgres.backupRetentionDays`, because AWS Backup's continuous backups of RDS are the "
    "instance's automated backups and get this retention), `dailyDays` (7), "
    "`weeklyDays` (28), `dailyCopyDays` (7), `weeklyCopyDays` (28): the copies go to the "
    "vault in `copyRegion` (the peer region; a same-region copy is not offsite). None may be "
    "below the seed's value. `restoreTimeTargetMinutes` (15, the RTO) is the Audit Manager "
    "restore-time target.",
    fields=tuple(_BACKUP_FIELDS),
)


VAULT_LOCK_KEY = Key(
    f"{PROJECT}:vaultLock",
    "object",
    "`{mode: governance, minRetentionDays: 1, maxRetentionDays: 35}`",
    "Vault Lock of the regional vault: `mode` `governance` (removable with IAM permission), "
    "`compliance` (immutable after `changeableForDays`, 3-365, which it requires) or `none`. "
    "`minRetentionDays` must not exceed the shortest job retention (7 by default) and "
    "`maxRetentionDays` must cover the longest, or AWS Backup fails those jobs.",
    fields=tuple(_LOCK_FIELDS),
)

#: This tier's keys, in the order the README lists them.
KEYS: tuple[Key, ...] = (
    BACKUP_KEY,
    VAULT_LOCK_KEY,
    *backup_safety.KEYS,
)
