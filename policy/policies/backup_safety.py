"""Backups that agree with themselves and survive the account: engine retentions at the seed's
thresholds, continuous backup covering the engine's own retention, replicas never selected,
an isolated copy with a vault policy denying deletion, and Object Lock on the dump bucket."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .common import (
    BACKUP_PLAN,
    BACKUP_SELECTION,
    BACKUP_VAULT,
    BUCKET,
    CACHE_GROUP,
    DOCDB_CLUSTER,
    RDS_INSTANCE,
    UNKNOWN,
    Findings,
    Meta,
    Res,
    Stack,
    fmt,
    get,
    items,
    num,
    parse_arn,
    resource_policy,
    rule_kind,
    stack_policy,
)

LAG_VAULT = "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault"
BACKUP_VAULT_POLICY = "aws:backup/vaultPolicy:VaultPolicy"
BUCKET_OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
#: Deleting recovery points, and the actions that would let someone allow it.
DELETION_ACTIONS = frozenset({"backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"})

ENGINE_RETENTION_SCHEMA: dict[str, dict[str, Any]] = {
    "postgresDays": {
        "type": "integer",
        "minimum": 1,
        "maximum": 35,
        "default": 7,
        "description": "Minimum backupRetentionPeriod of an RDS primary (seed: 7 days).",
    },
    "docdbDays": {
        "type": "integer",
        "minimum": 1,
        "maximum": 35,
        "default": 7,
        "description": "Minimum backupRetentionPeriod of a DocumentDB cluster (seed: 7 days).",
    },
    "redisDays": {
        "type": "integer",
        "minimum": 1,
        "maximum": 35,
        "default": 7,
        "description": "Minimum snapshotRetentionLimit of an ElastiCache group (seed: 7 days).",
    },
}

_RETENTION_PROP = {
    RDS_INSTANCE: ("backupRetentionPeriod", "postgresDays"),
    DOCDB_CLUSTER: ("backupRetentionPeriod", "docdbDays"),
    CACHE_GROUP: ("snapshotRetentionLimit", "redisDays"),
}


def is_replica(res: Res) -> bool:
    """An RDS read replica (its retention and backups belong to its source)."""
    source = res.get("replicateSourceDb")
    return source is UNKNOWN or bool(source)


def _check_engine_retention(res: Res, cfg: Mapping[str, Any], out: Findings) -> None:
    prop, field = _RETENTION_PROP[res.type]
    if res.type == RDS_INSTANCE and is_replica(res):
        return
    value = res.get(prop)
    if value is UNKNOWN:
        out.unknown(res, prop)
        return
    days, minimum = num(value), float(cfg[field])
    if days is None or days < minimum:
        shown = "unset" if days is None else f"{fmt(days)} days"
        out.fail(f"{res.name}: {prop} is {shown}, below the {fmt(minimum)}-day minimum")


def _selection_tags(stack: Stack) -> list[tuple[str, str]]:
    found = []
    for sel in stack.of_type(BACKUP_SELECTION):
        tags = sel.items("selectionTags")
        for tag in tags if tags is not UNKNOWN else []:
            key, value = get(tag, "key"), get(tag, "value")
            if isinstance(key, str) and isinstance(value, str):
                found.append((key, value))
    return found


def _check_replicas_not_selected(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    selected = _selection_tags(stack)
    for db in stack.of_type(RDS_INSTANCE):
        if not is_replica(db):
            continue
        tags = db.tags
        for key, value in selected:
            if tags.get(key) == value:
                out.fail(
                    f"{db.name} is a read replica but carries the backup selection tag "
                    f"{key}={value}: AWS Backup would back it up (and own its automated backups)",
                    db,
                )


def _continuous_days(stack: Stack) -> list[tuple[Res, float | None]]:
    found = []
    for plan in stack.of_type(BACKUP_PLAN):
        rules = plan.items("rules")
        for rule in rules if rules is not UNKNOWN else []:
            if rule_kind(rule) == "continuous":
                found.append((plan, num(get(rule, "lifecycle", "deleteAfter"))))
    return found


def _check_continuous_covers_engine(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    for plan, days in _continuous_days(stack):
        for db in stack.of_type(RDS_INSTANCE):
            if is_replica(db):
                continue
            own = num(db.get("backupRetentionPeriod"))
            if own is not None and (days is None or days < own):
                shown = "unset" if days is None else f"{fmt(days)} days"
                out.fail(
                    f"Plan {plan.name}: the continuous rule keeps {shown}, less than "
                    f"{db.name}'s backupRetentionPeriod ({fmt(own)}); AWS Backup applies the "
                    "plan's retention to the instance's automated backups",
                    plan,
                )


def _denies_deletion(policy: Any) -> bool:
    try:
        doc = json.loads(policy) if isinstance(policy, str) else policy
    except json.JSONDecodeError:
        return False
    for st in doc.get("Statement", []) if isinstance(doc, dict) else []:
        actions = st.get("Action", [])
        actions = {actions} if isinstance(actions, str) else set(actions)
        principal = st.get("Principal")
        everyone = principal == "*" or principal == {"AWS": "*"}
        if st.get("Effect") == "Deny" and everyone and actions >= DELETION_ACTIONS:
            return True
    return False


def _isolated_vault_names(stack: Stack, out: Findings) -> set[str]:
    """Names of the stack's air-gapped vaults whose access policy denies deletion."""
    policies: dict[str, list[Res]] = {}
    for pol in stack.of_type(BACKUP_VAULT_POLICY):
        name = pol.get("backupVaultName")
        if isinstance(name, str):
            policies.setdefault(name, []).append(pol)
    found = set()
    for vault in stack.of_type(LAG_VAULT):
        name = vault.get("name")
        if not isinstance(name, str):
            out.unknown(vault, "name")
        elif any(_denies_deletion(p.get("policy")) for p in policies.get(name, [])):
            found.add(name)
        else:
            out.fail(f"Air-gapped vault {vault.name} has no access policy denying deletion", vault)
    return found


def _is_isolated(dest: Any, own_account: str | None, names: set[str], pending: bool) -> bool:
    """A copy destination is isolated when it is one of the air-gapped vaults, or a vault of
    another account; an ARN unknown at preview counts when the plan depends on such a vault."""
    if dest is UNKNOWN:
        return pending
    parsed = parse_arn(dest)
    if parsed is None:
        return False
    if own_account is not None and parsed.account != own_account:
        return True
    return parsed.resource.removeprefix("backup-vault:") in names


def _check_isolated_copy(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    names = _isolated_vault_names(stack, out)
    own = _own_account(stack)
    for plan in stack.of_type(BACKUP_PLAN):
        pending = bool(names) and bool(stack.referenced(plan, "rules", LAG_VAULT))
        rules = plan.items("rules")
        if rules is UNKNOWN:
            out.unknown(plan, "rules")
            continue
        for rule in rules:
            if rule_kind(rule) == "continuous":
                continue
            copies = items(rule, "copyActions")
            dests = [get(c, "destinationVaultArn") for c in copies] if copies is not UNKNOWN else []
            if not any(_is_isolated(d, own, names, pending) for d in dests):
                out.fail(
                    f"Plan {plan.name} rule {get(rule, 'ruleName')}: no copy to a logically "
                    "air-gapped vault or to another account's vault; every copy stays in an "
                    "account whose keys can destroy them all",
                    plan,
                )


def _own_account(stack: Stack) -> str | None:
    """The stack's account, read from the ARN of its regular vaults' keys (None if unknown)."""
    accounts = {
        parsed.account
        for vault in stack.of_type(BACKUP_VAULT)
        if (parsed := parse_arn(vault.get("kmsKeyArn"))) is not None
    }
    return accounts.pop() if len(accounts) == 1 else None


def _check_object_lock(stack: Stack, cfg: Mapping[str, Any], out: Findings) -> None:
    locks, unjoined = stack.companions(BUCKET_OBJECT_LOCK)
    minimum = float(cfg["minDays"])
    for bucket in stack.of_type(BUCKET):
        if bucket.tags.get("reskflow:store") != cfg["store"]:
            continue
        mine = locks.get(bucket.urn, [])
        if not mine and unjoined:
            out.unknown(bucket, "which Object Lock configuration applies to it")
            continue
        if not mine:
            out.fail(f"Backup bucket {bucket.name} has no Object Lock", bucket)
        for lock in mine:
            days = num(lock.get("rule", "defaultRetention", "days"))
            years = num(lock.get("rule", "defaultRetention", "years"))
            total = (days or 0) + 365 * (years or 0)
            if lock.get("objectLockEnabled") != "Enabled" or total < minimum:
                out.fail(
                    f"Backup bucket {bucket.name}: Object Lock default retention is "
                    f"{fmt(total)} days, below the {fmt(minimum)}-day minimum",
                    bucket,
                )


POLICIES = [
    resource_policy(
        Meta(
            "reskflow-data-backup-retention",
            "Every data store keeps its own backups at least the seed's retention.",
            "Set backupRetentionPeriod (RDS primaries, DocumentDB) and snapshotRetentionLimit "
            "(ElastiCache) to at least postgresDays, docdbDays and redisDays.",
            "3-2-1",
            schema=ENGINE_RETENTION_SCHEMA,
        ),
        tuple(_RETENTION_PROP),
        _check_engine_retention,
    ),
    stack_policy(
        Meta(
            "reskflow-backup-replica-not-selected",
            "No read replica carries a backup plan's selection tag.",
            "Give read replicas another value of the backup tag; promotion adds it.",
            "3-2-1",
        ),
        _check_replicas_not_selected,
    ),
    stack_policy(
        Meta(
            "reskflow-backup-continuous-covers-engine",
            "The continuous rule keeps at least every RDS primary's backupRetentionPeriod.",
            "Raise the continuous rule's deleteAfter to the instances' backupRetentionPeriod.",
            "3-2-1",
        ),
        _check_continuous_covers_engine,
    ),
    stack_policy(
        Meta(
            "reskflow-backup-isolated-copy",
            "Every snapshot rule copies to a logically air-gapped vault (whose access policy "
            "denies deletion) or to another account's vault.",
            "Add a copy action to the stack's LogicallyAirGappedVault (with a VaultPolicy "
            "denying backup:DeleteRecoveryPoint) or to a vault in another account.",
            "3-2-1",
        ),
        _check_isolated_copy,
    ),
    stack_policy(
        Meta(
            "reskflow-s3-backups-object-lock",
            "The database-dump bucket has S3 Object Lock with at least the daily retention.",
            "Add a BucketObjectLockConfiguration (objectLockEnabled Enabled) with a default "
            "retention of at least minDays.",
            "3-2-1",
            schema={
                "store": {
                    "type": "string",
                    "default": "backups",
                    "description": "reskflow:store tag of the dump buckets.",
                },
                "minDays": {
                    "type": "integer",
                    "minimum": 1,
                    "default": 7,
                    "description": "Minimum default retention, days (seed: daily dumps, 7).",
                },
            },
        ),
        _check_object_lock,
    ),
]
