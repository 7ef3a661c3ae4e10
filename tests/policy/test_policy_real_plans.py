"""The real program's offline plans through the pack (runs where the program is present)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reskflow_dr.policy_runner import has_mandatory_violation

from .builders import key_arn
from .conftest import Evaluate, flagged

preview = pytest.importorskip("reskflow_dr.preview", reason="the program's offline preview")

STACKS = ("prod", "dr")
MISSING_BACKUP = "missing leg: recovery points in a local AWS Backup vault"


@pytest.fixture(scope="module")
def real_plans() -> dict[str, dict[str, Any]]:
    return {stack: preview.preview(stack).to_json() for stack in STACKS}


def fresh(real_plans: dict[str, dict[str, Any]], stack: str) -> dict[str, Any]:
    import copy

    return copy.deepcopy(real_plans[stack])


def first(plan: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(r for r in plan["resources"] if r["type"] == type_)


@pytest.mark.parametrize("stack", STACKS)
def test_real_plan_passes_every_mandatory_policy(
    evaluate: Evaluate, real_plans: dict[str, dict[str, Any]], stack: str
) -> None:
    plan = real_plans[stack]
    mandatory = [v for v in evaluate(plan) if v.enforcement == "mandatory"]
    if any(r["type"] == "aws:backup/plan:Plan" for r in plan["resources"]):
        assert mandatory == []
    else:
        # Until AWS Backup lands, a bucket is production + replica: two copies on one medium.
        assert {v.policy for v in mandatory} <= {"reskflow-3-2-1"}
        assert all(MISSING_BACKUP in v.message for v in mandatory)


def _drop_encryption(plan: dict[str, Any]) -> str:
    sse = first(
        plan,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    plan["resources"].remove(sse)
    bucket = next(
        r
        for r in plan["resources"]
        if r["type"] == "aws:s3/bucket:Bucket" and r["inputs"]["bucket"] == sse["inputs"]["bucket"]
    )
    return str(bucket["name"])


def _unprotect(plan: dict[str, Any]) -> str:
    bucket = first(plan, "aws:s3/bucket:Bucket")
    bucket["options"]["protect"] = False
    return str(bucket["name"])


def _drop_rtc(plan: dict[str, Any]) -> str:
    config = first(plan, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    config["inputs"]["rules"][0]["destination"].pop("replicationTime")
    return str(config["name"])


def _replica_key_in_source_region(plan: dict[str, Any]) -> str:
    config = first(plan, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    encryption = config["inputs"]["rules"][0]["destination"]["encryptionConfiguration"]
    encryption["replicaKmsKeyId"] = key_arn(config["region"])
    return str(config["name"])


MUTATIONS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "encryption": ("reskflow-s3-sse-kms-cmk", _drop_encryption),
    "protect": ("reskflow-data-protected", _unprotect),
    "rtc": ("reskflow-s3-replication-rtc", _drop_rtc),
    "replica-key": ("reskflow-s3-replication-kms", _replica_key_in_source_region),
}


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_removing_a_protection_from_the_real_plan_fires_the_right_policy(
    evaluate: Evaluate, real_plans: dict[str, dict[str, Any]], stack: str, mutation: str
) -> None:
    policy, mutate = MUTATIONS[mutation]
    plan = fresh(real_plans, stack)
    name = mutate(plan)
    verdicts = evaluate(plan)
    assert list(flagged(verdicts, policy)) == [name]
    assert has_mandatory_violation(verdicts)
