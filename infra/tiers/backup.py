"""AWS Backup: the regional vault (with its lock) and the plan copying to the peer's vault."""

from __future__ import annotations

import pulumi

from components.alarms import AlarmSpec
from components.backup import (
    AuditTargets,
    BackupProtection,
    BackupProtectionArgs,
    BackupRule,
    BackupVault,
    BackupVaultArgs,
    VaultLock,
)
from components.backup_isolation import AirGappedVault, AirGappedVaultArgs
from components.common import BACKUP_TAG_KEY, BACKUP_TAG_VALUE
from components.restore_validation import (
    RestoreValidation,
    RestoreValidationArgs,
    restore_alarms,
)
from infra.settings import StackSettings
from infra.tiers.encryption import Encryption

#: Backup schedules (UTC). Daily and weekly share a start: on Sundays AWS Backup takes one
#: backup for the overlapping rules, with the longer (weekly) retention. The continuous rule
#: starts earlier so it never overlaps them. Everything finishes before SOP-001's 08:00 check.
CONTINUOUS_SCHEDULE = "cron(0 3 ? * * *)"
DAILY_SCHEDULE = "cron(0 5 ? * * *)"
WEEKLY_SCHEDULE = "cron(0 5 ? * SUN *)"
BACKUP_START_WINDOW_MINUTES = 60


def build_backups(
    settings: StackSettings, regional: pulumi.ResourceOptions, encryption: Encryption
) -> BackupVault:
    """The regional vault and the plan copying snapshots to the peer region's vault (once the
    peer stack, and so its vault, exists: a copy to a missing vault fails every job)."""
    b, key = settings.backup, encryption.key

    def copy(days: int) -> int | None:
        return days if settings.peer_deployed else None

    lock = (
        None
        if b.lock.mode == "none"
        else VaultLock(
            b.lock.min_retention_days, b.lock.max_retention_days, b.lock.changeable_for_days
        )
    )
    if b.lock.mode == "compliance":
        pulumi.log.warn(
            f"vault {settings.vault_name(settings.region)}: compliance lock becomes immutable "
            f"{b.lock.changeable_for_days} days after it is applied; no one, AWS included, can "
            "remove it or shorten a retention afterwards"
        )
    vault = BackupVault(
        "backup-vault",
        BackupVaultArgs(settings.vault_name(settings.region), key.key_arn, lock),
        opts=regional,
    )
    isolated_arn = _isolated_vault(settings, regional)
    iso = b.isolated
    BackupProtection(
        "backup",
        BackupProtectionArgs(
            region=settings.region,
            name_prefix=f"{settings.project}-dr",
            vault_name=vault.vault_name,
            vault_arn=vault.vault_arn,
            copy_region=b.copy_region,
            copy_vault_arn=settings.vault_arn(b.copy_region),
            rules=[
                BackupRule("continuous", CONTINUOUS_SCHEDULE, b.continuous_days, continuous=True),
                BackupRule(
                    "daily",
                    DAILY_SCHEDULE,
                    b.daily_days,
                    copy_days=copy(b.daily_copy_days),
                    isolated_days=iso.daily_days,
                ),
                BackupRule(
                    "weekly",
                    WEEKLY_SCHEDULE,
                    b.weekly_days,
                    copy_days=copy(b.weekly_copy_days),
                    isolated_days=iso.weekly_days,
                ),
            ],
            selection_tag=(BACKUP_TAG_KEY, BACKUP_TAG_VALUE),
            audit=AuditTargets(
                required_frequency_days=1,
                required_retention_days=b.daily_days,
                max_recovery_point_age_hours=24 + BACKUP_START_WINDOW_MINUTES // 60,
                max_restore_minutes=b.restore_time_target_minutes,
            ),
            lock=lock,
            isolated_vault_arn=isolated_arn,
            start_window_minutes=BACKUP_START_WINDOW_MINUTES,
        ),
        opts=regional,
    )
    RestoreValidation(
        "restore-validation",
        RestoreValidationArgs(
            region=settings.region,
            name_prefix=f"{settings.project}-dr",
            restore_time_target_minutes=b.restore_time_target_minutes,
            log_kms_key_arn=key.key_arn,
        ),
        settings.account_id,
        opts=regional,
    )
    return vault


def backup_alarms(settings: StackSettings) -> list[AlarmSpec]:
    """Restore tests that fail validation or take longer than the RTO target."""
    return restore_alarms(settings.backup.restore_time_target_minutes)


def isolated_vault_name(settings: StackSettings) -> str:
    """Name of the region's logically air-gapped vault."""
    return f"{settings.vault_name(settings.region)}-airgapped"


def _isolated_vault(
    settings: StackSettings, regional: pulumi.ResourceOptions
) -> pulumi.Input[str] | None:
    """The copy destination that survives a compromised account, or None (``mode: none``)."""
    iso = settings.backup.isolated
    if iso.mode == "none":
        pulumi.log.warn(
            "isolatedCopy.mode is none: every backup stays in this account, so anyone holding "
            "its keys can destroy the data and all of its copies"
        )
        return None
    if iso.mode == "account":
        return iso.vault_arn
    vault = AirGappedVault(
        "backup-airgapped",
        AirGappedVaultArgs(
            vault_name=isolated_vault_name(settings),
            min_retention_days=min(iso.retentions),
            max_retention_days=max(iso.retentions),
        ),
        opts=regional,
    )
    return vault.vault_arn
