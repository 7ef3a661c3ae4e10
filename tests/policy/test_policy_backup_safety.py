"""Backup-safety policies: the fixtures they pass (a copy to another account is isolated; the
real plans of both stacks), and mutations of the real plans they flag."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reskflow_dr.preview import preview

from .backup_safety_cases import (
    ISOLATED,
    NO_ISOLATED,
    OBJECT_LOCK,
    REPLICA,
    RETENTION,
    copy_to_other_account_instead,
)
from .builders import reference_plan
from .conftest import Evaluate, flagged

POLICIES = (RETENTION, REPLICA, ISOLATED, OBJECT_LOCK, "reskflow-backup-continuous-covers-engine")


def test_a_copy_to_another_accounts_vault_is_an_isolated_copy(evaluate: Evaluate) -> None:
    plan = reference_plan("prod")
    copy_to_other_account_instead(plan)
    assert flagged(evaluate(plan), ISOLATED) == {}


@pytest.fixture(scope="module")
def real_plans() -> dict[str, dict[str, Any]]:
    return {s: json.loads(json.dumps(preview(s).to_json())) for s in ("prod", "dr")}


def _find(plan: dict[str, Any], type_: str, name: str) -> dict[str, Any]:
    found = [r for r in plan["resources"] if r["type"] == type_ and r["name"] == name]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_the_real_plans_pass_every_backup_safety_policy(
    evaluate: Evaluate, real_plans: dict[str, dict[str, Any]], stack: str
) -> None:
    verdicts = evaluate(real_plans[stack])
    assert [v for v in verdicts if v.policy in POLICIES] == []


def test_real_plan_mutations_are_flagged(
    evaluate: Evaluate, real_plans: dict[str, dict[str, Any]]
) -> None:
    prod = json.loads(json.dumps(real_plans["prod"]))
    db = _find(prod, "aws:rds/instance:Instance", "postgres-g1")
    db["inputs"]["backupRetentionPeriod"] = 3
    plan = _find(prod, "aws:backup/plan:Plan", "backup-plan")
    for rule in plan["inputs"]["rules"]:
        rule["copyActions"] = [
            c for c in rule.get("copyActions", []) if "airgapped" not in c["destinationVaultArn"]
        ]
    prod["resources"] = [
        r
        for r in prod["resources"]
        if r["type"] != "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
    ]
    verdicts = evaluate(prod)
    assert flagged(verdicts, RETENTION) == {
        "postgres-g1": ["postgres-g1: backupRetentionPeriod is 3 days, below the 7-day minimum"]
    }
    assert flagged(verdicts, ISOLATED) == {
        "backup-plan": [
            f"Plan backup-plan rule daily: {NO_ISOLATED}",
            f"Plan backup-plan rule weekly: {NO_ISOLATED}",
        ]
    }
    assert flagged(verdicts, OBJECT_LOCK) == {
        "s3-backups": ["Backup bucket s3-backups has no Object Lock"]
    }


def test_real_dr_replica_with_the_backup_tag_is_flagged(
    evaluate: Evaluate, real_plans: dict[str, dict[str, Any]]
) -> None:
    dr = json.loads(json.dumps(real_plans["dr"]))
    replica = _find(dr, "aws:rds/instance:Instance", "postgres-g2")
    assert replica["inputs"]["tags"]["reskflow:backup"] == "replica-excluded"
    replica["inputs"]["tags"]["reskflow:backup"] = "dr"
    assert flagged(evaluate(dr), REPLICA) == {
        "postgres-g2": [
            "postgres-g2 is a read replica but carries the backup selection tag "
            "reskflow:backup=dr: AWS Backup would back it up (and own its automated backups)"
        ]
    }
