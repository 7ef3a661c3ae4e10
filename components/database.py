"""RDS for PostgreSQL across two regions: a primary or a cross-region read replica, instance
generations for failback, and the cross-region copy of automated backups.

Naming and generations
----------------------
Every instance carries a *generation* number, shared by both stacks: each new instance, in
either region, takes a number above every one in use. Its identifier is
``<prefix>-g<N>`` (:func:`instance_identifier`), so its ARN is
``arn:aws:rds:<region>:<account>:db:<prefix>-g<N>``: the passive stack derives its source's ARN
from config alone (account id, peer region, peer generation) and needs no call into the peer
region. A replica's generation is always above its source's.

- **Promotion** switches the component from replica to primary: ``replicate_source_db`` goes
  away (RDS ``PromoteReadReplica``, an in-place update); the logical name ``<name>-g<N>`` and
  the identifier stay. The promoted instance also gets its master password managed in its own
  region (``manage_master_user_password`` with the regional key), because the old secret lives
  with the old primary.
- **Failback**: RDS cannot turn a standalone instance back into a replica. The stack takes a new
  generation (a new logical name and identifier, a new replica) and lists the previous one in
  ``retained_generations``. A retained instance stays declared, protected and retained; the
  program enforces only its deletion protection, tags and security group (a fence with no
  ingress, so nothing writes to an old primary) and ignores every other property, whatever
  shape it had when it was live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import pulumi
import pulumi_aws as aws

from components.common import BACKUP_TAG_KEY, BACKUP_TAG_VALUE, data_bearing
from components.datanet import Placement, StoreFirewall, StoreFirewallArgs

POSTGRES_PORT = 5432
#: Properties that depend on how an instance was born (primary or replica). They are ignored on
#: the live instance when they would force a replacement, and on retained instances always.
LINEAGE_PROPERTIES = (
    "dbName",
    "manageMasterUserPassword",
    "masterUserSecretKmsKeyId",
    "replicateSourceDb",
    "username",
)
#: Backup tag value of a read replica: the backup plan's selection (``reskflow:backup=dr``)
#: leaves it out.
REPLICA_BACKUP_TAG_VALUE = "replica-excluded"
#: What the program still enforces on a retained instance.
ENFORCED_ON_RETAINED = frozenset({"deletion_protection", "tags", "vpc_security_group_ids"})


class Shape(Enum):
    """What a declared instance is."""

    PRIMARY = "primary"
    REPLICA = "replica"
    RETAINED = "retained"


def instance_identifier(prefix: str, generation: int) -> str:
    """The RDS identifier of generation ``generation``."""
    return f"{prefix}-g{generation}"


def camel(name: str) -> str:
    """A Python property name as the engine spells it (``multi_az`` -> ``multiAz``)."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True)
class PostgresArgs:
    """Inputs of :class:`PostgresDatabase`."""

    name_prefix: str
    """Prefix of every AWS name (identifiers, groups), e.g. ``reskflow-postgres``."""
    generation: int
    """The live generation."""
    source_arn: str | None
    """ARN of the primary to replicate (another region); ``None`` makes the live one a primary."""
    retained_generations: Sequence[int]
    """Earlier generations in this region, kept declared and fenced."""
    instance_class: str
    """DB instance class, the same for primary and replica."""
    engine_version: str
    """PostgreSQL major version (RDS picks the minor and upgrades it automatically)."""
    allocated_storage_gb: int
    """Initial gp3 storage."""
    max_allocated_storage_gb: int
    """Storage autoscaling ceiling."""
    backup_retention_days: int
    """Automated backups (point-in-time recovery) kept this many days, on primary and replica."""
    database_name: str
    """Database created with a new primary."""
    master_username: str
    """Master user of a new primary; its password is generated and kept by RDS."""
    kms_key_arn: pulumi.Input[str]
    """This region's CMK: storage, Performance Insights and the managed master secret."""
    placement: Placement
    """Subnets and the groups allowed in."""
    backup_window: str = "03:00-04:00"
    """Daily backup window (UTC)."""
    maintenance_window: str = "sun:04:30-sun:05:30"
    """Weekly maintenance window (UTC), clear of the backup window."""
    ca_cert_identifier: str = "rds-ca-rsa2048-g1"
    """Server certificate authority clients verify against."""


class PostgresDatabase(pulumi.ComponentResource):
    """The region's PostgreSQL tier: subnet group, a parameter group forcing TLS, a security group
    open only to the allowed groups, the live instance (primary or replica) and the retained
    generations. Every instance is protected, retained, deletion-protected and tagged for AWS
    Backup."""

    identifier: str
    arn: pulumi.Output[str]
    address: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    master_user_secret_arn: pulumi.Output[str | None]
    security_group_id: pulumi.Output[str]
    fence_security_group_id: pulumi.Output[str]
    retained_identifiers: list[str]

    def __init__(
        self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:data:PostgresDatabase", name, None, opts)
        self._name, self._args = name, args
        family = f"postgres{args.engine_version}"
        self._subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=args.name_prefix,
            description="ReskFlow PostgreSQL private subnets",
            subnet_ids=list(args.placement.subnet_ids),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._parameters = aws.rds.ParameterGroup(
            f"{name}-tls",
            name=f"{args.name_prefix}-tls-{family}",
            family=family,
            description="ReskFlow PostgreSQL: TLS only",
            # PostgreSQL 15+ defaults to rds.force_ssl=1 already; the program says so anyway, so
            # that no inherited default can turn it off. TLS 1.2 is the engines' minimum.
            parameters=[
                aws.rds.ParameterGroupParameterArgs(
                    name="rds.force_ssl", value="1", apply_method="pending-reboot"
                ),
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        firewall = self._firewall("firewall", args.name_prefix, POSTGRES_PORT)
        live_shape = Shape.PRIMARY if args.source_arn is None else Shape.REPLICA
        live = self._instance(args.generation, live_shape, firewall.security_group_id)
        self.retained_identifiers = []
        # Declared always: the retained generations carry it, and ``fence_region`` attaches it
        # to the live instance of a region that must take no writes.
        fence = self._firewall("fence", f"{args.name_prefix}-fenced", None)
        if args.retained_generations:
            for generation in args.retained_generations:
                self._instance(generation, Shape.RETAINED, fence.security_group_id)
                self.retained_identifiers.append(instance_identifier(args.name_prefix, generation))

        self.identifier = instance_identifier(args.name_prefix, args.generation)
        self.arn = live.arn
        self.address = live.address
        self.endpoint = live.endpoint
        self.master_user_secret_arn = live.master_user_secrets.apply(
            lambda secrets: secrets[0].secret_arn if secrets else None
        )
        self.security_group_id = firewall.security_group_id
        self.fence_security_group_id = fence.security_group_id
        self.register_outputs(
            {
                "identifier": self.identifier,
                "arn": self.arn,
                "endpoint": self.endpoint,
                "master_user_secret_arn": self.master_user_secret_arn,
                "retained_identifiers": self.retained_identifiers,
            }
        )

    def _firewall(self, suffix: str, group_name: str, port: int | None) -> StoreFirewall:
        purpose = "ReskFlow PostgreSQL" if port else "ReskFlow PostgreSQL retained (no access)"
        return StoreFirewall(
            f"{self._name}-{suffix}",
            StoreFirewallArgs(group_name, purpose, self._args.placement, port),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _instance(
        self, generation: int, shape: Shape, security_group_id: pulumi.Input[str]
    ) -> aws.rds.Instance:
        spec = instance_spec(self._args, generation, shape, security_group_id, self._groups)
        if shape is Shape.RETAINED:
            ignored = [camel(k) for k in vars(spec) if k not in ENFORCED_ON_RETAINED]
            ignore = sorted({*ignored, *LINEAGE_PROPERTIES})
        else:
            ignore = ["dbName", "username"]  # ForceNew in RDS; a promoted replica has neither
        return aws.rds.Instance(
            f"{self._name}-g{generation}", spec, opts=data_bearing(self, ignore_changes=ignore)
        )

    @property
    def _groups(self) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        return self._subnet_group.name, self._parameters.name


def instance_spec(
    args: PostgresArgs,
    generation: int,
    shape: Shape,
    security_group_id: pulumi.Input[str],
    groups: tuple[pulumi.Input[str], pulumi.Input[str]],
) -> aws.rds.InstanceArgs:
    """One declaration for every shape, so primary, replica and retained never drift apart.
    A replica names no credentials, database or final snapshot (RDS refuses them); storage
    encryption comes from ``kms_key_id``, which must be a key in the replica's own region."""
    identifier = instance_identifier(args.name_prefix, generation)
    primary = shape is Shape.PRIMARY
    subnet_group, parameter_group = groups
    return aws.rds.InstanceArgs(
        identifier=identifier,
        engine="postgres",
        engine_version=args.engine_version,
        instance_class=args.instance_class,
        allocated_storage=args.allocated_storage_gb,
        max_allocated_storage=args.max_allocated_storage_gb,
        storage_type="gp3",
        storage_encrypted=True,
        kms_key_id=args.kms_key_arn,
        multi_az=True,
        db_subnet_group_name=subnet_group,
        parameter_group_name=parameter_group,
        vpc_security_group_ids=[security_group_id],
        port=POSTGRES_PORT,
        publicly_accessible=False,
        ca_cert_identifier=args.ca_cert_identifier,
        iam_database_authentication_enabled=True,
        performance_insights_enabled=True,
        performance_insights_kms_key_id=args.kms_key_arn,
        performance_insights_retention_period=7,
        enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
        backup_retention_period=args.backup_retention_days,
        backup_window=args.backup_window,
        maintenance_window=args.maintenance_window,
        copy_tags_to_snapshot=True,
        delete_automated_backups=False,
        deletion_protection=True,
        auto_minor_version_upgrade=True,
        apply_immediately=True,
        replicate_source_db=args.source_arn if shape is Shape.REPLICA else None,
        username=args.master_username if primary else None,
        db_name=args.database_name if primary else None,
        manage_master_user_password=True if primary else None,
        master_user_secret_kms_key_id=args.kms_key_arn if primary else None,
        skip_final_snapshot=shape is Shape.REPLICA,
        final_snapshot_identifier=None if shape is Shape.REPLICA else f"{identifier}-final",
        tags={
            # A read replica is never selected for backup: its data is the peer primary's, and
            # continuous backup of a replica would make AWS Backup own its automated backups.
            # Promotion (an in-place update) gives it the backup tag.
            BACKUP_TAG_KEY: REPLICA_BACKUP_TAG_VALUE
            if shape is Shape.REPLICA
            else BACKUP_TAG_VALUE,
            "reskflow:store": "postgres",
            "reskflow:generation": str(generation),
        },
    )


@dataclass(frozen=True)
class PostgresBackupCopyArgs:
    """Inputs of :class:`PostgresBackupCopy`."""

    source_db_arn: pulumi.Input[str]
    """ARN of the primary whose automated backups are copied."""
    destination_region: str
    """Region receiving the copies (the peer's)."""
    destination_kms_key_arn: pulumi.Input[str]
    """The CMK in ``destination_region`` (the multi-Region key's replica there)."""
    retention_days: int
    """Days the copies are kept; point-in-time restore works in the destination for as long."""


class PostgresBackupCopy(pulumi.ComponentResource):
    """Cross-region glue: the primary's automated backups replicated to the peer region.

    The AWS call is made in the destination region, so the resource carries its ``region``
    (pulumi-aws v7) and still uses the stack's provider. The active stack declares it; the
    failover run of the other stack never touches it, because deleting it waits on the source
    instance, which a regional outage makes unreachable. Stopping the replication keeps the
    copies already made until their retention ends."""

    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: PostgresBackupCopyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:data:PostgresBackupCopy", name, None, opts)
        replication = aws.rds.InstanceAutomatedBackupsReplication(
            f"{name}-replication",
            source_db_instance_arn=args.source_db_arn,
            kms_key_id=args.destination_kms_key_arn,
            retention_period=args.retention_days,
            region=args.destination_region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = replication.id
        self.register_outputs({"arn": self.arn})
