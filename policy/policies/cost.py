"""Cost notes: objects kept in a storage class for less than its minimum billable duration.

Short-lived tiered objects are written in their tier at upload (the bucket policy refuses any
other class) and expire soon after; S3 still bills each for the class's minimum duration. The
note gives the multiplier: minimum billable days / days kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    BUCKET,
    BUCKET_LIFECYCLE,
    BUCKET_POLICY,
    UNKNOWN,
    Findings,
    Level,
    Meta,
    Res,
    Stack,
    as_list,
    fmt,
    get,
    items,
    json_document,
    num,
    stack_policy,
)

#: Minimum billable storage duration per S3 storage class, in days (AWS pricing).
MIN_BILLABLE_DAYS: dict[str, float] = {
    "STANDARD_IA": 30.0,
    "ONEZONE_IA": 30.0,
    "GLACIER_IR": 90.0,
    "GLACIER": 90.0,
    "DEEP_ARCHIVE": 180.0,
}

_WRITE_ACTIONS = ("s3:PutObject", "s3:*", "*")


def write_classes(document: Any, bucket_name: Any) -> list[tuple[str, str]]:
    """(prefix, storage class) pairs a bucket policy forces on uploads.

    A Deny on s3:PutObject with ``StringNotEquals {"s3:x-amz-storage-class": CLASS}`` over
    ``arn:aws:s3:::BUCKET/PREFIX*`` means objects under PREFIX are written as CLASS.
    """
    found = []
    for statement in as_list(get(document, "Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Deny":
            continue
        if not any(a in _WRITE_ACTIONS for a in as_list(statement.get("Action"))):
            continue
        allowed = as_list(get(statement, "Condition", "StringNotEquals", "s3:x-amz-storage-class"))
        if len(allowed) != 1:
            continue
        for resource in as_list(statement.get("Resource")):
            head = f"arn:aws:s3:::{bucket_name}/" if isinstance(bucket_name, str) else None
            if (
                isinstance(resource, str)
                and "/" in resource
                and (head is None or resource.startswith(head))
            ):
                found.append((resource.split("/", 1)[1].rstrip("*"), str(allowed[0])))
    return found


def _rule_prefix(rule: Any) -> str:
    for path in (("filter", "prefix"), ("filter", "and", "prefix"), ("prefix",)):
        value = get(rule, *path)
        if isinstance(value, str):
            return value
    return ""


def _ratio(minimum: float, kept: float) -> str:
    return f"{fmt(minimum)}/{fmt(kept)} = {minimum / kept:.2f}x"


def _written_notes(bucket: Res, policies: list[Res], rules: list[Any], out: Findings) -> None:
    for policy in policies:
        document = json_document(policy.get("policy"))
        if document is UNKNOWN:
            out.unknown(policy, "policy document")
            continue
        for prefix, storage_class in write_classes(document, bucket.get("bucket")):
            minimum = MIN_BILLABLE_DAYS.get(storage_class)
            expiries = [
                num(get(r, "expiration", "days"))
                for r in rules
                if get(r, "status") != "Disabled" and prefix.startswith(_rule_prefix(r))
            ]
            kept = min((d for d in expiries if d is not None), default=None)
            if minimum is not None and kept is not None and 0 < kept < minimum:
                out.fail(
                    f"bucket {bucket.name}: objects under {prefix or '/'} are written as "
                    f"{storage_class} and expire after {fmt(kept)} days, but {storage_class} "
                    f"bills at least {fmt(minimum)} days ({_ratio(minimum, kept)})",
                    bucket,
                )


def _transition_notes(bucket: Res, rules: list[Any], out: Findings) -> None:
    for rule in rules:
        expire = num(get(rule, "expiration", "days"))
        transitions = items(rule, "transitions")
        if expire is None or transitions is UNKNOWN:
            continue
        for transition in transitions:
            storage_class = get(transition, "storageClass")
            start = num(get(transition, "days"))
            minimum = (
                MIN_BILLABLE_DAYS.get(storage_class) if isinstance(storage_class, str) else None
            )
            if minimum is None or start is None or not 0 < expire - start < minimum:
                continue
            kept = expire - start
            out.fail(
                f"bucket {bucket.name}: rule {get(rule, 'id')} moves objects to {storage_class} "
                f"at day {fmt(start)} and expires them at day {fmt(expire)}, but "
                f"{storage_class} bills at least {fmt(minimum)} days ({_ratio(minimum, kept)})",
                bucket,
            )


def _check_minimum_duration(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    policies, _ = stack.companions(BUCKET_POLICY)
    lifecycles, unjoined = stack.companions(BUCKET_LIFECYCLE)
    for bucket in stack.of_type(BUCKET):
        rules: list[Any] = []
        for lifecycle in lifecycles.get(bucket.urn, []):
            found = lifecycle.items("rules")
            if found is UNKNOWN:
                out.unknown(lifecycle, "rules")
            else:
                rules.extend(found)
        if unjoined and not lifecycles.get(bucket.urn):
            out.unknown(bucket, "which lifecycle configuration applies (bucket unknown)")
        _written_notes(bucket, policies.get(bucket.urn, []), rules, out)
        _transition_notes(bucket, rules, out)


POLICIES = [
    stack_policy(
        Meta(
            "reskflow-cost-minimum-storage-duration",
            "Notes objects kept in an S3 storage class for less than its minimum billable "
            "duration.",
            "Nothing to change if the retention is a requirement (it is for daily and weekly "
            "backups); otherwise keep such objects in STANDARD or keep them at least the "
            "class's minimum (30 days IA, 90 days Glacier IR/Flexible, 180 days Deep Archive).",
            "cost-and-rpo-notes",
            level=Level.ADVISORY,
            severity=Severity.LOW,
        ),
        _check_minimum_duration,
    ),
]
