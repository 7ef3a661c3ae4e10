"""S3: encryption, TLS, public access, versioning, replication and lifecycle limits.

A bucket's settings live in separate resources (pulumi_aws v7), so the per-bucket rules are
stack-level: each joins the bucket to its configuration resource by the ``bucket`` input (or the
engine's property dependency when the name is unknown at preview).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    ALLOWED_REGIONS_SCHEMA,
    BUCKET,
    BUCKET_LIFECYCLE,
    BUCKET_PAB,
    BUCKET_POLICY,
    BUCKET_REPLICATION,
    BUCKET_SSE,
    BUCKET_VERSIONING,
    UNKNOWN,
    Findings,
    Meta,
    Res,
    Stack,
    arn_region,
    as_list,
    aws_managed_key,
    fmt,
    get,
    is_enabled,
    items,
    json_document,
    num,
    resource_policy,
    stack_policy,
)

#: Replication Time Control has exactly one threshold (AWS): 15 minutes.
RTC_MINUTES = 15.0

#: S3 lifecycle: objects stay 30 days in a class before a transition to Standard-IA/One Zone-IA.
IA_CLASSES = ("STANDARD_IA", "ONEZONE_IA")
ARCHIVE_CLASSES = ("GLACIER_IR", "GLACIER", "DEEP_ARCHIVE")
LIFECYCLE_MIN_DAYS = 30.0

# --------------------------------------------------------------------------------------------
# Per-bucket companions (stack level)
# --------------------------------------------------------------------------------------------

Problems = Callable[[Res], "list[str] | Any"]


def check_each_bucket(
    stack: Stack, out: Findings, companion_type: str, missing: str, problems: Problems
) -> None:
    """Every bucket has a ``companion_type`` resource, and each of them has no problem.

    ``problems`` returns the list of what is wrong with one companion, or UNKNOWN.
    """
    joined, unjoined = stack.companions(companion_type)
    for bucket in stack.of_type(BUCKET):
        found = joined.get(bucket.urn, [])
        if not found:
            if unjoined:
                names = ", ".join(c.name for c in unjoined)
                bucket_note = f"which bucket {names} applies to (bucket unknown)"
                out.unknown(bucket, bucket_note)
            else:
                out.fail(f"bucket {bucket.name}: {missing}", bucket)
            continue
        for companion in found:
            result = problems(companion)
            if result is UNKNOWN:
                out.unknown(companion, "its settings")
            elif result:
                out.fail(f"bucket {bucket.name}: " + "; ".join(result), bucket)


def _sse_problems(sse: Res) -> list[str] | Any:
    rules = sse.items("rules")
    if rules is UNKNOWN:
        return UNKNOWN
    if not rules:
        return [f"{sse.name} has no rule"]
    problems: list[str] = []
    for rule in rules:
        algorithm = get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        key = get(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId")
        if algorithm is UNKNOWN:
            return UNKNOWN
        if algorithm not in ("aws:kms", "aws:kms:dsse"):
            problems.append(f"{sse.name} uses sseAlgorithm {algorithm}, not aws:kms")
        elif key is None or key == "":
            problems.append(f"{sse.name} names no kmsMasterKeyId (the AWS managed aws/s3 key)")
        elif aws_managed_key(key):
            problems.append(f"{sse.name} uses {key}, an AWS managed key, not a CMK")
    return problems


def _check_sse(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    check_each_bucket(
        stack, out, BUCKET_SSE, "no server-side encryption configuration", _sse_problems
    )


def _denies_plain_http(statement: Any) -> bool:
    if not isinstance(statement, Mapping) or statement.get("Effect") != "Deny":
        return False
    principal = statement.get("Principal")
    everyone = principal == "*" or (
        isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS"))
    )
    actions = as_list(statement.get("Action"))
    condition = statement.get("Condition")
    secure = get(condition, "Bool", "aws:SecureTransport") if condition else None
    return (
        everyone
        and ("s3:*" in actions or "*" in actions)
        and str(as_list(secure)[0] if as_list(secure) else "").lower() == "false"
    )


def _tls_problems(policy: Res) -> list[str] | Any:
    document = json_document(policy.get("policy"))
    if document is UNKNOWN:
        return UNKNOWN
    statements = as_list(get(document, "Statement"))
    if any(_denies_plain_http(s) for s in statements):
        return []
    return [f"{policy.name} has no statement denying s3:* when aws:SecureTransport is false"]


def _check_tls(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    check_each_bucket(
        stack, out, BUCKET_POLICY, "no bucket policy denying non-TLS access", _tls_problems
    )


PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _pab_problems(pab: Res) -> list[str] | Any:
    values = {flag: pab.get(flag) for flag in PAB_FLAGS}
    if UNKNOWN in values.values():
        return UNKNOWN
    off = [flag for flag, value in values.items() if value is not True]
    return [f"{pab.name} leaves {', '.join(off)} off"] if off else []


def _check_pab(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    check_each_bucket(stack, out, BUCKET_PAB, "no public access block", _pab_problems)


def _versioning_problems(versioning: Res) -> list[str] | Any:
    status = versioning.get("versioningConfiguration", "status")
    if status is UNKNOWN:
        return UNKNOWN
    return [] if status == "Enabled" else [f"{versioning.name} sets versioning to {status}"]


def _check_versioning(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    check_each_bucket(
        stack, out, BUCKET_VERSIONING, "versioning is not enabled", _versioning_problems
    )


def _check_replication_versioning(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    """Replication needs versioning on the source and on every destination in this stack."""
    joined, _ = stack.companions(BUCKET_VERSIONING)

    def versioned(bucket: Res) -> bool | Any:
        found = joined.get(bucket.urn, [])
        statuses = [v.get("versioningConfiguration", "status") for v in found]
        if UNKNOWN in statuses:
            return UNKNOWN
        return "Enabled" in statuses

    for config in stack.of_type(BUCKET_REPLICATION):
        source = stack.bucket_of(config)
        if source is UNKNOWN:
            out.unknown(config, "its source bucket")
            continue
        ends = [("source", source)] if source is not None else []
        for rule in _rules(config):
            dest_name = (get(rule, "destination", "bucket") or "").split(":::")[-1]
            dest = stack.buckets_by_name.get(dest_name)
            if dest is not None:
                ends.append(("destination", dest))
        for role, bucket in ends:
            state = versioned(bucket)
            if state is UNKNOWN:
                out.unknown(bucket, "versioning status")
            elif not state:
                out.fail(
                    f"{config.name}: {role} bucket {bucket.name} is not versioned; "
                    "S3 replication needs versioning at both ends",
                    bucket,
                )


# --------------------------------------------------------------------------------------------
# Replication rules (resource level)
# --------------------------------------------------------------------------------------------


def _rules(config: Res) -> list[Any]:
    rules = config.items("rules")
    if rules is UNKNOWN:
        return []
    return [r for r in rules if get(r, "status") != "Disabled"]


def _rule_id(rule: Any, index: int) -> str:
    rule_id = get(rule, "id")
    return f"rule {rule_id}" if isinstance(rule_id, str) and rule_id else f"rule #{index + 1}"


RuleCheck = Callable[[Res, Any, Mapping[str, Any]], "list[str] | Any"]


def _each_rule(rule_check: RuleCheck) -> Callable[[Res, Mapping[str, Any], Findings], None]:
    """A check applying ``rule_check`` to every enabled replication rule."""

    def check(config: Res, cfg: Mapping[str, Any], out: Findings) -> None:
        rules = config.items("rules")
        if rules is UNKNOWN:
            out.unknown(config, "rules")
            return
        enabled = _rules(config)
        if not enabled:
            out.fail(f"{config.name}: no enabled replication rule")
            return
        for index, rule in enumerate(enabled):
            result = rule_check(config, rule, cfg)
            if result is UNKNOWN:
                out.unknown(config, _rule_id(rule, index))
            elif result:
                out.fail(f"{config.name} {_rule_id(rule, index)}: " + "; ".join(result))

    return check


def _rtc(_config: Res, rule: Any, _cfg: Mapping[str, Any]) -> list[str] | Any:
    rtc = get(rule, "destination", "replicationTime")
    metrics = get(rule, "destination", "metrics")
    if rtc is UNKNOWN or metrics is UNKNOWN:
        return UNKNOWN
    problems = []
    minutes = num(get(rtc, "time", "minutes"))
    if not is_enabled(get(rtc, "status")) or minutes != RTC_MINUTES:
        problems.append("Replication Time Control is not enabled at 15 minutes")
    threshold = num(get(metrics, "eventThreshold", "minutes"))
    if not is_enabled(get(metrics, "status")) or threshold != RTC_MINUTES:
        problems.append("replication metrics are not enabled at 15 minutes (RTC needs them)")
    return problems


def _delete_markers(_config: Res, rule: Any, _cfg: Mapping[str, Any]) -> list[str] | Any:
    status = get(rule, "deleteMarkerReplication", "status")
    if status is UNKNOWN:
        return UNKNOWN
    problems = []
    if not is_enabled(status):
        problems.append("delete markers are not replicated")
    if get(rule, "filter") is None:
        problems.append("no filter (S3 requires one with deleteMarkerReplication)")
    return problems


def _replica_sync(_config: Res, rule: Any, _cfg: Mapping[str, Any]) -> list[str] | Any:
    status = get(rule, "sourceSelectionCriteria", "replicaModifications", "status")
    if status is UNKNOWN:
        return UNKNOWN
    return [] if is_enabled(status) else ["replica modification sync is not enabled"]


def _replica_kms(config: Res, rule: Any, cfg: Mapping[str, Any]) -> list[str] | Any:
    sse_objects = get(rule, "sourceSelectionCriteria", "sseKmsEncryptedObjects", "status")
    key = get(rule, "destination", "encryptionConfiguration", "replicaKmsKeyId")
    source_region = config.region
    if UNKNOWN in (sse_objects, key, source_region):
        return UNKNOWN
    problems = []
    if not is_enabled(sse_objects):
        problems.append("SSE-KMS objects are not selected for replication")
    key_region = arn_region(key)
    if key is None:
        problems.append("no replicaKmsKeyId: replicas would not be encrypted with a CMK")
    elif key_region is None:
        problems.append(f"replicaKmsKeyId {key} is not a key ARN with a region")
    elif key_region == source_region:
        problems.append(
            f"replicaKmsKeyId is in {key_region}, the source region; "
            "the replica key must be in the destination region"
        )
    elif key_region not in cfg.get("allowedRegions", []):
        problems.append(f"replicaKmsKeyId is in {key_region}, not an allowed region")
    return problems


# --------------------------------------------------------------------------------------------
# Lifecycle limits (resource level)
# --------------------------------------------------------------------------------------------


def _transition_days(rule: Any, key: str, days_key: str) -> list[tuple[str, float]]:
    found = []
    transitions = items(rule, key)
    for t in transitions if transitions is not UNKNOWN else []:
        days = num(get(t, days_key))
        if days is not None and isinstance(get(t, "storageClass"), str):
            found.append((get(t, "storageClass"), days))
    return found


def lifecycle_rule_problems(rule: Any) -> list[str]:
    """What S3 would reject in one lifecycle rule at apply."""
    problems = []
    for key, days_key, what in (
        ("transitions", "days", "objects"),
        ("noncurrentVersionTransitions", "noncurrentDays", "noncurrent versions"),
    ):
        moves = _transition_days(rule, key, days_key)
        for storage_class, days in moves:
            if storage_class in IA_CLASSES and days < LIFECYCLE_MIN_DAYS:
                problems.append(
                    f"{what} move to {storage_class} after {fmt(days)} days "
                    f"(S3 needs at least {fmt(LIFECYCLE_MIN_DAYS)})"
                )
        ia_days = [d for c, d in moves if c in IA_CLASSES]
        for storage_class, days in moves:
            if storage_class in ARCHIVE_CLASSES and ia_days and days < max(ia_days) + 30:
                problems.append(
                    f"{what} move to {storage_class} {fmt(days - max(ia_days))} days after "
                    "Standard-IA (S3 needs at least 30)"
                )
    expire = num(get(rule, "expiration", "days"))
    latest = max((d for _, d in _transition_days(rule, "transitions", "days")), default=None)
    if expire is not None and latest is not None and expire <= latest:
        problems.append(
            f"objects expire after {fmt(expire)} days, not after their last transition "
            f"({fmt(latest)} days)"
        )
    return problems


def _check_lifecycle(config: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    rules = config.items("rules")
    if rules is UNKNOWN:
        out.unknown(config, "rules")
        return
    for index, rule in enumerate(rules):
        problems = lifecycle_rule_problems(rule)
        if problems:
            out.fail(f"{config.name} {_rule_id(rule, index)}: " + "; ".join(problems))


# --------------------------------------------------------------------------------------------
# The policies
# --------------------------------------------------------------------------------------------

POLICIES = [
    stack_policy(
        Meta(
            "reskflow-s3-sse-kms-cmk",
            "Every S3 bucket encrypts objects with SSE-KMS under a customer managed key.",
            "Add a BucketServerSideEncryptionConfiguration for the bucket with sseAlgorithm "
            "aws:kms and kmsMasterKeyId set to the region's CMK ARN (bucketKeyEnabled: true).",
            "encryption",
        ),
        _check_sse,
    ),
    stack_policy(
        Meta(
            "reskflow-s3-tls-only",
            "Every S3 bucket has a bucket policy denying requests that are not over TLS.",
            "Add to the bucket's BucketPolicy a statement: Effect Deny, Principal *, Action s3:*, "
            'Resource the bucket and bucket/*, Condition {"Bool": {"aws:SecureTransport": '
            '"false"}}.',
            "encryption",
        ),
        _check_tls,
    ),
    stack_policy(
        Meta(
            "reskflow-s3-public-access-block",
            "Every S3 bucket has all four public access block settings on.",
            "Add a BucketPublicAccessBlock for the bucket with blockPublicAcls, "
            "blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true.",
            "encryption",
        ),
        _check_pab,
    ),
    stack_policy(
        Meta(
            "reskflow-s3-versioning",
            "Every S3 bucket has versioning enabled.",
            "Add a BucketVersioning for the bucket with versioningConfiguration.status Enabled.",
            "data-safety",
            severity=Severity.CRITICAL,
        ),
        _check_versioning,
    ),
    stack_policy(
        Meta(
            "reskflow-s3-replication-versioning",
            "Both ends of every S3 replication rule are versioned buckets.",
            "Enable versioning (BucketVersioning status Enabled) on the source bucket and on the "
            "destination bucket, and make the replication config depend on both.",
            "data-safety",
            severity=Severity.CRITICAL,
        ),
        _check_replication_versioning,
    ),
    resource_policy(
        Meta(
            "reskflow-s3-replication-rtc",
            "S3 replication rules use Replication Time Control (15 minutes) with metrics.",
            "In each replication rule's destination set replicationTime {status: Enabled, time: "
            "{minutes: 15}} and metrics {status: Enabled, eventThreshold: {minutes: 15}}.",
            "data-safety",
        ),
        [BUCKET_REPLICATION],
        _each_rule(_rtc),
    ),
    resource_policy(
        Meta(
            "reskflow-s3-replication-delete-markers",
            "S3 replication rules replicate delete markers.",
            "Set deleteMarkerReplication {status: Enabled} and a filter (an empty filter {} "
            "selects every object) in each replication rule.",
            "data-safety",
        ),
        [BUCKET_REPLICATION],
        _each_rule(_delete_markers),
    ),
    resource_policy(
        Meta(
            "reskflow-s3-replication-replica-sync",
            "Two-way S3 replication rules sync replica modifications.",
            "Set sourceSelectionCriteria.replicaModifications {status: Enabled} in each rule, "
            "so metadata changes made on a replica flow back after a failover.",
            "data-safety",
        ),
        [BUCKET_REPLICATION],
        _each_rule(_replica_sync),
    ),
    resource_policy(
        Meta(
            "reskflow-s3-replication-kms",
            "S3 replication copies SSE-KMS objects and encrypts replicas with a key in the "
            "destination region.",
            "Set sourceSelectionCriteria.sseKmsEncryptedObjects {status: Enabled} and "
            "destination.encryptionConfiguration.replicaKmsKeyId to the ARN of the replica key "
            "in the destination region (S3 treats multi-Region keys as single-Region keys).",
            "encryption",
            schema=ALLOWED_REGIONS_SCHEMA,
        ),
        [BUCKET_REPLICATION],
        _each_rule(_replica_kms),
    ),
    resource_policy(
        Meta(
            "reskflow-s3-lifecycle-limits",
            "S3 lifecycle rules respect the minimum days S3 enforces at apply.",
            "Move objects to STANDARD_IA/ONEZONE_IA no earlier than 30 days, to a Glacier class "
            "at least 30 days after Standard-IA, and expire them after the last transition; for "
            "shorter lives, write objects in their tier at upload and only expire them.",
            "deployability",
            severity=Severity.MEDIUM,
        ),
        [BUCKET_LIFECYCLE],
        _check_lifecycle,
    ),
]
