"""AWS Backup for one region: a locked vault encrypted with the regional CMK, a plan whose snapshot
rules copy to the peer region's vault, a daily restore test, and an Audit Manager framework."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.common import data_bearing, policy_json, service_trust

#: AWS managed policies AWS Backup documents for its service role: backups and restores of every
#: supported service, plus S3, whose backup and restore policies are separate.
BACKUP_SERVICE_POLICIES: tuple[str, ...] = (
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
)

#: Actions the vault access policy denies to every principal: with them denied, recovery points
#: leave the vault only when their lifecycle expires (Audit Manager control
#: BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED checks exactly these three).
MANUAL_DELETION_ACTIONS: tuple[str, ...] = (
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    "backup:PutBackupVaultAccessPolicy",
)


#: Every store type of this program that AWS Backup restore testing can restore: PostgreSQL
#: (RDS), DocumentDB and the S3 buckets. ElastiCache is not an AWS Backup resource type.
#: https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RestoreTestingSelectionForCreate.html
RESTORE_TEST_TYPES: tuple[str, ...] = ("RDS", "DocumentDB", "S3")


@dataclass(frozen=True)
class VaultLock:
    """Vault Lock settings; ``changeable_for_days`` set = compliance mode (irreversible after)."""

    min_retention_days: int
    """Jobs with a shorter retention are refused by the vault."""
    max_retention_days: int
    """Jobs with a longer retention are refused by the vault."""
    changeable_for_days: int | None = None
    """Grace period of a compliance lock (3 days or more); ``None`` = governance mode."""


@dataclass(frozen=True)
class BackupVaultArgs:
    """Inputs of :class:`BackupVault`."""

    vault_name: str
    """Deterministic vault name, so the peer stack can derive this vault's ARN."""
    kms_key_arn: pulumi.Input[str]
    """The regional CMK encrypting the recovery points."""
    lock: VaultLock | None = None
    """Vault Lock, or ``None`` for an unlocked vault."""


def vault_access_policy(vault_arn: str) -> str:
    """Deny manual deletion and lifecycle changes of recovery points to every principal."""
    return policy_json(
        [
            {
                "Sid": "DenyManualDeletionOfRecoveryPoints",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": list(MANUAL_DELETION_ACTIONS),
                "Resource": vault_arn,
            }
        ]
    )


class BackupVault(pulumi.ComponentResource):
    """The regional vault (protected and retained), its access policy and its Vault Lock."""

    vault_name: pulumi.Output[str]
    vault_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: BackupVaultArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:backup:BackupVault", name, None, opts)
        vault = aws.backup.Vault(
            name,
            name=args.vault_name,
            kms_key_arn=args.kms_key_arn,
            force_destroy=False,
            opts=data_bearing(self),
        )
        # The policy denies PutBackupVaultAccessPolicy itself, so a change deletes and recreates
        # it instead of updating in place.
        aws.backup.VaultPolicy(
            f"{name}-policy",
            backup_vault_name=vault.name,
            policy=vault.arn.apply(vault_access_policy),
            opts=pulumi.ResourceOptions(
                parent=self, delete_before_replace=True, replace_on_changes=["policy"]
            ),
        )
        if args.lock is not None:
            self._lock(name, vault, args.lock)
        self.vault_name = vault.name
        self.vault_arn = vault.arn
        self.register_outputs({"vault_name": self.vault_name, "vault_arn": self.vault_arn})

    def _lock(self, name: str, vault: aws.backup.Vault, lock: VaultLock) -> None:
        # One lock per vault: a replacement must remove the old configuration before it puts the
        # new one, or the removal would unlock the vault. A compliance lock is kept like data.
        opts = (
            data_bearing(self, delete_before_replace=True)
            if lock.changeable_for_days is not None
            else pulumi.ResourceOptions(parent=self, delete_before_replace=True)
        )
        aws.backup.VaultLockConfiguration(
            f"{name}-lock",
            backup_vault_name=vault.name,
            min_retention_days=lock.min_retention_days,
            max_retention_days=lock.max_retention_days,
            changeable_for_days=lock.changeable_for_days,
            opts=opts,
        )


@dataclass(frozen=True)
class BackupRule:
    """One rule of the backup plan."""

    name: str
    """Rule name (letters, digits, hyphens)."""
    schedule: str
    """AWS cron expression, UTC."""
    retention_days: int
    """Days until the recovery point expires (never moved to cold storage)."""
    continuous: bool = False
    """Continuous backup (point-in-time restore); its recovery points are not copied."""
    copy_days: int | None = None
    """Retention of the copy in the peer region's vault; ``None`` = no copy."""
    isolated_days: int | None = None
    """Retention of the copy in the isolated vault (air-gapped or another account's)."""


@dataclass(frozen=True)
class AuditTargets:
    """Parameters of the Audit Manager controls."""

    required_frequency_days: int
    """The plan must back up at least every this many days..."""
    required_retention_days: int
    """...and keep those recovery points at least this many days."""
    max_recovery_point_age_hours: int
    """The newest recovery point of each resource must be younger than this."""
    max_restore_minutes: int
    """Restores (including restore tests) must finish within this many minutes (the RTO)."""


@dataclass(frozen=True)
class BackupProtectionArgs:
    """Inputs of :class:`BackupProtection`."""

    region: str
    """Region of the plan (the provider passed in must be for it)."""
    name_prefix: str
    """Prefix of the plan, role, restore-testing and framework names."""
    vault_name: pulumi.Input[str]
    """Name of this region's vault, the target of every rule."""
    vault_arn: pulumi.Input[str]
    """ARN of this region's vault (restore tests draw recovery points from it)."""
    copy_region: str
    """Region of the vault the snapshot rules copy to."""
    copy_vault_arn: str
    """ARN of that vault, derived from its deterministic name."""
    rules: Sequence[BackupRule]
    """The plan's rules."""
    selection_tag: tuple[str, str]
    """Tag key and value that select the protected resources (every data store carries it)."""
    audit: AuditTargets
    """Targets the Audit Manager framework checks."""
    lock: VaultLock | None = None
    """The vault's lock, checked by the vault-lock control."""
    isolated_vault_arn: pulumi.Input[str] | None = None
    """The vault that survives a compromised account; ``None`` = no isolated copy."""
    restore_test_types: Sequence[str] = RESTORE_TEST_TYPES
    """Resource types whose recovery points are restored by the daily restore test."""
    restore_test_schedule: str = "cron(0 1 ? * * *)"
    """When the restore test starts (UTC): its results are in before SOP-001's 08:00 check."""
    restore_test_window_days: int = 7
    """Recovery points of the last this many days are eligible (1-365)."""
    start_window_minutes: int = 60
    """Minutes a scheduled job may wait to start (AWS: at least 60)."""
    completion_window_minutes: int = 480
    """Minutes a started job may run before AWS Backup cancels it."""
    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on the plan and framework."""


def restore_tag_condition(
    tag: tuple[str, str],
) -> aws.backup.RestoreTestingSelectionProtectedResourceConditionsArgs:
    """Restore tests pick protected resources carrying the backup tag."""
    return aws.backup.RestoreTestingSelectionProtectedResourceConditionsArgs(
        string_equals=[
            aws.backup.RestoreTestingSelectionProtectedResourceConditionsStringEqualArgs(
                key=f"aws:ResourceTag/{tag[0]}", value=tag[1]
            )
        ]
    )


def plan_rule(rule: BackupRule, args: BackupProtectionArgs) -> aws.backup.PlanRuleArgs:
    """A plan rule: no cold storage (it needs deletion 90 days after the move), copies to the
    peer region's vault and to the isolated vault for snapshot rules (continuous recovery points
    are never copied)."""
    targets: list[tuple[pulumi.Input[str], int]] = []
    if rule.copy_days is not None:
        targets.append((args.copy_vault_arn, rule.copy_days))
    if rule.isolated_days is not None and args.isolated_vault_arn is not None:
        targets.append((args.isolated_vault_arn, rule.isolated_days))
    copies = [
        aws.backup.PlanRuleCopyActionArgs(
            destination_vault_arn=arn,
            lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(delete_after=days),
        )
        for arn, days in targets
    ] or None
    return aws.backup.PlanRuleArgs(
        rule_name=rule.name,
        target_vault_name=args.vault_name,
        schedule=rule.schedule,
        schedule_expression_timezone="Etc/UTC",
        start_window=args.start_window_minutes,
        completion_window=args.completion_window_minutes,
        enable_continuous_backup=rule.continuous,
        lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=rule.retention_days),
        copy_actions=copies,
    )


def framework_controls(
    args: BackupProtectionArgs, plan_id: pulumi.Input[str]
) -> list[aws.backup.FrameworkControlArgs]:
    """The Audit Manager controls, with the parameter names AWS documents. Resource controls are
    scoped to the backup tag; plan and vault controls to this stack's plan and vault."""
    tagged = aws.backup.FrameworkControlScopeArgs(
        tags={args.selection_tag[0]: args.selection_tag[1]}
    )

    def control(
        name: str,
        scope: aws.backup.FrameworkControlScopeArgs | None = None,
        **params: object,
    ) -> aws.backup.FrameworkControlArgs:
        return aws.backup.FrameworkControlArgs(
            name=name,
            input_parameters=[
                aws.backup.FrameworkControlInputParameterArgs(name=k, value=str(v))
                for k, v in params.items()
            ]
            or None,
            scope=scope,
        )

    a = args.audit
    lock_params = (
        {
            "minRetentionDays": args.lock.min_retention_days,
            "maxRetentionDays": args.lock.max_retention_days,
        }
        if args.lock is not None
        else {}
    )
    return [
        control(
            "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
            aws.backup.FrameworkControlScopeArgs(
                compliance_resource_ids=[plan_id],
                compliance_resource_types=["AWS::Backup::BackupPlan"],
            ),
            requiredFrequencyUnit="days",
            requiredFrequencyValue=a.required_frequency_days,
            requiredRetentionDays=a.required_retention_days,
        ),
        control("BACKUP_RECOVERY_POINT_ENCRYPTED"),
        control(
            "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED",
            aws.backup.FrameworkControlScopeArgs(
                compliance_resource_ids=[args.vault_name],
                compliance_resource_types=["AWS::Backup::BackupVault"],
            ),
        ),
        control(
            "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION", tagged, crossRegionList=args.copy_region
        ),
        control("BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK", tagged, **lock_params),
        control(
            "BACKUP_LAST_RECOVERY_POINT_CREATED",
            tagged,
            recoveryPointAgeUnit="hours",
            recoveryPointAgeValue=a.max_recovery_point_age_hours,
        ),
        control(
            "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET", tagged, maxRestoreTime=a.max_restore_minutes
        ),
    ]


class BackupProtection(pulumi.ComponentResource):
    """The AWS Backup service role, the plan and its tag selection, the daily restore test and the
    Audit Manager framework of one region."""

    plan_id: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: BackupProtectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:backup:BackupProtection", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role, attachments = self._role(name, args)
        plan = aws.backup.Plan(
            f"{name}-plan",
            name=f"{args.name_prefix}-{args.region}",
            rules=[plan_rule(rule, args) for rule in args.rules],
            tags=args.tags,
            opts=child,
        )
        key, value = args.selection_tag
        aws.backup.Selection(
            f"{name}-selection",
            name="tagged-data-stores",
            plan_id=plan.id,
            iam_role_arn=role.arn,
            selection_tags=[
                aws.backup.SelectionSelectionTagArgs(type="STRINGEQUALS", key=key, value=value)
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=attachments),
        )
        self._restore_tests(name, args, role.arn, attachments)
        aws.backup.Framework(
            f"{name}-framework",
            name=f"{args.name_prefix}_{args.region}".replace("-", "_"),
            description="ReskFlow 3-2-1 backups: frequency, retention, encryption, vault lock, "
            "cross-region copies, recency and restore time",
            controls=framework_controls(args, plan.id),
            tags=args.tags,
            opts=child,
        )
        self.plan_id = plan.id
        self.role_arn = role.arn
        self.register_outputs({"plan_id": self.plan_id, "role_arn": self.role_arn})

    def _role(
        self, name: str, args: BackupProtectionArgs
    ) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
        role = aws.iam.Role(
            f"{name}-role",
            name=f"{args.name_prefix}-backup-{args.region}",
            description=f"AWS Backup jobs and restore tests in {args.region}",
            assume_role_policy=service_trust("backup.amazonaws.com"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        attachments: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                f"{name}-role-{arn.rsplit('/', 1)[-1]}",
                role=role.name,
                policy_arn=arn,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for arn in BACKUP_SERVICE_POLICIES
        ]
        return role, attachments

    def _restore_tests(
        self,
        name: str,
        args: BackupProtectionArgs,
        role_arn: pulumi.Input[str],
        attachments: Sequence[pulumi.Resource],
    ) -> None:
        """The seed's daily automated restore of a random backup, per resource type."""
        plan = aws.backup.RestoreTestingPlan(
            f"{name}-restore-test",
            name=f"{args.name_prefix}_daily_restore_test".replace("-", "_"),
            schedule_expression=args.restore_test_schedule,
            schedule_expression_timezone="Etc/UTC",
            start_window_hours=1,
            recovery_point_selection=aws.backup.RestoreTestingPlanRecoveryPointSelectionArgs(
                algorithm="RANDOM_WITHIN_WINDOW",
                include_vaults=[args.vault_arn],
                recovery_point_types=["CONTINUOUS", "SNAPSHOT"],
                selection_window_days=args.restore_test_window_days,
            ),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        for resource_type in args.restore_test_types:
            aws.backup.RestoreTestingSelection(
                f"{name}-restore-test-{resource_type.lower()}",
                name=f"{resource_type.lower()}_tagged",
                restore_testing_plan_name=plan.name,
                protected_resource_type=resource_type,
                protected_resource_arns=["*"],
                protected_resource_conditions=restore_tag_condition(args.selection_tag),
                iam_role_arn=role_arn,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(attachments)),
            )
