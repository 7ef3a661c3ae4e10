"""AWS Backup: vault CMK and lock, retention minima, peer-region copies, lifecycle limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    ALLOWED_REGIONS_SCHEMA,
    BACKUP_PLAN,
    BACKUP_VAULT,
    BACKUP_VAULT_LOCK,
    UNKNOWN,
    Findings,
    Meta,
    Res,
    Stack,
    arn_region,
    check_cmk,
    fmt,
    get,
    items,
    num,
    peer_regions,
    resource_policy,
    rule_kind,
    stack_policy,
)

#: AWS Backup: cold storage bills at least 90 days; continuous backups live 1 to 35 days.
COLD_STORAGE_MIN_DAYS = 90.0
CONTINUOUS_MAX_DAYS = 35.0

RETENTION_SCHEMA: dict[str, dict[str, Any]] = {
    "dailyDays": {
        "type": "integer",
        "minimum": 1,
        "default": 7,
        "description": "Minimum days a daily (or more frequent) recovery point is kept.",
    },
    "weeklyDays": {
        "type": "integer",
        "minimum": 1,
        "default": 28,
        "description": "Minimum days a weekly (or less frequent) recovery point is kept.",
    },
    "continuousDays": {
        "type": "integer",
        "minimum": 1,
        "maximum": 35,
        "default": 1,
        "description": "Minimum days of continuous (point-in-time) backup.",
    },
}


def _rule_name(rule: Any, index: int) -> str:
    name = get(rule, "ruleName")
    return f"rule {name}" if isinstance(name, str) else f"rule #{index + 1}"


def lifecycles(rule: Any) -> list[tuple[str, Any]]:
    """(where, lifecycle) of a rule and of each of its copy actions."""
    found = [("recovery points", get(rule, "lifecycle"))]
    copies = items(rule, "copyActions")
    for copy in copies if copies is not UNKNOWN else []:
        found.append((f"copies in {get(copy, 'destinationVaultArn')}", get(copy, "lifecycle")))
    return found


def plan_rules(plan: Res, out: Findings) -> list[tuple[str, Any]]:
    """(label, rule) of every rule of a plan; an unknown rule list is recorded."""
    rules = plan.items("rules")
    if rules is UNKNOWN:
        out.unknown(plan, "rules")
        return []
    return [(f"Plan {plan.name} {_rule_name(r, i)}", r) for i, r in enumerate(rules)]


def _check_retention(plan: Res, cfg: Mapping[str, Any], out: Findings) -> None:
    for label, rule in plan_rules(plan, out):
        kind = rule_kind(rule)
        minimum = float(cfg[f"{kind}Days"])
        for where, lifecycle in lifecycles(rule):
            if get(lifecycle, "deleteAfter") is UNKNOWN:
                out.unknown(plan, f"{label} {where} deleteAfter")
                continue
            days = num(get(lifecycle, "deleteAfter"))
            if days is not None and days < minimum:
                out.fail(
                    f"{label} ({kind}): {where} are kept {fmt(days)} days, "
                    f"below the {fmt(minimum)}-day minimum"
                )


def _check_copy_region(plan: Res, cfg: Mapping[str, Any], out: Findings) -> None:
    region = plan.region
    if region is UNKNOWN:
        out.unknown(plan, "region")
        return
    peers = peer_regions(region, cfg)
    for label, rule in plan_rules(plan, out):
        copies = items(rule, "copyActions")
        if copies is UNKNOWN:
            out.unknown(plan, f"{label} copyActions")
            continue
        in_peer = 0
        for copy in copies:
            arn = get(copy, "destinationVaultArn")
            if arn is UNKNOWN:
                out.unknown(plan, f"{label} destinationVaultArn")
                in_peer += 1
            elif arn_region(arn) in peers:
                in_peer += 1
            elif arn_region(arn) == region:
                continue  # the isolated copy: reskflow-backup-isolated-copy judges it
            else:
                out.fail(f"{label}: copies to {arn}, not a vault in {' or '.join(peers)}")
        if not in_peer and rule_kind(rule) != "continuous":
            out.fail(f"{label}: no copy action to a vault in {' or '.join(peers)}")


def _check_lifecycle_limits(plan: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    for label, rule in plan_rules(plan, out):
        continuous = rule_kind(rule) == "continuous"
        for where, lifecycle in lifecycles(rule):
            cold = num(get(lifecycle, "coldStorageAfter"))
            delete = num(get(lifecycle, "deleteAfter"))
            if cold is not None and continuous:
                out.fail(f"{label}: continuous backups cannot move to cold storage")
            elif cold is not None and delete is not None and delete < cold + COLD_STORAGE_MIN_DAYS:
                out.fail(
                    f"{label}: {where} are deleted after {fmt(delete)} days, less than 90 days "
                    f"after moving to cold storage at day {fmt(cold)}"
                )
        delete = num(get(rule, "lifecycle", "deleteAfter"))
        if continuous and (delete is None or delete > CONTINUOUS_MAX_DAYS):
            shown = "unset" if delete is None else fmt(delete)
            out.fail(f"{label}: continuous backups need deleteAfter of 1 to 35 days ({shown})")


def _lock_vault(stack: Stack, lock: Res) -> Any:
    name = lock.get("backupVaultName")
    if isinstance(name, str):
        return next((v for v in stack.of_type(BACKUP_VAULT) if v.get("name") == name), None)
    refs = stack.referenced(lock, "backupVaultName", BACKUP_VAULT)
    return refs[0] if refs else UNKNOWN


def _retentions_by_vault(stack: Stack, out: Findings) -> dict[str, list[tuple[str, float | None]]]:
    found: dict[str, list[tuple[str, float | None]]] = {}
    for plan in stack.of_type(BACKUP_PLAN):
        for label, rule in plan_rules(plan, out):
            vault = get(rule, "targetVaultName")
            if isinstance(vault, str):
                found.setdefault(vault, []).append(
                    (label, num(get(rule, "lifecycle", "deleteAfter")))
                )
    return found


def _check_lock_retention(
    vault: Res, lock: Res, retentions: list[tuple[str, float | None]], out: Findings
) -> None:
    low = num(lock.get("minRetentionDays"))
    high = num(lock.get("maxRetentionDays"))
    for label, days in retentions:
        if low is not None and days is not None and days < low:
            out.fail(
                f"Vault {vault.name}: {label} keeps recovery points {fmt(days)} days, below the "
                f"lock's minRetentionDays {fmt(low)}; its backup jobs would fail",
                vault,
            )
        if high is not None and (days is None or days > high):
            shown = "forever" if days is None else f"{fmt(days)} days"
            out.fail(
                f"Vault {vault.name}: {label} keeps recovery points {shown}, above the lock's "
                f"maxRetentionDays {fmt(high)}; its backup jobs would fail",
                vault,
            )


def _check_vault_lock(stack: Stack, cfg: Mapping[str, Any], out: Findings) -> None:
    locks: dict[str, list[Res]] = {}
    unjoined = []
    for lock in stack.of_type(BACKUP_VAULT_LOCK):
        vault = _lock_vault(stack, lock)
        if vault is UNKNOWN:
            unjoined.append(lock)
        elif vault is not None:
            locks.setdefault(vault.urn, []).append(lock)
    retentions = _retentions_by_vault(stack, out)
    for vault in stack.of_type(BACKUP_VAULT):
        mine = locks.get(vault.urn, [])
        if not mine and unjoined:
            out.unknown(vault, "which vault lock applies to it")
        elif not mine:
            out.fail(f"Vault {vault.name} has no vault lock", vault)
        for lock in mine:
            if cfg.get("requiredMode") == "compliance" and lock.get("changeableForDays") is None:
                out.fail(
                    f"Vault {vault.name}: lock {lock.name} is in governance mode (no "
                    "changeableForDays); compliance mode makes recovery points undeletable",
                    vault,
                )
            name = vault.get("name")
            _check_lock_retention(vault, lock, retentions.get(name, []) if name else [], out)


def _check_vault_cmk(vault: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    check_cmk(vault, ("kmsKeyArn",), out)


POLICIES = [
    resource_policy(
        Meta(
            "reskflow-backup-vault-cmk",
            "AWS Backup vaults encrypt recovery points with a customer managed KMS key.",
            "Set kmsKeyArn on the vault to the region's CMK ARN (not the aws/backup key).",
            "encryption",
        ),
        [BACKUP_VAULT],
        _check_vault_cmk,
    ),
    stack_policy(
        Meta(
            "reskflow-backup-vault-lock",
            "Every AWS Backup vault has a vault lock its rules can satisfy (compliance mode when "
            "the policy config requires it).",
            "Add a VaultLockConfiguration with minRetentionDays at most and maxRetentionDays at "
            "least every rule's deleteAfter; with requiredMode compliance, set changeableForDays.",
            "3-2-1",
            schema={
                "requiredMode": {
                    "type": "string",
                    "enum": ["governance", "compliance"],
                    "default": "governance",
                    "description": "Lock mode every vault must have. Compliance locks are "
                    "irreversible after their grace period, so they are opted into, never "
                    "the default.",
                }
            },
        ),
        _check_vault_lock,
    ),
    resource_policy(
        Meta(
            "reskflow-backup-retention",
            "AWS Backup rules keep recovery points at least the seed's retention.",
            "Raise lifecycle.deleteAfter (and each copy action's) to at least dailyDays for "
            "daily rules, weeklyDays for weekly rules and continuousDays for continuous backup.",
            "3-2-1",
            schema=RETENTION_SCHEMA,
        ),
        [BACKUP_PLAN],
        _check_retention,
    ),
    resource_policy(
        Meta(
            "reskflow-backup-copy-peer-region",
            "Every snapshot backup rule copies its recovery points to a vault in the peer region.",
            "Add copyActions with destinationVaultArn of the peer region's vault to every rule "
            "that is not continuous (continuous recovery points are not copied across regions).",
            "3-2-1",
            schema=ALLOWED_REGIONS_SCHEMA,
        ),
        [BACKUP_PLAN],
        _check_copy_region,
    ),
    resource_policy(
        Meta(
            "reskflow-backup-lifecycle-limits",
            "AWS Backup lifecycles respect the limits AWS enforces at apply.",
            "Delete at least 90 days after moving to cold storage (or do not use cold storage "
            "for short retention), and keep continuous backups 1 to 35 days without cold storage.",
            "deployability",
            severity=Severity.MEDIUM,
        ),
        [BACKUP_PLAN],
        _check_lifecycle_limits,
    ),
]
