"""AWS Backup: vault, lock, plan rules and copies, selection, restore testing, audit framework."""

from __future__ import annotations

from typing import Any

import pytest

from infra.settings import ConfigError
from reskflow_dr.cli import main
from reskflow_dr.engine import Plan
from reskflow_dr.preview import preview
from tests.conftest import ROLE_OVERRIDES, PlanOf, named, policy_doc

ACCOUNT = "123456789012"
PEER = {"prod": "us-west-2", "dr": "us-east-1"}
REGION = {"prod": "us-east-1", "dr": "us-west-2"}


def vault_arn(region: str) -> str:
    return f"arn:aws:backup:{region}:{ACCOUNT}:backup-vault:reskflow-dr-{region}"


def airgapped_arn(region: str) -> str:
    return f"arn:aws:backup:{region}:{ACCOUNT}:backup-vault:reskflow-dr-{region}-airgapped"


def copies(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"destinationVaultArn": a, "lifecycle": {"deleteAfter": d}} for a, d in pairs]


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    return {stack: preview(stack) for stack in ("prod", "dr")}


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_vault_is_encrypted_with_the_regional_key_protected_and_retained(
    plans: dict[str, Plan], stack: str
) -> None:
    (vault,) = plans[stack].of_type("aws:backup/vault:Vault")
    key_id = plans[stack].outputs["kmsKeyId"]
    assert vault.name == "backup-vault"
    assert vault.inputs == {
        "name": f"reskflow-dr-{REGION[stack]}",
        "kmsKeyArn": f"arn:aws:kms:{REGION[stack]}:{ACCOUNT}:key/{key_id}",
        "forceDestroy": False,
    }
    assert vault.options["protect"] is True
    assert vault.options["retainOnDelete"] is True
    assert plans[stack].outputs["backupVaultArn"] == vault_arn(REGION[stack])


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_plan_rules_schedules_retentions_and_peer_copies(
    plans: dict[str, Plan], stack: str
) -> None:
    plan = named(plans[stack], "backup-plan")
    rules = {r["ruleName"]: r for r in plan.inputs["rules"]}
    common = {
        "targetVaultName": f"reskflow-dr-{REGION[stack]}",
        "scheduleExpressionTimezone": "Etc/UTC",
        "startWindow": 60,
        "completionWindow": 480,
    }
    peer_vault, isolated = vault_arn(PEER[stack]), airgapped_arn(REGION[stack])
    assert rules == {
        "continuous": {
            **common,
            "ruleName": "continuous",
            "schedule": "cron(0 3 ? * * *)",
            "enableContinuousBackup": True,
            # AWS Backup applies this to the instance's automated backups: the engine's 7 days.
            "lifecycle": {"deleteAfter": 7},
        },
        "daily": {
            **common,
            "ruleName": "daily",
            "schedule": "cron(0 5 ? * * *)",
            "enableContinuousBackup": False,
            "lifecycle": {"deleteAfter": 7},
            "copyActions": copies((peer_vault, 7), (isolated, 7)),
        },
        "weekly": {
            **common,
            "ruleName": "weekly",
            "schedule": "cron(0 5 ? * SUN *)",
            "enableContinuousBackup": False,
            "lifecycle": {"deleteAfter": 28},
            "copyActions": copies((peer_vault, 28), (isolated, 28)),
        },
    }


def test_no_rule_or_copy_uses_cold_storage(plans: dict[str, Plan]) -> None:
    for plan in plans.values():
        for rule in named(plan, "backup-plan").inputs["rules"]:
            lifecycles = [rule["lifecycle"]] + [c["lifecycle"] for c in rule.get("copyActions", [])]
            assert all("coldStorageAfter" not in lc for lc in lifecycles), rule["ruleName"]


def test_retentions_and_copy_retentions_come_from_config(plan_of: PlanOf) -> None:
    plan = plan_of("prod", "reskflow:backup={dailyDays: 10, weeklyCopyDays: 35}")
    rules = {r["ruleName"]: r for r in named(plan, "backup-plan").inputs["rules"]}
    assert rules["daily"]["lifecycle"] == {"deleteAfter": 10}
    assert rules["daily"]["copyActions"][0]["lifecycle"] == {"deleteAfter": 7}
    assert rules["weekly"]["copyActions"][0]["lifecycle"] == {"deleteAfter": 35}


def test_only_the_isolated_copy_before_the_peer_vault_exists(plan_of: PlanOf) -> None:
    plan = plan_of("prod", "reskflow:peerDeployed=false")
    rules = {r["ruleName"]: r for r in named(plan, "backup-plan").inputs["rules"]}
    assert list(rules) == ["continuous", "daily", "weekly"]
    assert "copyActions" not in rules["continuous"]
    assert rules["daily"]["copyActions"] == copies((airgapped_arn("us-east-1"), 7))
    assert rules["weekly"]["copyActions"] == copies((airgapped_arn("us-east-1"), 28))


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_selection_picks_every_tagged_data_store(plans: dict[str, Plan], stack: str) -> None:
    selection = named(plans[stack], "backup-selection")
    assert selection.inputs["selectionTags"] == [
        {"type": "STRINGEQUALS", "key": "reskflow:backup", "value": "dr"}
    ]
    assert "resources" not in selection.inputs
    role = f"arn:aws:iam::{ACCOUNT}:role/reskflow-dr-backup-{REGION[stack]}"
    assert selection.inputs["iamRoleArn"] == role
    attachments = {
        r.urn for r in plans[stack].of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    }
    assert set(selection.options["dependsOn"]) == attachments


def test_backup_role_trusts_only_aws_backup_with_its_managed_policies(
    plans: dict[str, Plan],
) -> None:
    role = named(plans["prod"], "backup-role")
    assert role.inputs["name"] == "reskflow-dr-backup-us-east-1"
    assert policy_doc(role, "assumeRolePolicy")["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "backup.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    attached = {
        r.inputs["policyArn"]
        for r in plans["prod"].of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    }
    assert attached == {
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
        "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
        "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
    }


def test_vault_policy_denies_manual_deletion_to_everyone(plans: dict[str, Plan]) -> None:
    policy = named(plans["dr"], "backup-vault-policy")
    assert policy.inputs["backupVaultName"] == "reskflow-dr-us-west-2"
    assert policy_doc(policy)["Statement"] == [
        {
            "Sid": "DenyManualDeletionOfRecoveryPoints",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": [
                "backup:DeleteRecoveryPoint",
                "backup:UpdateRecoveryPointLifecycle",
                "backup:PutBackupVaultAccessPolicy",
            ],
            "Resource": vault_arn("us-west-2"),
        }
    ]


def test_default_lock_is_governance_and_never_compliance(plans: dict[str, Plan]) -> None:
    for plan in plans.values():
        lock = named(plan, "backup-vault-lock")
        assert lock.inputs == {
            "backupVaultName": lock.inputs["backupVaultName"],
            "minRetentionDays": 1,
            "maxRetentionDays": 35,
        }
        assert lock.options["protect"] is False
        assert not plan.diagnostics


def test_compliance_lock_is_explicit_protected_and_warned(plan_of: PlanOf) -> None:
    plan = plan_of(
        "prod", "reskflow:vaultLock={mode: compliance, changeableForDays: 7, maxRetentionDays: 60}"
    )
    lock = named(plan, "backup-vault-lock")
    assert lock.inputs == {
        "backupVaultName": "reskflow-dr-us-east-1",
        "minRetentionDays": 1,
        "maxRetentionDays": 60,
        "changeableForDays": 7,
    }
    assert lock.options["protect"] is True
    assert lock.options["retainOnDelete"] is True
    assert any("compliance lock becomes immutable 7 days" in d for d in plan.diagnostics)


def test_unlocked_vault_has_no_lock_and_lock_control_has_no_parameters(plan_of: PlanOf) -> None:
    plan = plan_of("dr", "reskflow:vaultLock={mode: none}")
    assert not plan.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration")
    controls = {c["name"]: c for c in named(plan, "backup-framework").inputs["controls"]}
    assert "inputParameters" not in controls["BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK"]


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_daily_restore_test_of_a_random_recovery_point(plans: dict[str, Plan], stack: str) -> None:
    testing = named(plans[stack], "backup-restore-test")
    assert testing.inputs == {
        "name": "reskflow_dr_daily_restore_test",
        "scheduleExpression": "cron(0 1 ? * * *)",
        "scheduleExpressionTimezone": "Etc/UTC",
        "startWindowHours": 1,
        "recoveryPointSelection": {
            "algorithm": "RANDOM_WITHIN_WINDOW",
            "includeVaults": [vault_arn(REGION[stack])],
            "recoveryPointTypes": ["CONTINUOUS", "SNAPSHOT"],
            "selectionWindowDays": 7,
        },
        "tags": {},
    }
    selections = plans[stack].of_type("aws:backup/restoreTestingSelection:RestoreTestingSelection")
    assert {s.inputs["protectedResourceType"]: s.inputs["name"] for s in selections} == {
        "RDS": "rds_tagged",
        "DocumentDB": "documentdb_tagged",
        "S3": "s3_tagged",
    }
    for s in selections:
        assert s.inputs["protectedResourceArns"] == ["*"]
        assert s.inputs["protectedResourceConditions"] == {
            "stringEquals": [{"key": "aws:ResourceTag/reskflow:backup", "value": "dr"}]
        }
        assert s.inputs["restoreTestingPlanName"] == "reskflow_dr_daily_restore_test"


def _controls(plan: Plan) -> dict[str, dict[str, Any]]:
    framework = named(plan, "backup-framework")
    return {
        c["name"]: {
            "params": {p["name"]: p["value"] for p in c.get("inputParameters", [])},
            "scope": c.get("scope"),
        }
        for c in framework.inputs["controls"]
    }


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_audit_framework_controls_and_parameters(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    plan_id = named(plan, "backup-selection").inputs["planId"]
    tagged = {"tags": {"reskflow:backup": "dr"}}
    assert named(plan, "backup-framework").inputs["name"] == (
        "reskflow_dr_" + REGION[stack].replace("-", "_")
    )
    assert _controls(plan) == {
        "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK": {
            "params": {
                "requiredFrequencyUnit": "days",
                "requiredFrequencyValue": "1",
                "requiredRetentionDays": "7",
            },
            "scope": {
                "complianceResourceIds": [plan_id],
                "complianceResourceTypes": ["AWS::Backup::BackupPlan"],
            },
        },
        "BACKUP_RECOVERY_POINT_ENCRYPTED": {"params": {}, "scope": None},
        "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED": {
            "params": {},
            "scope": {
                "complianceResourceIds": [f"reskflow-dr-{REGION[stack]}"],
                "complianceResourceTypes": ["AWS::Backup::BackupVault"],
            },
        },
        "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION": {
            "params": {"crossRegionList": PEER[stack]},
            "scope": tagged,
        },
        "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK": {
            "params": {"minRetentionDays": "1", "maxRetentionDays": "35"},
            "scope": tagged,
        },
        "BACKUP_LAST_RECOVERY_POINT_CREATED": {
            "params": {"recoveryPointAgeUnit": "hours", "recoveryPointAgeValue": "25"},
            "scope": tagged,
        },
        "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET": {
            "params": {"maxRestoreTime": "15"},
            "scope": tagged,
        },
    }


def _backup_inputs(plan: Plan) -> dict[str, Any]:
    return {r.name: r.inputs for r in plan.resources if r.type.startswith("aws:backup/")}


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_role_switch_changes_nothing_in_backups(
    plans: dict[str, Plan], plan_of: PlanOf, stack: str
) -> None:
    other = "passive" if stack == "prod" else "active"
    switched = plan_of(stack, *ROLE_OVERRIDES[stack, other])
    assert _backup_inputs(switched) == _backup_inputs(plans[stack])


BAD_BACKUP_CONFIG = [
    ("reskflow:backup={dailyDays: 6}", "reskflow:backup.dailyDays = 6", "from 7 to"),
    ("reskflow:backup={weeklyDays: 21}", "reskflow:backup.weeklyDays = 21", "from 28 to"),
    ("reskflow:backup={dailyCopyDays: 1}", "reskflow:backup.dailyCopyDays = 1", "from 7 to"),
    ("reskflow:backup={weeklyCopyDays: 27}", "reskflow:backup.weeklyCopyDays = 27", "from 28"),
    ("reskflow:backup={continuousDays: 0}", "reskflow:backup.continuousDays = 0", "from 1 to 35"),
    ("reskflow:backup={continuousDays: 36}", "continuousDays = 36", "from 1 to 35"),
    ("reskflow:backup={copyRegion: us-east-1}", 'copyRegion = "us-east-1"', "not offsite"),
    ("reskflow:backup={copyRegion: eu-west-1}", 'copyRegion = "eu-west-1"', "us-west-2"),
    ("reskflow:backup={weekly: 28}", "reskflow:backup.weekly = 28", "weeklyDays"),
    (
        "reskflow:vaultLock={minRetentionDays: 30, maxRetentionDays: 20}",
        "reskflow:vaultLock.minRetentionDays = 30",
        "must not exceed maxRetentionDays (20)",
    ),
    ("reskflow:vaultLock={minRetentionDays: 8}", "minRetentionDays = 8", "at most 7"),
    (
        "reskflow:backup={continuousDays: 6}",
        "reskflow:backup.continuousDays = 6",
        "at least 7 (postgres.backupRetentionDays)",
    ),
    ("reskflow:vaultLock={maxRetentionDays: 27}", "maxRetentionDays = 27", "at least 28"),
    ("reskflow:vaultLock={mode: compliance}", "changeableForDays = (not set)", "3 to 365"),
    (
        "reskflow:vaultLock={mode: compliance, changeableForDays: 2}",
        "changeableForDays = 2",
        "3 to 365",
    ),
    (
        "reskflow:vaultLock={mode: compliance, changeableForDays: 366}",
        "changeableForDays = 366",
        "3 to 365",
    ),
    (
        "reskflow:vaultLock={mode: governance, changeableForDays: 7}",
        "changeableForDays = 7",
        "only a compliance lock",
    ),
    ("reskflow:vaultLock={mode: legal-hold}", 'mode = "legal-hold"', "compliance, governance"),
]


@pytest.mark.parametrize(("override", "named_value", "allowed"), BAD_BACKUP_CONFIG)
def test_bad_backup_config_is_one_config_error(
    override: str, named_value: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as err:
        preview("prod", [override])
    message = str(err.value)
    assert "\n" not in message
    assert named_value in message
    assert allowed in message


def test_bad_backup_config_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["preview", "prod", "--quiet", "--set", "reskflow:backup={dailyDays: 3}"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("reskflow-dr: config error: reskflow:backup.dailyDays = 3:")
