"""Backups that survive the account: the air-gapped vault (or another account's vault), replicas
left out of the selection, Object Lock on the dump buckets and the replication of locked
objects, and the config that drives them (bad values are one line, exit 2)."""

from __future__ import annotations

import pytest

from infra.settings import ConfigError
from reskflow_dr.cli import main
from reskflow_dr.engine import Plan
from reskflow_dr.preview import preview
from tests.conftest import ROLE_OVERRIDES, PlanOf, named, policy_doc

ACCOUNT = "123456789012"
OTHER = "210987654321"
REGION = {"prod": "us-east-1", "dr": "us-west-2"}
PEER = {"prod": "us-west-2", "dr": "us-east-1"}
LAG = "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    return {stack: preview(stack) for stack in ("prod", "dr")}


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_air_gapped_vault_keeps_the_isolated_copies_and_denies_deletion(
    plans: dict[str, Plan], stack: str
) -> None:
    region = REGION[stack]
    (vault,) = plans[stack].of_type(LAG)
    assert vault.name == "backup-airgapped"
    # No customer managed key: a key of the account it must survive could be scheduled for
    # deletion by whoever holds that account.
    assert vault.inputs == {
        "name": f"reskflow-dr-{region}-airgapped",
        "minRetentionDays": 7,
        "maxRetentionDays": 28,
        "tags": {},
    }
    assert (vault.options["protect"], vault.options["retainOnDelete"]) == (True, True)
    policy = named(plans[stack], "backup-airgapped-policy")
    assert policy.inputs["backupVaultName"] == f"reskflow-dr-{region}-airgapped"
    (statement,) = policy_doc(policy)["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == {"AWS": "*"}
    assert statement["Action"] == [
        "backup:DeleteRecoveryPoint",
        "backup:UpdateRecoveryPointLifecycle",
        "backup:PutBackupVaultAccessPolicy",
    ]
    assert statement["Resource"] == (
        f"arn:aws:backup:{region}:{ACCOUNT}:backup-vault:reskflow-dr-{region}-airgapped"
    )


def _copies(plan: Plan) -> dict[str, list[tuple[str, int]]]:
    rules = named(plan, "backup-plan").inputs["rules"]
    return {
        r["ruleName"]: [
            (c["destinationVaultArn"], c["lifecycle"]["deleteAfter"])
            for c in r.get("copyActions", [])
        ]
        for r in rules
    }


def test_isolated_copy_to_another_accounts_vault(plan_of: PlanOf) -> None:
    vault = f"arn:aws:backup:us-east-1:{OTHER}:backup-vault:reskflow-isolated"
    plan = plan_of(
        "prod",
        f"reskflow:isolatedCopy={{mode: account, accountId: '{OTHER}', vaultArn: '{vault}', "
        "weeklyDays: 90}",
    )
    assert plan.of_type(LAG) == []
    peer = f"arn:aws:backup:us-west-2:{ACCOUNT}:backup-vault:reskflow-dr-us-west-2"
    assert _copies(plan) == {
        "continuous": [],
        "daily": [(peer, 7), (vault, 7)],
        "weekly": [(peer, 28), (vault, 90)],
    }


def test_no_isolated_copy_is_warned(plan_of: PlanOf) -> None:
    plan = plan_of("dr", "reskflow:isolatedCopy={mode: none}")
    assert plan.of_type(LAG) == []
    peer = f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:reskflow-dr-us-east-1"
    assert _copies(plan) == {"continuous": [], "daily": [(peer, 7)], "weekly": [(peer, 28)]}
    assert any("isolatedCopy.mode is none" in d for d in plan.diagnostics)


def _postgres_tags(plan: Plan) -> dict[str, str]:
    return {
        r.name: r.inputs["tags"]["reskflow:backup"]
        for r in plan.of_type("aws:rds/instance:Instance")
    }


def test_the_replica_is_never_selected_and_promotion_selects_it(
    plans: dict[str, Plan], plan_of: PlanOf
) -> None:
    selection = named(plans["dr"], "backup-selection")
    assert selection.inputs["selectionTags"] == [
        {"type": "STRINGEQUALS", "key": "reskflow:backup", "value": "dr"}
    ]
    assert _postgres_tags(plans["prod"]) == {"postgres-g1": "dr"}
    assert _postgres_tags(plans["dr"]) == {"postgres-g2": "replica-excluded"}
    promoted = plan_of("dr", *ROLE_OVERRIDES["dr", "active"])
    assert _postgres_tags(promoted) == {"postgres-g2": "dr"}
    demoted = plan_of("prod", *ROLE_OVERRIDES["prod", "passive"])
    # The old primary (retained, fenced) keeps its backups; the new replica generation does not.
    assert _postgres_tags(demoted) == {"postgres-g1": "dr", "postgres-g3": "replica-excluded"}


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_only_the_dump_bucket_has_object_lock_in_both_regions(
    plans: dict[str, Plan], stack: str
) -> None:
    (lock,) = plans[stack].of_type(OBJECT_LOCK)
    assert lock.name == "s3-backups-object-lock"
    assert lock.inputs == {
        "bucket": f"reskflow-{ACCOUNT}-backups-{REGION[stack]}",
        "objectLockEnabled": "Enabled",
        "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 7}},
    }
    assert (lock.options["protect"], lock.options["retainOnDelete"]) == (True, True)
    versioning = named(plans[stack], "s3-backups-versioning")
    assert versioning.urn in lock.options["dependsOn"]
    # Enabling it must not replace the bucket: the bucket itself is unchanged.
    bucket = named(plans[stack], "s3-backups")
    assert "objectLockEnabled" not in bucket.inputs


def test_object_lock_mode_comes_from_config(plan_of: PlanOf) -> None:
    plan = plan_of("prod", "reskflow:backupObjectLock={mode: COMPLIANCE}")
    (lock,) = plan.of_type(OBJECT_LOCK)
    assert lock.inputs["rule"] == {"defaultRetention": {"mode": "COMPLIANCE", "days": 7}}


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_replication_role_reads_retention_and_legal_hold(
    plans: dict[str, Plan], stack: str
) -> None:
    doc = policy_doc(named(plans[stack], "s3-replication-policy"))
    read = next(s for s in doc["Statement"] if s["Sid"] == "ReadSourceVersions")
    assert read["Action"] == [
        "s3:GetObjectVersionForReplication",
        "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionTagging",
        "s3:GetObjectRetention",
        "s3:GetObjectLegalHold",
    ]


BAD = [
    (
        "reskflow:weeklyBackupStorageClass=GLACIER",
        'reskflow:weeklyBackupStorageClass = "GLACIER"',
        "does not replicate objects stored in GLACIER",
    ),
    (
        "reskflow:isolatedCopy={mode: tape}",
        'reskflow:isolatedCopy.mode = "tape"',
        "airGapped, account, none",
    ),
    ("reskflow:isolatedCopy={weeklyDays: 14}", "weeklyDays = 14", "from 28 to"),
    (
        "reskflow:isolatedCopy={mode: account}",
        "reskflow:isolatedCopy.accountId",
        "a 12-digit account id",
    ),
    (
        f"reskflow:isolatedCopy={{mode: account, accountId: '{ACCOUNT}', vaultArn: x}}",
        f'reskflow:isolatedCopy.accountId = "{ACCOUNT}"',
        "another account than the stack's own",
    ),
    (
        f"reskflow:isolatedCopy={{mode: account, accountId: '{OTHER}', vaultArn: "
        f"'arn:aws:backup:us-west-2:{OTHER}:backup-vault:isolated'}}",
        "reskflow:isolatedCopy.vaultArn",
        "in us-east-1 (the stack's region)",
    ),
    (
        f"reskflow:isolatedCopy={{accountId: '{OTHER}'}}",
        "reskflow:isolatedCopy.accountId",
        "only mode: account",
    ),
    (
        "reskflow:backupObjectLock={mode: LEGAL}",
        'reskflow:backupObjectLock.mode = "LEGAL"',
        "COMPLIANCE, GOVERNANCE",
    ),
]


@pytest.mark.parametrize(("override", "named_value", "allowed"), BAD)
def test_bad_config_is_one_config_error(override: str, named_value: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as err:
        preview("prod", [override])
    message = str(err.value)
    assert "\n" not in message
    assert named_value in message
    assert allowed in message


def test_glacier_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["preview", "prod", "--quiet", "--set", "reskflow:weeklyBackupStorageClass=GLACIER"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith(
        'reskflow-dr: config error: reskflow:weeklyBackupStorageClass = "GLACIER"'
    )
