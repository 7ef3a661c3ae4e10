"""The 3-2-1 rule as a property of the resource graph, and the cross-region RPO it gives.

For every data store (bucket, RDS instance, DocumentDB cluster, ElastiCache group) the legs are
counted from the declared resources:

- production: the store itself;
- replicas: a bucket replication rule, the source or a read replica of a database, membership
  of a DocumentDB global cluster or an ElastiCache global datastore;
- snapshots the service keeps itself: RDS/DocumentDB automated backups, ElastiCache snapshots;
- AWS Backup: a Selection covering the store (by ARN, tag or property dependency) whose Plan has
  a rule targeting a local vault (recovery points), and each copy action (a vault elsewhere).

copies = number of legs, media = distinct kinds of storage, offsite = legs in another region.
A leg declared by reference to the peer stack (a replication destination, a global cluster) is
counted as declared: the peer stack's own run checks its end.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import Severity

from .common import (
    BACKUP_PLAN,
    BACKUP_SELECTION,
    BUCKET,
    BUCKET_REPLICATION,
    CACHE_GLOBAL_GROUP,
    CACHE_GROUP,
    DOCDB_CLUSTER,
    RDS_BACKUPS_REPLICATION,
    RDS_INSTANCE,
    UNKNOWN,
    Findings,
    Level,
    Meta,
    Res,
    Stack,
    arn_matches,
    arn_region,
    fmt,
    get,
    is_enabled,
    items,
    num,
    parse_arn,
    present,
    rule_kind,
    schedule_interval_minutes,
    stack_policy,
)

RECOVERY_POINTS = "AWS Backup recovery points"
#: A leg whose region is "some other region" by AWS's definition (global clusters/datastores).
ANOTHER_REGION = "another region"


@dataclass(frozen=True)
class Leg:
    """One copy of a store's data."""

    what: str
    medium: str
    region: Any
    rpo_minutes: float | None = None

    def offsite(self, home: Any) -> bool | None:
        if self.region == ANOTHER_REGION:
            return True
        if self.region is UNKNOWN or home is UNKNOWN or self.region is None or home is None:
            return None
        return bool(self.region != home)

    def describe(self) -> str:
        region = "region unknown" if self.region is UNKNOWN else self.region
        return f"{self.what} ({self.medium}, {region})"


@dataclass
class StoreLegs:
    """A data store and the legs its stack declares."""

    store: Res
    label: str
    legs: list[Leg]
    unknowns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoreKind:
    label: str
    medium: str
    arn_service: str
    arn_resource: Callable[[Res], Any]
    legs: Callable[[Stack, Res, StoreLegs], None]


# --------------------------------------------------------------------------------------------
# Legs by store kind
# --------------------------------------------------------------------------------------------


def _bucket_legs(stack: Stack, bucket: Res, acc: StoreLegs) -> None:
    joined, unjoined = stack.companions(BUCKET_REPLICATION)
    if unjoined and not joined.get(bucket.urn):
        acc.unknowns.append("which replication config applies (bucket unknown)")
    for config in joined.get(bucket.urn, []):
        rules = config.items("rules")
        if rules is UNKNOWN:
            acc.unknowns.append(f"rules of {config.name}")
            continue
        for rule in rules:
            if get(rule, "status") == "Disabled":
                continue
            dest = get(rule, "destination", "bucket")
            key = get(rule, "destination", "encryptionConfiguration", "replicaKmsKeyId")
            region = stack.region_of_bucket_arn(dest) or arn_region(key) or UNKNOWN
            rtc = is_enabled(get(rule, "destination", "replicationTime", "status"))
            acc.legs.append(Leg(f"replica {dest}", "S3 objects", region, 15.0 if rtc else None))


def _db_identifier(db: Res, key: str) -> Any:
    value = db.get(key)
    return value if isinstance(value, str) else UNKNOWN


def _names_db(value: Any, identifier: Any) -> bool:
    if not isinstance(value, str) or not isinstance(identifier, str):
        return False
    return value == identifier or value.endswith(f":db:{identifier}")


def _rds_legs(stack: Stack, db: Res, acc: StoreLegs) -> None:
    identifier = _db_identifier(db, "identifier")
    source = db.get("replicateSourceDb")
    if source is UNKNOWN:
        acc.unknowns.append("replicateSourceDb")
    elif source is not None:
        acc.legs.append(Leg(f"source {source}", "RDS storage", arn_region(source) or db.region, 0))
    for other in stack.of_type(RDS_INSTANCE):
        if other is not db and _names_db(other.get("replicateSourceDb"), identifier):
            acc.legs.append(Leg(f"read replica {other.name}", "RDS storage", other.region, 0))
    if (num(db.get("backupRetentionPeriod")) or 0) >= 1:
        acc.legs.append(Leg("automated backups", "RDS snapshots", db.region, 5.0))
    for repl in stack.of_type(RDS_BACKUPS_REPLICATION):
        if _names_db(repl.get("sourceDbInstanceArn"), identifier):
            acc.legs.append(
                Leg(f"automated backups in {repl.region}", "RDS snapshots", repl.region)
            )


def _docdb_legs(_stack: Stack, cluster: Res, acc: StoreLegs) -> None:
    if present(cluster.props, "globalClusterIdentifier"):
        acc.legs.append(Leg("global cluster member", "DocumentDB storage", ANOTHER_REGION, 0))
    # DocumentDB always keeps at least one day of automated backups.
    acc.legs.append(Leg("automated backups", "DocumentDB snapshots", cluster.region, 5.0))


def _cache_legs(stack: Stack, group: Res, acc: StoreLegs) -> None:
    group_id = group.get("replicationGroupId")
    in_global = present(group.props, "globalReplicationGroupId") or any(
        g.get("primaryReplicationGroupId") == group_id
        or group.urn in g.property_dependencies.get("primaryReplicationGroupId", ())
        for g in stack.of_type(CACHE_GLOBAL_GROUP)
    )
    if in_global:
        acc.legs.append(Leg("global datastore member", "ElastiCache nodes", ANOTHER_REGION, 0))
    if (num(group.get("snapshotRetentionLimit")) or 0) >= 1:
        acc.legs.append(Leg("snapshots", "ElastiCache snapshots", group.region, 24 * 60.0))


def _arn_part(prefix: str, key: str) -> Callable[[Res], Any]:
    def part(res: Res) -> Any:
        value = res.get(key)
        return f"{prefix}{value}" if isinstance(value, str) else UNKNOWN

    return part


STORE_KINDS: dict[str, StoreKind] = {
    BUCKET: StoreKind("bucket", "S3 objects", "s3", _arn_part("", "bucket"), _bucket_legs),
    RDS_INSTANCE: StoreKind(
        "RDS instance", "RDS storage", "rds", _arn_part("db:", "identifier"), _rds_legs
    ),
    DOCDB_CLUSTER: StoreKind(
        "DocumentDB cluster",
        "DocumentDB storage",
        "rds",
        _arn_part("cluster:", "clusterIdentifier"),
        _docdb_legs,
    ),
    CACHE_GROUP: StoreKind(
        "ElastiCache group",
        "ElastiCache nodes",
        "elasticache",
        _arn_part("replicationgroup:", "replicationGroupId"),
        _cache_legs,
    ),
}

# --------------------------------------------------------------------------------------------
# AWS Backup legs
# --------------------------------------------------------------------------------------------


def _like(tag: Any, pattern: Any) -> bool:
    return isinstance(tag, str) and isinstance(pattern, str) and fnmatch.fnmatchcase(tag, pattern)


#: Backup selection condition operators on a resource tag.
_TAG_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "stringEquals": lambda tag, value: bool(tag == value),
    "stringNotEquals": lambda tag, value: bool(tag != value),
    "stringLikes": _like,
    "stringNotLikes": lambda tag, value: not _like(tag, value),
}


def _tag_condition_holds(condition: Any, tags: Mapping[str, Any]) -> Any:
    for key, test in _TAG_TESTS.items():
        entries = items(condition, key)
        if entries is UNKNOWN:
            return UNKNOWN
        for entry in entries:
            tag_key = str(get(entry, "key") or "").split("/", 1)[-1]
            if not test(tags.get(tag_key), get(entry, "value")):
                return False
    return True


def _matches_arns(patterns: Any, kind: StoreKind, store: Res) -> Any:
    if patterns is UNKNOWN:
        return UNKNOWN
    resource = kind.arn_resource(store)
    region = store.region if isinstance(store.region, str) else None
    result: Any = False
    for pattern in patterns:
        if pattern == "*":
            return True
        if pattern is UNKNOWN or resource is UNKNOWN:
            result = UNKNOWN
        elif isinstance(pattern, str) and arn_matches(pattern, kind.arn_service, region, resource):
            return True
    return result


def _selection_covers(selection: Res, kind: StoreKind, store: Res) -> Any:
    """True, False or UNKNOWN: whether a Backup selection assigns the store to its plan."""
    if store.urn in selection.property_dependencies.get("resources", ()):
        chosen: Any = True
    else:
        chosen = _matches_arns(selection.items("resources"), kind, store)
        tags = selection.items("selectionTags")
        if chosen is not True and tags is UNKNOWN:
            chosen = UNKNOWN
        elif chosen is not True and any(
            get(t, "type") == "STRINGEQUALS" and store.tags.get(get(t, "key")) == get(t, "value")
            for t in tags
        ):
            chosen = True
    if chosen is not True:
        return chosen
    if _matches_arns(selection.items("notResources"), kind, store) is True:
        return False
    conditions = selection.items("conditions")
    if conditions is UNKNOWN:
        return UNKNOWN
    results = [_tag_condition_holds(c, store.tags) for c in conditions]
    if False in results:
        return False
    return UNKNOWN if UNKNOWN in results else True


def plan_of(stack: Stack, selection: Res) -> Any:
    """The Backup Plan a selection belongs to: its ``planId`` dependency, else its sibling."""
    refs = stack.referenced(selection, "planId", BACKUP_PLAN)
    if refs:
        return refs[0]
    plans = stack.of_type(BACKUP_PLAN)
    deps = [p for p in plans if p.urn in selection.dependencies]
    if len(deps) == 1:
        return deps[0]
    siblings = [p for p in plans if selection.parent and p.parent == selection.parent]
    return siblings[0] if len(siblings) == 1 else UNKNOWN


def _backup_legs(stack: Stack, kind: StoreKind, store: Res, acc: StoreLegs) -> None:
    for selection in stack.of_type(BACKUP_SELECTION):
        covered = _selection_covers(selection, kind, store)
        if covered is UNKNOWN:
            acc.unknowns.append(f"whether selection {selection.name} covers it")
        if covered is not True:
            continue
        plan = plan_of(stack, selection)
        if plan is UNKNOWN:
            acc.unknowns.append(f"the plan of selection {selection.name}")
            continue
        rules = plan.items("rules")
        for rule in rules if rules is not UNKNOWN else []:
            continuous = rule_kind(rule) == "continuous"
            interval = schedule_interval_minutes(get(rule, "schedule"))
            vault = get(rule, "targetVaultName")
            acc.legs.append(
                Leg(f"vault {vault}", RECOVERY_POINTS, plan.region, 5.0 if continuous else interval)
            )
            copies = items(rule, "copyActions")
            for copy in copies if copies is not UNKNOWN else []:
                arn = get(copy, "destinationVaultArn")
                parsed = parse_arn(arn)
                region = parsed.region if parsed is not None and parsed.region else UNKNOWN
                name = parsed.resource if parsed is not None else "unknown vault"
                acc.legs.append(Leg(f"copy in {name}", RECOVERY_POINTS, region, interval))


def store_legs(stack: Stack) -> list[StoreLegs]:
    """Every data store of the stack with its legs."""
    found = []
    for resource_type, kind in STORE_KINDS.items():
        for store in stack.of_type(resource_type):
            acc = StoreLegs(store, kind.label, [Leg("production", kind.medium, store.region)])
            kind.legs(stack, store, acc)
            _backup_legs(stack, kind, store, acc)
            found.append(acc)
    return found


# --------------------------------------------------------------------------------------------
# The rules
# --------------------------------------------------------------------------------------------

RULE_SCHEMA: dict[str, dict[str, Any]] = {
    "minCopies": {"type": "integer", "minimum": 1, "default": 3, "description": "Copies."},
    "minMedia": {"type": "integer", "minimum": 1, "default": 2, "description": "Media kinds."},
    "minOffsite": {"type": "integer", "minimum": 0, "default": 1, "description": "Offsite legs."},
    "exempt": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Resource names of stores the rule skips (say why in the stack config).",
    },
}


def _missing_legs(legs: list[Leg], home: Any) -> list[str]:
    missing = []
    if not any(leg.medium == RECOVERY_POINTS and not leg.offsite(home) for leg in legs):
        missing.append("recovery points in a local AWS Backup vault (Selection + Plan rule)")
    if not any(leg.medium == RECOVERY_POINTS and leg.offsite(home) for leg in legs):
        missing.append("a copy in the peer-region vault (Plan rule copyActions)")
    return missing


def _check_321(stack: Stack, cfg: Mapping[str, Any], out: Findings) -> None:
    exempt = set(cfg.get("exempt", []))
    for acc in store_legs(stack):
        store, legs = acc.store, acc.legs
        if store.name in exempt:
            continue
        home = store.region
        media = sorted({leg.medium for leg in legs})
        offsite = sum(1 for leg in legs if leg.offsite(home))
        short = [
            f"{what} {have}/{need}"
            for what, have, need in (
                ("copies", len(legs), int(cfg["minCopies"])),
                ("media", len(media), int(cfg["minMedia"])),
                ("offsite", offsite, int(cfg["minOffsite"])),
            )
            if have < need
        ]
        if not short:
            continue
        undecided = acc.unknowns + [leg.what for leg in legs if leg.offsite(home) is None]
        if undecided:
            out.unknown(store, "3-2-1 legs: " + ", ".join(undecided))
            continue
        out.fail(
            f"{acc.label} {store.name}: 3-2-1 not met ({', '.join(short)}); missing leg: "
            + "; ".join(_missing_legs(legs, home))
            + "; has: "
            + ", ".join(leg.describe() for leg in legs),
            store,
        )


def _check_rpo(stack: Stack, cfg: Mapping[str, Any], out: Findings) -> None:
    target = float(cfg["rpoMinutes"])
    for acc in store_legs(stack):
        offsite = [leg for leg in acc.legs if leg.offsite(acc.store.region)]
        if not offsite:
            continue  # no offsite leg at all: the 3-2-1 rule reports it
        bounded = [leg for leg in offsite if leg.rpo_minutes is not None]
        best = min(bounded, key=lambda leg: leg.rpo_minutes or 0.0) if bounded else None
        if best is None:
            out.fail(
                f"{acc.label} {acc.store.name}: no offsite leg has a bounded recovery point "
                f"(target {fmt(target)} minutes)",
                acc.store,
            )
        elif (best.rpo_minutes or 0.0) > target:
            out.fail(
                f"{acc.label} {acc.store.name}: best cross-region recovery point is "
                f"{fmt(best.rpo_minutes or 0.0)} minutes ({best.what}), above the "
                f"{fmt(target)}-minute RPO",
                acc.store,
            )


POLICIES = [
    stack_policy(
        Meta(
            "reskflow-3-2-1",
            "Every data store has 3 copies on 2 media with 1 offsite, counted from the graph.",
            "Add the missing leg the message names: an AWS Backup Selection covering the store "
            "with a Plan rule targeting the local vault, a copy action to the peer-region vault, "
            "or a cross-region replica.",
            "3-2-1",
            schema=RULE_SCHEMA,
        ),
        _check_321,
    ),
    stack_policy(
        Meta(
            "reskflow-rpo-note",
            "Notes data stores whose best cross-region recovery point exceeds the RPO target.",
            "For a store that must meet the RPO across regions, add a continuously replicating "
            "leg (a cross-region read replica or global cluster); S3 replication with RTC is "
            "bounded at 15 minutes, so say so in the DR plan.",
            "cost-and-rpo-notes",
            level=Level.ADVISORY,
            severity=Severity.LOW,
            schema={
                "rpoMinutes": {
                    "type": "number",
                    "minimum": 0,
                    "default": 5,
                    "description": "Recovery point objective for transactional data, minutes.",
                }
            },
        ),
        _check_rpo,
    ),
]
