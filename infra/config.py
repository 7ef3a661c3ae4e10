"""Typed stack configuration: the one place where config is read and validated.

Pulumi hands a program its config as a flat map of ``namespace:key`` to strings (objects arrive as
JSON text). :func:`load_settings` turns that map into frozen dataclasses, or raises
:class:`ConfigError` with one line naming the key, the value and what is allowed. Components never
read config; the composition root passes these plain values down.

The registry :data:`KEYS` is the single description of every key (type, default, meaning); the
README's config reference table is generated from it (``reskflow-dr config-reference``).
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pulumi.runtime.config import get_config_secret_keys_env, is_config_secret

from components.alarms import AlarmSpec
from components.backup_jobs import DUMPS
from components.database import instance_identifier
from components.degraded_mode import LEVEL_NAMES
from components.storage import Expiry
from components.workloads import SERVICES
from infra.validators import cron_problem, image_problem, tag_problem

PROJECT = "reskflow"

#: The region pair this program supports, and which of them holds the multi-Region KMS primary.
SUPPORTED_REGIONS: tuple[str, ...] = ("us-east-1", "us-west-2")
KMS_PRIMARY_REGION = "us-east-1"
ROLES: tuple[str, ...] = ("active", "passive")
#: In normal operation this region is active: a stack's default ``peerRole`` encodes that topology.
NORMALLY_ACTIVE_REGION = KMS_PRIMARY_REGION
WEEKLY_STORAGE_CLASSES: tuple[str, ...] = ("GLACIER_IR", "GLACIER")

#: S3 Replication Time Control offers exactly one threshold (AWS fact, not a choice).
REPLICATION_TIME_MINUTES = 15

#: Seed targets ("Key Objectives"): recovery point and recovery time objectives.
RPO_SECONDS = 5 * 60
RTO_MINUTES = 15
#: The region whose stack owns the PRIMARY failover record; the other owns SECONDARY. Records
#: never move between stacks: a drill moves traffic by draining health checks.
PRIMARY_RECORD_REGION = "us-east-1"

#: Config namespaces whose keys are validated here. Other namespaces (``pulumi:``, provider
#: plugins that later issues configure) are left to their owners.
VALIDATED_NAMESPACES = (PROJECT, "aws")

Role = Literal["active", "passive"]


class ConfigError(ValueError):
    """A stack config value is missing or invalid. ``str(err)`` is the one-line user message."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        shown = "(not set)" if value is None else json.dumps(value)
        super().__init__(f"config error: {key} = {shown}: {allowed}")


# --------------------------------------------------------------------------------------------
# Settings dataclasses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retention:
    """How long each class of S3 object is kept, in days (seed: "Backup Strategy Overview")."""

    uploads_days: int = 90
    logs_days: int = 30
    daily_backups_days: int = 7
    weekly_backups_days: int = 28
    noncurrent_versions_days: int = 30
    incomplete_multipart_days: int = 7


@dataclass(frozen=True)
class StoreSpec:
    """An S3 data store: one bucket per region, replicated both ways."""

    key: str
    description: str
    expiries: tuple[Expiry, ...]


VaultLockMode = Literal["compliance", "governance", "none"]


@dataclass(frozen=True)
class VaultLockSettings:
    """AWS Backup Vault Lock of the regional vault. ``compliance`` is irreversible once
    ``changeable_for_days`` have passed, so it is only ever set explicitly."""

    mode: VaultLockMode = "governance"
    min_retention_days: int = 1
    max_retention_days: int = 35
    changeable_for_days: int | None = None


@dataclass(frozen=True)
class BackupSettings:
    """AWS Backup plan retentions in days (seed: "Backup Strategy Overview") and its targets."""

    continuous_days: int = 1
    daily_days: int = 7
    weekly_days: int = 28
    daily_copy_days: int = 7
    weekly_copy_days: int = 28
    copy_region: str = ""
    restore_time_target_minutes: int = RTO_MINUTES
    lock: VaultLockSettings = field(default_factory=VaultLockSettings)

    @property
    def job_retentions(self) -> tuple[int, ...]:
        """Retention of every backup or copy job that lands in a vault of this design."""
        return (
            self.continuous_days,
            self.daily_days,
            self.weekly_days,
            self.daily_copy_days,
            self.weekly_copy_days,
        )


@dataclass(frozen=True)
class TrafficSettings:
    """Route 53 failover for the API name: this region's endpoint and health check."""

    hosted_zone_id: str
    record_name: str
    endpoint: str
    request_interval: int = 10
    failure_threshold: int = 3
    ttl: int = 60
    checker_regions: tuple[str, ...] = ("us-east-1", "us-west-1", "us-west-2", "eu-west-1")


@dataclass(frozen=True)
class AlarmSettings:
    """Alarm subscriptions and the replication-lag alarm derived from the RPO."""

    emails: tuple[str, ...] = ()
    webhook_url: str | None = None
    lag_threshold_seconds: int = 60
    lag_period_seconds: int = 60
    lag_evaluation_periods: int = 3

    def lag_alarm(
        self,
        name: str,
        namespace: str,
        metric_name: str,
        dimensions: Mapping[str, Any],
        milliseconds: bool = False,
    ) -> AlarmSpec:
        """A replication-lag alarm with the RPO-derived threshold, in the metric's unit."""
        scale = 1000 if milliseconds else 1
        return AlarmSpec(
            name=name,
            description=(
                f"{namespace} {metric_name} above {self.lag_threshold_seconds} s for "
                f"{self.lag_evaluation_periods} x {self.lag_period_seconds} s: lag would reach "
                f"the {RPO_SECONDS} s RPO if replication stalls"
            ),
            namespace=namespace,
            metric_name=metric_name,
            dimensions=dimensions,
            statistic="Maximum",
            comparison="GreaterThanThreshold",
            threshold=self.lag_threshold_seconds * scale,
            period_seconds=self.lag_period_seconds,
            evaluation_periods=self.lag_evaluation_periods,
        )


@dataclass(frozen=True)
class RecoveryTargets:
    """The seed's recovery objectives and the promotion-time assumption of the RTO budget."""

    rto_minutes: int = 15
    rpo_minutes: int = 5
    promotion_minutes: int = 10
    """Assumed duration of a cross-region replica promotion: AWS documents only that it "can take
    several minutes or longer to complete, depending on the size of the read replica"."""


@dataclass(frozen=True)
class ServiceSettings:
    """One service as configured: image and its active-role size."""

    name: str
    image: str
    replicas: int
    """Replicas in the active role."""
    max_replicas: int
    """The autoscaler's ceiling, in both roles."""


@dataclass(frozen=True)
class BackupImages:
    """Tool images of the backup jobs (each pinned by tag or digest)."""

    postgres: str = "public.ecr.aws/docker/library/postgres:16.4-alpine"
    mongodb: str = "public.ecr.aws/docker/library/mongo:7.0.14"
    redis: str = "public.ecr.aws/docker/library/redis:7.2.5-alpine"
    aws_cli: str = "public.ecr.aws/aws-cli/aws-cli:2.17.50"

    def for_engine(self, engine: str) -> str:
        return str(getattr(self, engine))


@dataclass(frozen=True)
class WorkloadSettings:
    """The Kubernetes side of the stack: cluster access, services, degraded mode, backup jobs."""

    kubeconfig: Secret | None
    """Kubeconfig contents (a secret); None: the runner's own kubeconfig, at ``kube_context``."""
    kube_context: str | None
    """Context to use inside the kubeconfig."""
    oidc_provider_arn: str
    namespace: str
    services: tuple[ServiceSettings, ...]
    passive_replicas: int
    replica_ceiling: int
    degraded_level: str
    backup_schedules: Mapping[str, str]
    """Enabled backup jobs (names from ``components.backup_jobs.DUMPS``) and their cron schedule."""
    backup_images: BackupImages

    @property
    def oidc_region(self) -> str | None:
        """Region of an EKS cluster's issuer (None for other issuers)."""
        eks = _EKS_ISSUER_RE.match(self.oidc_issuer)
        return None if eks is None else eks.group(1)

    @property
    def oidc_issuer(self) -> str:
        """The issuer (host and path, no scheme) the IRSA trust conditions are keyed on."""
        return self.oidc_provider_arn.split(":oidc-provider/", 1)[1]

    def replicas_for(self, service: ServiceSettings, role: Role) -> int:
        """Full size in the active role; the pilot light (never more than full) when passive."""
        return (
            service.replicas if role == "active" else min(self.passive_replicas, service.replicas)
        )


@dataclass(frozen=True)
class StackSettings:
    """Everything the composition root needs, validated."""

    project: str
    stack: str
    region: str
    peer_region: str
    role: Role
    account_id: str
    bucket_prefix: str
    kms_primary_key_id: str | None
    peer_deployed: bool
    weekly_backup_storage_class: str
    retention: Retention
    database: DatabaseSettings
    tags: Mapping[str, str] = field(default_factory=dict)
    aws_profile: str | None = None
    peer_lost: bool = False
    """The operator declares the peer region lost (``reskflow:peerLost``)."""
    backup: BackupSettings = field(default_factory=BackupSettings)
    alarms: AlarmSettings = field(default_factory=AlarmSettings)
    traffic: TrafficSettings = field(kw_only=True)
    peer_role: Role = "passive"
    """The peer's role as this stack knows it, without calling it (``reskflow:peerRole``)."""
    recovery: RecoveryTargets = field(default_factory=RecoveryTargets)
    workloads: WorkloadSettings | None = None
    """Kubernetes workloads; None when the stack names no cluster (kubeconfig or context)."""

    @property
    def holds_kms_primary(self) -> bool:
        """True when this stack's region holds the multi-Region primary key."""
        return self.region == KMS_PRIMARY_REGION

    def bucket_name(self, store: str, region: str) -> str:
        """Deterministic bucket name, so each stack derives its peer's names without a lookup."""
        return f"{self.bucket_prefix}-{store}-{region}"

    def bucket_arn(self, store: str, region: str) -> str:
        return f"arn:aws:s3:::{self.bucket_name(store, region)}"

    @property
    def stores(self) -> tuple[StoreSpec, ...]:
        return store_catalog(self.retention, self.weekly_backup_storage_class)

    def kms_key_arn(self, region: str, key_id: str) -> str:
        """ARN of the multi-Region key ``key_id`` in ``region`` (all replicas share the key id)."""
        return f"arn:aws:kms:{region}:{self.account_id}:key/{key_id}"

    def vault_name(self, region: str) -> str:
        """Deterministic AWS Backup vault name, so each stack derives its peer's vault ARN."""
        return f"{self.project}-dr-{region}"

    def vault_arn(self, region: str) -> str:
        return f"arn:aws:backup:{region}:{self.account_id}:backup-vault:{self.vault_name(region)}"

    @property
    def failover_role(self) -> Literal["PRIMARY", "SECONDARY"]:
        """The failover record this stack owns, fixed by region (never by role)."""
        return "PRIMARY" if self.region == PRIMARY_RECORD_REGION else "SECONDARY"

    @property
    def drained(self) -> bool:
        """A passive region holding the PRIMARY record is drained (health check disabled and
        inverted: always unhealthy), so traffic follows the active role. The SECONDARY is never
        drained: it must stay live for Route 53 to fail over on its data plane alone."""
        return self.role == "passive" and self.failover_role == "PRIMARY"


def store_catalog(retention: Retention, weekly_storage_class: str) -> tuple[StoreSpec, ...]:
    """The seed's S3 stores with their retention ("Application Data Backup", "Backup Strategy")."""
    r = retention
    return (
        StoreSpec(
            "uploads",
            "User uploads, synced hourly; kept 90 days.",
            (Expiry("expire-uploads", "", r.uploads_days, r.noncurrent_versions_days),),
        ),
        StoreSpec(
            "logs",
            "Application logs, uploaded daily after logrotate; kept 30 days.",
            (Expiry("expire-logs", "", r.logs_days, r.noncurrent_versions_days),),
        ),
        StoreSpec(
            "config",
            "Configuration backups, on change; every version kept indefinitely.",
            (),
        ),
        StoreSpec(
            "backups",
            "Database dumps: daily incrementals under daily/ written as STANDARD_IA and kept "
            "7 days, weekly fulls under weekly/ written in a Glacier tier and kept 4 weeks.",
            (
                Expiry("daily-incrementals", "daily/", r.daily_backups_days, 1, "STANDARD_IA"),
                Expiry("weekly-fulls", "weekly/", r.weekly_backups_days, 1, weekly_storage_class),
            ),
        ),
        StoreSpec(
            "blockchain",
            "Smart-contract state snapshots; current versions kept indefinitely.",
            (Expiry("expire-noncurrent", "", None, r.noncurrent_versions_days),),
        ),
    )


# --------------------------------------------------------------------------------------------
# Data tier settings (PostgreSQL, Redis, DocumentDB)
# --------------------------------------------------------------------------------------------

#: The region whose stack created the ElastiCache Global Datastore and the DocumentDB global
#: cluster, with their primary-born members. Fixed for their lifetime: whether a member was
#: created as primary or as secondary is immutable in AWS, whoever is the global primary now.
GLOBAL_STORES_HOME_REGION = KMS_PRIMARY_REGION

POSTGRES_IDENTIFIER_PREFIX = f"{PROJECT}-postgres"
#: The Global Datastore id is ``<AWS-assigned 5-letter region prefix>-<suffix>``.
REDIS_GLOBAL_SUFFIX = f"{PROJECT}-redis"
DOCDB_GLOBAL_IDENTIFIER = f"{PROJECT}-docdb"

#: What AWS offers, kept as small allow-lists checked offline. PostgreSQL versions are major
#: versions: RDS picks its default minor version and upgrades minors automatically.
POSTGRES_ENGINE_VERSIONS: tuple[str, ...] = ("15", "16", "17")
POSTGRES_INSTANCE_CLASSES: tuple[str, ...] = tuple(
    f"db.{family}.{size}"
    for family in ("m6g", "m6i", "m7g", "r6g", "r6i", "r7g")
    for size in ("large", "xlarge", "2xlarge", "4xlarge")
)
#: Global Datastore needs Redis OSS 5.0.6 or later on M5/R5 node types or newer.
REDIS_ENGINE_VERSIONS: tuple[str, ...] = ("6.2", "7.0", "7.1")
REDIS_NODE_TYPES: tuple[str, ...] = tuple(
    f"cache.{family}.{size}"
    for family in ("m6g", "m7g", "r6g", "r7g")
    for size in ("large", "xlarge", "2xlarge", "4xlarge")
)
#: DocumentDB global clusters run engine 4.0 or 5.0 on memory-optimized (R5/R6G) instances.
DOCDB_ENGINE_VERSIONS: tuple[str, ...] = ("4.0.0", "5.0.0")
DOCDB_INSTANCE_CLASSES: tuple[str, ...] = tuple(
    f"db.{family}.{size}"
    for family in ("r5", "r6g")
    for size in ("large", "xlarge", "2xlarge", "4xlarge")
)

#: What the offline preview hands the program for a ``secure:`` value it cannot decrypt
#: (``reskflow_dr.stackfiles.SECRET``); such a value is not validated offline.
OFFLINE_SECRET = "[secret]"


@dataclass(frozen=True)
class Secret:
    """A secret config value. Never printed; resources receive it as ``pulumi.Output.secret``."""

    value: str = field(repr=False)

    def __str__(self) -> str:
        return OFFLINE_SECRET


@dataclass(frozen=True)
class NetworkSettings:
    """The network the data stores live in (owned elsewhere; this program only references it)."""

    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    allowed_security_group_ids: tuple[str, ...]
    """Security groups (the applications') allowed to reach the data stores."""


@dataclass(frozen=True)
class PostgresSettings:
    """RDS for PostgreSQL sizing and retention (the replica uses the same class and storage)."""

    instance_class: str = "db.r6g.large"
    engine_version: str = "16"
    allocated_storage_gb: int = 100
    max_allocated_storage_gb: int = 500
    backup_retention_days: int = 7
    database_name: str = "reskflow"
    master_username: str = "reskflow_admin"

    @property
    def parameter_group_family(self) -> str:
        return f"postgres{self.engine_version}"


@dataclass(frozen=True)
class RedisSettings:
    """ElastiCache for Redis OSS, one replication group per region in a Global Datastore."""

    node_type: str = "cache.r6g.large"
    engine_version: str = "7.1"
    nodes_per_region: int = 2
    snapshot_retention_days: int = 7


@dataclass(frozen=True)
class DocdbSettings:
    """Amazon DocumentDB, one cluster per region in a global cluster."""

    instance_class: str = "db.r6g.large"
    engine_version: str = "5.0.0"
    instances_per_region: int = 2
    backup_retention_days: int = 7
    master_username: str = "reskflowadmin"

    @property
    def parameter_group_family(self) -> str:
        return "docdb" + ".".join(self.engine_version.split(".")[:2])


def postgres_identifier(generation: int) -> str:
    """RDS identifier of a PostgreSQL generation. Generation numbers are shared by both stacks
    (each new instance, wherever it is, takes the next number), so identifiers never repeat."""
    return instance_identifier(POSTGRES_IDENTIFIER_PREFIX, generation)


def postgres_arn(account_id: str, region: str, generation: int) -> str:
    """ARN of a PostgreSQL generation, derived without calling AWS."""
    return f"arn:aws:rds:{region}:{account_id}:db:{postgres_identifier(generation)}"


@dataclass(frozen=True)
class DatabaseSettings:
    """The data tier of one stack: where it runs, which PostgreSQL generations it declares, and
    which region holds the global primaries of Redis and DocumentDB."""

    network: NetworkSettings
    home: bool
    """This stack created the global stores (its region is :data:`GLOBAL_STORES_HOME_REGION`)."""
    generation: int
    """The live PostgreSQL generation: the primary (active) or the replica (passive)."""
    retained_generations: tuple[int, ...]
    """Earlier generations of this stack, kept declared, protected and fenced."""
    source_arn: str | None
    """ARN of the peer's primary the replica follows (passive), else ``None``."""
    peer_generation: int | None
    cache_primary_region: str
    docdb_primary_region: str
    cache_global_datastore_id: str | None
    """Full Global Datastore id; needed by the stack that joins it as secondary."""
    cache_auth_token: Secret | None
    docdb_master_password: Secret | None
    postgres: PostgresSettings = PostgresSettings()
    redis: RedisSettings = RedisSettings()
    docdb: DocdbSettings = DocdbSettings()

    @property
    def identifier(self) -> str:
        return postgres_identifier(self.generation)


# --------------------------------------------------------------------------------------------
# The key registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One config key: its full name, type, default (None = required or derived) and meaning."""

    name: str
    type: str
    default: str
    doc: str
    fields: tuple[str, ...] = ()


_RETENTION_FIELDS = {
    "uploadsDays": "uploads_days",
    "logsDays": "logs_days",
    "dailyBackupsDays": "daily_backups_days",
    "weeklyBackupsDays": "weekly_backups_days",
    "noncurrentVersionsDays": "noncurrent_versions_days",
    "incompleteMultipartDays": "incomplete_multipart_days",
}

_BACKUP_FIELDS = {
    "continuousDays": "continuous_days",
    "dailyDays": "daily_days",
    "weeklyDays": "weekly_days",
    "dailyCopyDays": "daily_copy_days",
    "weeklyCopyDays": "weekly_copy_days",
    "copyRegion": "copy_region",
    "restoreTimeTargetMinutes": "restore_time_target_minutes",
}
_LOCK_FIELDS = {
    "mode": "mode",
    "minRetentionDays": "min_retention_days",
    "maxRetentionDays": "max_retention_days",
    "changeableForDays": "changeable_for_days",
}
_TRAFFIC_FIELDS = {
    "hostedZoneId": "hosted_zone_id",
    "recordName": "record_name",
    "endpoint": "endpoint",
    "requestInterval": "request_interval",
    "failureThreshold": "failure_threshold",
    "ttl": "ttl",
    "checkerRegions": "checker_regions",
}
_ALARM_FIELDS = {
    "emails": "emails",
    "lagThresholdSeconds": "lag_threshold_seconds",
    "lagPeriodSeconds": "lag_period_seconds",
    "lagEvaluationPeriods": "lag_evaluation_periods",
}

_NETWORK_FIELDS = {
    "vpcId": "vpc_id",
    "privateSubnetIds": "private_subnet_ids",
    "allowedSecurityGroupIds": "allowed_security_group_ids",
}
_POSTGRES_FIELDS = {
    "instanceClass": "instance_class",
    "engineVersion": "engine_version",
    "allocatedStorageGb": "allocated_storage_gb",
    "maxAllocatedStorageGb": "max_allocated_storage_gb",
    "backupRetentionDays": "backup_retention_days",
    "databaseName": "database_name",
    "masterUsername": "master_username",
}
_REDIS_FIELDS = {
    "nodeType": "node_type",
    "engineVersion": "engine_version",
    "nodesPerRegion": "nodes_per_region",
    "snapshotRetentionDays": "snapshot_retention_days",
}
_DOCDB_FIELDS = {
    "instanceClass": "instance_class",
    "engineVersion": "engine_version",
    "instancesPerRegion": "instances_per_region",
    "backupRetentionDays": "backup_retention_days",
    "masterUsername": "master_username",
}

KEYS: tuple[Key, ...] = (
    Key("aws:region", "string", "required", "The stack's region: `us-east-1` or `us-west-2`."),
    Key(
        "aws:profile",
        "string",
        "unset",
        "AWS CLI profile the regional provider uses for a real deployment.",
    ),
    Key(
        f"{PROJECT}:role",
        "string",
        "required",
        "`active` (serves traffic, holds the writable primaries) or `passive` (replicas, pilot "
        "light). A drill or failover switches roles, never regions.",
    ),
    Key(
        f"{PROJECT}:peerRegion",
        "string",
        "the other supported region",
        "Region of the peer stack; must differ from `aws:region`.",
    ),
    Key(
        f"{PROJECT}:accountId",
        "string",
        "required",
        "12-digit AWS account id. Providers refuse any other account; ARNs of peer resources are "
        "derived from it.",
    ),
    Key(
        f"{PROJECT}:bucketPrefix",
        "string",
        "`reskflow-<accountId>`",
        "Prefix of every bucket name (`<prefix>-<store>-<region>`); the resulting names must "
        "satisfy S3's bucket naming rules.",
    ),
    Key(
        f"{PROJECT}:kmsPrimaryKeyId",
        "string",
        "unset",
        "Id (`mrk-` + 32 hex digits) of the multi-Region primary key created by the us-east-1 "
        "stack. Required in the us-west-2 stack, which replicates it without calling us-east-1 "
        "again; `pulumi stack output kmsKeyId -s prod` prints it.",
    ),
    Key(
        f"{PROJECT}:peerDeployed",
        "boolean",
        "`true`",
        "Whether the peer stack's buckets exist. S3 refuses a replication rule whose destination "
        "bucket does not exist, so the very first `pulumi up` of prod sets this to `false`. "
        "While `false`, backups are not copied to the peer's (missing) vault either.",
    ),
    Key(
        f"{PROJECT}:weeklyBackupStorageClass",
        "string",
        "`GLACIER_IR`",
        "Tier weekly full backups are written in: `GLACIER_IR` (millisecond restore) or "
        "`GLACIER` (Flexible Retrieval, restores take minutes to hours). Both bill 90 days.",
    ),
    Key(
        f"{PROJECT}:retention",
        "object",
        "seed values",
        "Retention in days, each a positive integer: `uploadsDays` (90), `logsDays` (30), "
        "`dailyBackupsDays` (7), `weeklyBackupsDays` (28), `noncurrentVersionsDays` (30), "
        "`incompleteMultipartDays` (7).",
        fields=tuple(_RETENTION_FIELDS),
    ),
    Key(
        f"{PROJECT}:tags",
        "object",
        "`{}`",
        "Extra tags (string to string) on every AWS resource, added to the provider's default "
        "tags (`project`, `stack`, `managed-by`). The role is deliberately not a tag: a drill "
        "would otherwise update every resource.",
    ),
    # AWS Backup (docs/backup-and-traffic.md)
    Key(
        f"{PROJECT}:backup",
        "object",
        "seed values",
        "AWS Backup retentions in days: `continuousDays` (1, AWS allows 1-35), `dailyDays` (7), "
        "`weeklyDays` (28), `dailyCopyDays` (7), `weeklyCopyDays` (28): the copies go to the "
        "vault in `copyRegion` (the peer region; a same-region copy is not offsite). None may be "
        "below the seed's value. `restoreTimeTargetMinutes` (15, the RTO) is the Audit Manager "
        "restore-time target.",
        fields=tuple(_BACKUP_FIELDS),
    ),
    Key(
        f"{PROJECT}:vaultLock",
        "object",
        "`{mode: governance, minRetentionDays: 1, maxRetentionDays: 35}`",
        "Vault Lock of the regional vault: `mode` `governance` (removable with IAM permission), "
        "`compliance` (immutable after `changeableForDays`, 3-365, which it requires) or `none`. "
        "`minRetentionDays` must not exceed the shortest job retention (continuous: 1) and "
        "`maxRetentionDays` must cover the longest, or AWS Backup fails those jobs.",
        fields=tuple(_LOCK_FIELDS),
    ),
    # Route 53 failover (docs/backup-and-traffic.md)
    Key(
        f"{PROJECT}:traffic",
        "object",
        "required",
        "`hostedZoneId`, `recordName` (the API name), `endpoint` (this region's public endpoint, "
        "checked over HTTPS at `/health`), `requestInterval` (10 or 30 s; 10), "
        "`failureThreshold` (1-10; 3), `ttl` (0-60 s; 60), `checkerRegions` (at least 3 Route 53 "
        "checker regions).",
        fields=tuple(_TRAFFIC_FIELDS),
    ),
    # Alarms (docs/backup-and-traffic.md)
    Key(
        f"{PROJECT}:alarms",
        "object",
        "`{}`",
        "`emails` (list of addresses subscribed to the regional alarm topic), "
        "`lagThresholdSeconds` (60), `lagPeriodSeconds` (60, a multiple of 60) and "
        "`lagEvaluationPeriods` (3) of the replication-lag alarms; threshold + period x periods "
        f"must stay within the {RPO_SECONDS} s RPO.",
        fields=tuple(_ALARM_FIELDS),
    ),
    Key(
        f"{PROJECT}:alarmWebhookUrl",
        "secret string",
        "unset",
        "HTTPS endpoint (for example an incident tool's integration URL) subscribed to the alarm "
        "topic. It carries a token: set it with `pulumi config set --secret`; it must "
        "auto-confirm SNS subscriptions.",
    ),
    # Data tier (PostgreSQL, Redis, DocumentDB): docs/database-failover.md
    Key(
        f"{PROJECT}:peerLost",
        "boolean",
        "`false`",
        "The operator declares the peer region lost. Only then may this stack be `active` while "
        "the peer's stack file still says `active` (a failover during a regional outage).",
    ),
    Key(
        f"{PROJECT}:network",
        "object",
        "required",
        "Where the data stores live (the network itself is not managed here): `vpcId`, "
        "`privateSubnetIds` (at least two, in different Availability Zones) and "
        "`allowedSecurityGroupIds` (the only sources allowed to reach the data stores).",
        fields=tuple(_NETWORK_FIELDS),
    ),
    Key(
        f"{PROJECT}:dbGeneration",
        "integer",
        "`1`",
        "Generation of this stack's live PostgreSQL instance (identifier "
        f"`{POSTGRES_IDENTIFIER_PREFIX}-g<N>`). Numbers are shared by both stacks: a new instance "
        "takes a number above every one in use, so a replica's generation is above its source's.",
    ),
    Key(
        f"{PROJECT}:peerDbGeneration",
        "integer",
        "required when `passive`",
        "Generation of the peer's live (primary) instance: the replica's source ARN is derived "
        "from it, the account id and the peer region (`pulumi stack output dbGeneration`).",
    ),
    Key(
        f"{PROJECT}:retainedDbGenerations",
        "list",
        "`[]`",
        "Earlier generations of this stack, each below `dbGeneration`: kept declared, protected, "
        "deletion-protected and fenced (no ingress) after a failback.",
    ),
    Key(
        f"{PROJECT}:cachePrimaryRegion",
        "string",
        f"`{GLOBAL_STORES_HOME_REGION}`",
        "Region of the Redis Global Datastore's primary. It changes only through the ElastiCache "
        "failover API; record it here afterwards. Must be this region when `active` and the peer "
        "region when `passive`.",
    ),
    Key(
        f"{PROJECT}:docdbPrimaryRegion",
        "string",
        f"`{GLOBAL_STORES_HOME_REGION}`",
        "Region of the DocumentDB global cluster's primary; same rules as `cachePrimaryRegion` "
        "(switchover or failover API first, then this key).",
    ),
    Key(
        f"{PROJECT}:cacheGlobalDatastoreId",
        "string",
        f"required outside {GLOBAL_STORES_HOME_REGION}",
        "Full id of the Redis Global Datastore (AWS prefixes the suffix "
        f"`{REDIS_GLOBAL_SUFFIX}` per region): `pulumi stack output cacheGlobalDatastoreId -s "
        "prod`.",
    ),
    Key(
        f"{PROJECT}:cacheAuthToken",
        "secret",
        f"required in {GLOBAL_STORES_HOME_REGION}",
        'Redis AUTH token (16-128 printable characters, none of `/`, `"`, `@` or space), set '
        "with `pulumi config set --secret`. The secondary inherits AUTH from the Global Datastore.",
    ),
    Key(
        f"{PROJECT}:docdbMasterPassword",
        "secret",
        f"required in {GLOBAL_STORES_HOME_REGION}",
        'DocumentDB master password (8-100 printable characters, none of `/`, `"`, `@`), set with '
        "`pulumi config set --secret`; DocumentDB global clusters cannot use a managed password.",
    ),
    Key(
        f"{PROJECT}:postgres",
        "object",
        "see meaning",
        "RDS for PostgreSQL: `instanceClass` (`db.r6g.large`; M6G, M6I, M7G, R6G, R6I, R7G "
        "classes), `engineVersion` (`16`; major 15, 16 or 17), `allocatedStorageGb` (100), "
        "`maxAllocatedStorageGb` (500), `backupRetentionDays` (7; 7-35), `databaseName` "
        "(`reskflow`), `masterUsername` (`reskflow_admin`).",
        fields=tuple(_POSTGRES_FIELDS),
    ),
    Key(
        f"{PROJECT}:redis",
        "object",
        "see meaning",
        "ElastiCache for Redis OSS: `nodeType` (`cache.r6g.large`; M6G, M7G, R6G, R7G), "
        "`engineVersion` (`7.1`; 6.2, 7.0 or 7.1), `nodesPerRegion` (2; 2-6, Multi-AZ), "
        "`snapshotRetentionDays` (7; 1-35).",
        fields=tuple(_REDIS_FIELDS),
    ),
    Key(
        f"{PROJECT}:docdb",
        "object",
        "see meaning",
        "Amazon DocumentDB: `instanceClass` (`db.r6g.large`; R5 or R6G), `engineVersion` "
        "(`5.0.0`; or `4.0.0`), `instancesPerRegion` (2; 1-16), `backupRetentionDays` (7; 1-35), "
        "`masterUsername` (`reskflowadmin`).",
        fields=tuple(_DOCDB_FIELDS),
    ),
    # DR drills: split-brain guard and recovery targets (docs/runbooks/)
    Key(
        f"{PROJECT}:peerRole",
        "string",
        f"`passive` in {NORMALLY_ACTIVE_REGION}, `active` elsewhere",
        "The peer stack's role as this stack knows it, set by the drill runbook on both stacks. "
        "The split-brain guard refuses `role: active` while this is `active` (at preview and at "
        "`pulumi up`, without calling the peer); offline it must match the peer's stack file.",
    ),
    Key(
        f"{PROJECT}:rtoTargetMinutes",
        "integer",
        "`15`",
        "Recovery time objective the RTO/RPO budget is compared with (seed: 15 minutes).",
    ),
    Key(
        f"{PROJECT}:rpoTargetMinutes",
        "integer",
        "`5`",
        "Recovery point objective the RTO/RPO budget and the readiness lag check use (seed: 5 "
        "minutes).",
    ),
    Key(
        f"{PROJECT}:promotionMinutes",
        "integer",
        "`10`",
        "Assumed time to promote a cross-region replica, in the RTO budget. AWS documents only "
        'that promotion "can take several minutes or longer to complete, depending on the size '
        'of the read replica"; measure it in drills and set it here.',
    ),
    # Kubernetes workloads (components/workloads.py, components/backup_jobs.py)
    Key(
        f"{PROJECT}:kubeContext",
        "string",
        "unset",
        "Context of the region's cluster: in `reskflow:kubeconfig` when that is set, else in the "
        "kubeconfig of whoever runs Pulumi (`KUBECONFIG` or `~/.kube/config`). With neither "
        "key the stack declares no Kubernetes objects and the other workload keys must be unset.",
    ),
    Key(
        f"{PROJECT}:kubeconfig",
        "secret string",
        "unset",
        "Kubeconfig of the region's cluster (for CI), always a secret: `pulumi config set "
        "--secret reskflow:kubeconfig < kubeconfig.yaml`. Unset: the runner's own kubeconfig.",
    ),
    Key(
        f"{PROJECT}:clusterOidcProviderArn",
        "string",
        "required with a cluster",
        "ARN of the cluster's IAM OIDC provider (`arn:aws:iam::<accountId>:oidc-provider/oidc.eks."
        "<region>.amazonaws.com/id/<ID>`); the backup jobs' IAM roles trust it (IRSA).",
    ),
    Key(f"{PROJECT}:namespace", "string", "`reskflow`", "Namespace of every workload object."),
    Key(
        f"{PROJECT}:imageRegistry",
        "string",
        "`<accountId>.dkr.ecr.<region>.amazonaws.com/reskflow`",
        "Registry and path of the service images (`<registry>/<service>:<imageTag>`); the "
        "default is the stack's own region, so a region pulls images without its peer.",
    ),
    Key(
        f"{PROJECT}:imageTag",
        "string",
        "required with a cluster",
        "Release tag of every service image; `latest` is refused (both regions must run one "
        "build).",
    ),
    Key(
        f"{PROJECT}:services",
        "object",
        "seed sizes",
        "Per service (" + ", ".join(s.name for s in SERVICES) + "): `replicas` in the active "
        "role (seed: api-gateway 5, others 3), `maxReplicas` for the autoscaler (default 3x "
        "`replicas`, the seed's holiday peak, at most the ceiling) and `image` (a full "
        "reference with tag or digest).",
        fields=tuple(s.name for s in SERVICES),
    ),
    Key(
        f"{PROJECT}:passiveReplicas",
        "integer",
        "`1`",
        "Replicas of each service in the passive role (the pilot light); never more than the "
        "service's active count. `0` stops the service there.",
    ),
    Key(
        f"{PROJECT}:replicaCeiling",
        "integer",
        "`50`",
        "Highest replica count or autoscaler maximum any service may be given.",
    ),
    Key(
        f"{PROJECT}:degradedLevel",
        "string",
        "`GREEN`",
        "Degraded-mode level in force: " + ", ".join(LEVEL_NAMES) + " (seed levels and limits, "
        "see docs/workloads.md).",
    ),
    Key(
        f"{PROJECT}:backupJobs",
        "object",
        "nightly UTC; `redis-daily` off",
        "Per backup job (" + ", ".join(DUMPS) + "): a cron schedule in UTC (five fields or "
        "`@daily`-style), or `false` to leave the job out. `redis-daily` (`redis-cli --rdb`) "
        "needs a Redis that allows SYNC, which ElastiCache does not.",
        fields=tuple(DUMPS),
    ),
    Key(
        f"{PROJECT}:backupImages",
        "object",
        "pinned public images",
        "Tool images of the backup jobs: `postgres` (pg_dump, at least the server's major "
        "version), `mongodb` (mongodump), `redis` (redis-cli), `awsCli` (uploads).",
        fields=("postgres", "mongodb", "redis", "awsCli"),
    ),
)

_KEYS_BY_NAME = {k.name: k for k in KEYS}


def config_reference_markdown() -> str:
    """The README's config reference table, generated from :data:`KEYS`."""
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for k in KEYS:
        lines.append(f"| `{k.name}` | {k.type} | {k.default} | {k.doc} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

_ACCOUNT_RE = re.compile(r"^\d{12}$")
_MRK_RE = re.compile(r"^mrk-[0-9a-f]{32}$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_BUCKET_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_TAG_KEY_RE = re.compile(r"^[\w .:/=+\-@]{1,128}$")


def _choice(key: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(key, value, "allowed values are " + ", ".join(allowed))
    return value


def _bool(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ConfigError(key, value, "expected a boolean: true or false")


def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(key, value, "expected a positive whole number of days")
    text = str(value).strip()
    if not re.fullmatch(r"-?\d+", text):
        raise ConfigError(key, value, "expected a positive whole number of days")
    number = int(text)
    if number <= 0:
        raise ConfigError(key, value, "expected a positive whole number of days (at least 1)")
    return number


def _object(key: str, value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ConfigError(key, value, "expected an object (a YAML map)")
    return parsed


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else "known keys: " + ", ".join(sorted(known))


def _check_unknown_keys(raw: Mapping[str, str]) -> None:
    known = list(_KEYS_BY_NAME)
    for name in sorted(raw):
        namespace = name.split(":", 1)[0]
        if namespace in VALIDATED_NAMESPACES and name not in _KEYS_BY_NAME:
            raise ConfigError(name, raw[name], "unknown config key; " + _suggest(name, known))


def validate_bucket_name(key: str, name: str) -> str:
    """S3's general-purpose bucket naming rules; raise naming ``key`` when ``name`` breaks one."""
    problems = []
    if not 3 <= len(name) <= 63:
        problems.append(f"is {len(name)} characters (allowed 3 to 63)")
    if not _BUCKET_RE.match(name):
        problems.append(
            "may contain only lowercase letters, digits, dots and hyphens, and must begin and "
            "end with a letter or digit"
        )
    if ".." in name:
        problems.append("must not contain two adjacent dots")
    try:
        ipaddress.IPv4Address(name)
        problems.append("must not be formatted as an IP address")
    except ValueError:
        pass
    for bad in _BUCKET_BAD_PREFIXES:
        if name.startswith(bad):
            problems.append(f"must not start with {bad!r}")
    for bad in _BUCKET_BAD_SUFFIXES:
        if name.endswith(bad):
            problems.append(f"must not end with {bad!r}")
    if problems:
        raise ConfigError(key, name, f"bucket name {name!r} " + "; ".join(problems))
    return name


def _retention(raw: str | None) -> Retention:
    if raw is None:
        return Retention()
    key = f"{PROJECT}:retention"
    obj = _object(key, raw)
    values: dict[str, int] = {}
    for name, value in obj.items():
        if name not in _RETENTION_FIELDS:
            raise ConfigError(
                f"{key}.{name}", value, "unknown field; " + _suggest(name, list(_RETENTION_FIELDS))
            )
        values[_RETENTION_FIELDS[name]] = _positive_int(f"{key}.{name}", value)
    return Retention(**values)


def _tags(raw: str | None) -> dict[str, str]:
    if raw is None:
        return {}
    key = f"{PROJECT}:tags"
    obj = _object(key, raw)
    for name, value in obj.items():
        if not isinstance(value, str) or not _TAG_KEY_RE.match(name) or len(value) > 256:
            raise ConfigError(
                f"{key}.{name}",
                value,
                "tags map a key of 1-128 characters to a string value of at most 256 characters",
            )
        if name.lower().startswith("aws:"):
            raise ConfigError(f"{key}.{name}", value, "tag keys starting with 'aws:' are reserved")
    return dict(obj)


def _fields(key: str, raw: str | None, names: Mapping[str, str]) -> dict[str, Any]:
    """An object key's fields, by their Python names; unknown fields are refused."""
    if raw is None:
        return {}
    values: dict[str, Any] = {}
    for name, value in _object(key, raw).items():
        if name not in names:
            raise ConfigError(f"{key}.{name}", value, "unknown field; " + _suggest(name, [*names]))
        values[names[name]] = value
    return values


def _whole(key: str, value: Any, low: int, high: int, unit: str, why: str = "") -> int:
    """A whole number in ``low..high``; ``why`` explains the bounds in the error."""
    text = "" if isinstance(value, bool) else str(value).strip()
    if not isinstance(value, (int, str)) or not re.fullmatch(r"-?\d+", text):
        text = ""
    if not text or not low <= int(text) <= high:
        raise ConfigError(
            key, value, f"expected a whole number of {unit} from {low} to {high}{why}"
        )
    return int(text)


# AWS Backup ---------------------------------------------------------------------------------

LOCK_MODES: tuple[str, ...] = ("compliance", "governance", "none")
#: AWS Backup: continuous backups are kept 1 to 35 days; any recovery point at most 100 years.
CONTINUOUS_MAX_DAYS = 35
RECOVERY_POINT_MAX_DAYS = 36500
#: ChangeableForDays: AWS enforces a 72-hour cooling-off period; this program allows a year.
GRACE_DAYS = (3, 365)


def _backup(raw: str | None, lock_raw: str | None, region: str, peer: str) -> BackupSettings:
    key = f"{PROJECT}:backup"
    values = _fields(key, raw, _BACKUP_FIELDS)
    seed = BackupSettings()
    for name, py in _BACKUP_FIELDS.items():
        if py.endswith("_days") and py in values:
            high = CONTINUOUS_MAX_DAYS if py == "continuous_days" else RECOVERY_POINT_MAX_DAYS
            floor = getattr(seed, py)
            values[py] = _whole(
                f"{key}.{name}",
                values[py],
                floor,
                high,
                "days",
                f" (the seed's 3-2-1 strategy keeps these at least {floor} days)",
            )
    copy_region = str(values.get("copy_region") or peer)
    if copy_region == region:
        raise ConfigError(
            f"{key}.copyRegion",
            copy_region,
            f"a copy in the stack's own region is not offsite; the 3-2-1 copy goes to {peer}",
        )
    if copy_region != peer:
        raise ConfigError(
            f"{key}.copyRegion",
            copy_region,
            f"only the peer stack ({peer}) creates a vault to copy to; allowed value is {peer}",
        )
    values["copy_region"] = copy_region
    if "restore_time_target_minutes" in values:
        values["restore_time_target_minutes"] = _whole(
            f"{key}.restoreTimeTargetMinutes",
            values["restore_time_target_minutes"],
            1,
            10080,
            "minutes",
        )
    backup = BackupSettings(**values)
    return replace(backup, lock=_vault_lock(lock_raw, backup))


def _vault_lock(raw: str | None, backup: BackupSettings) -> VaultLockSettings:
    key = f"{PROJECT}:vaultLock"
    values = _fields(key, raw, _LOCK_FIELDS)
    mode = _choice(f"{key}.mode", str(values.get("mode", "governance")), LOCK_MODES)
    grace = values.get("changeable_for_days")
    if mode != "compliance" and grace is not None:
        raise ConfigError(
            f"{key}.changeableForDays",
            grace,
            "only a compliance lock has a grace period; remove it or set mode: compliance",
        )
    if mode == "compliance":
        grace = _whole(
            f"{key}.changeableForDays",
            grace,
            *GRACE_DAYS,
            "days",
            " (required for compliance mode: after it the lock can never be removed)",
        )
    default = VaultLockSettings()
    low = _whole(
        f"{key}.minRetentionDays",
        values.get("min_retention_days", default.min_retention_days),
        1,
        RECOVERY_POINT_MAX_DAYS,
        "days",
    )
    high = _whole(
        f"{key}.maxRetentionDays",
        values.get("max_retention_days", default.max_retention_days),
        1,
        RECOVERY_POINT_MAX_DAYS,
        "days",
    )
    lock = VaultLockSettings(mode, low, high, grace)  # type: ignore[arg-type]  # by _choice
    if mode != "none":
        _check_lock_window(key, lock, backup.job_retentions)
    return lock


def _check_lock_window(key: str, lock: VaultLockSettings, retentions: tuple[int, ...]) -> None:
    """A locked vault fails every backup or copy job whose retention is outside min..max."""
    if lock.min_retention_days > lock.max_retention_days:
        raise ConfigError(
            f"{key}.minRetentionDays",
            lock.min_retention_days,
            f"must not exceed maxRetentionDays ({lock.max_retention_days})",
        )
    if lock.min_retention_days > min(retentions):
        raise ConfigError(
            f"{key}.minRetentionDays",
            lock.min_retention_days,
            f"at most {min(retentions)}: the vault would refuse recovery points kept "
            f"{min(retentions)} days (continuous backups)",
        )
    if lock.max_retention_days < max(retentions):
        raise ConfigError(
            f"{key}.maxRetentionDays",
            lock.max_retention_days,
            f"at least {max(retentions)}: the vault would refuse recovery points kept "
            f"{max(retentions)} days (weekly backups and their copies)",
        )


# Route 53 failover --------------------------------------------------------------------------

#: Route 53 health checks: request interval 10 (fast) or 30 (standard) seconds, failure
#: threshold 1-10, checker regions from this list (at least three).
HEALTH_CHECK_INTERVALS = (10, 30)
HEALTH_CHECKER_REGIONS: tuple[str, ...] = (
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
)
_ZONE_ID_RE = re.compile(r"^Z[0-9A-Z]{1,31}$")
_DNS_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DNS_NAME_RE = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})+$")


def _dns_name(key: str, value: Any) -> str:
    name = str(value or "").strip().rstrip(".").lower()
    if len(name) > 253 or not _DNS_NAME_RE.match(name):
        raise ConfigError(key, value, "expected a DNS name such as api.example.com (no scheme)")
    return name


def _traffic(raw: str | None) -> TrafficSettings:
    key = f"{PROJECT}:traffic"
    if raw is None:
        raise ConfigError(
            key, None, "required: an object with hostedZoneId, recordName and endpoint"
        )
    values = _fields(key, raw, _TRAFFIC_FIELDS)
    zone = str(values.get("hosted_zone_id") or "")
    if not _ZONE_ID_RE.match(zone):
        raise ConfigError(f"{key}.hostedZoneId", zone or None, "expected a hosted zone id: Z...")
    record = _dns_name(f"{key}.recordName", values.get("record_name"))
    endpoint = _dns_name(f"{key}.endpoint", values.get("endpoint"))
    if endpoint == record:
        raise ConfigError(
            f"{key}.endpoint", endpoint, "must differ from recordName (a CNAME to itself loops)"
        )
    default = TrafficSettings(zone, record, endpoint)
    interval = values.get("request_interval", default.request_interval)
    if interval not in HEALTH_CHECK_INTERVALS or isinstance(interval, bool):
        raise ConfigError(
            f"{key}.requestInterval",
            interval,
            "Route 53 health checks run every 10 (fast) or 30 (standard) seconds",
        )
    threshold = _whole(
        f"{key}.failureThreshold",
        values.get("failure_threshold", default.failure_threshold),
        1,
        10,
        "checks",
    )
    ttl = _whole(
        f"{key}.ttl",
        values.get("ttl", default.ttl),
        0,
        60,
        "seconds",
        " (a failover record cached longer delays the failover)",
    )
    return replace(
        default,
        request_interval=interval,
        failure_threshold=threshold,
        ttl=ttl,
        checker_regions=_checker_regions(
            f"{key}.checkerRegions", values.get("checker_regions", default.checker_regions)
        ),
    )


def _checker_regions(key: str, value: Any) -> tuple[str, ...]:
    regions = tuple(value) if isinstance(value, (list, tuple)) else ()
    allowed = ", ".join(HEALTH_CHECKER_REGIONS)
    if (
        len(set(regions)) != len(regions)
        or len(regions) < 3
        or not set(regions) <= set(HEALTH_CHECKER_REGIONS)
    ):
        raise ConfigError(key, value, f"at least 3 distinct Route 53 checker regions of {allowed}")
    return regions


# Alarms -------------------------------------------------------------------------------------

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _alarms(raw: str | None, webhook: str | None, webhook_secret: bool) -> AlarmSettings:
    key = f"{PROJECT}:alarms"
    values = _fields(key, raw, _ALARM_FIELDS)
    emails = values.get("emails", [])
    if not isinstance(emails, list) or not all(
        isinstance(e, str) and _EMAIL_RE.match(e) for e in emails
    ):
        raise ConfigError(f"{key}.emails", emails, "expected a list of email addresses")
    default = AlarmSettings()
    threshold = _whole(
        f"{key}.lagThresholdSeconds",
        values.get("lag_threshold_seconds", default.lag_threshold_seconds),
        1,
        RPO_SECONDS,
        "seconds",
    )
    period = _whole(
        f"{key}.lagPeriodSeconds",
        values.get("lag_period_seconds", default.lag_period_seconds),
        60,
        RPO_SECONDS,
        "seconds",
    )
    if period % 60:
        raise ConfigError(f"{key}.lagPeriodSeconds", period, "expected a multiple of 60 seconds")
    periods = _whole(
        f"{key}.lagEvaluationPeriods",
        values.get("lag_evaluation_periods", default.lag_evaluation_periods),
        1,
        RPO_SECONDS // 60,
        "periods",
    )
    if threshold + period * periods > RPO_SECONDS:
        raise ConfigError(
            f"{key}.lagThresholdSeconds",
            threshold,
            f"threshold + period x periods = {threshold + period * periods} s exceeds the "
            f"{RPO_SECONDS} s RPO: a stalled replica would pass the RPO before the alarm fires",
        )
    if webhook is not None and not webhook_secret:
        raise ConfigError(
            f"{PROJECT}:alarmWebhookUrl",
            "<hidden>",
            "the URL carries a token: set it with `pulumi config set --secret`",
        )
    return AlarmSettings(tuple(emails), webhook, threshold, period, periods)


# --------------------------------------------------------------------------------------------
# Data tier parsing and the rules that keep one writable primary
# --------------------------------------------------------------------------------------------

_HEX_ID = r"([0-9a-f]{8}|[0-9a-f]{17})"
_VPC_RE = re.compile(rf"^vpc-{_HEX_ID}$")
_SUBNET_RE = re.compile(rf"^subnet-{_HEX_ID}$")
_SG_RE = re.compile(rf"^sg-{_HEX_ID}$")
_PG_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_DOCDB_USER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,62}$")
_DATASTORE_RE = re.compile(rf"^[a-z]{{5}}-{re.escape(REDIS_GLOBAL_SUFFIX)}$")
_HIDDEN = "(secret, not shown)"


def _text(key: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ConfigError(key, value, "expected a string")
    return str(value)


def _matching(key: str, value: Any, pattern: re.Pattern[str], allowed: str) -> str:
    text = _text(key, value)
    if not pattern.match(text):
        raise ConfigError(key, value, f"expected {allowed}")
    return text


def _int_between(key: str, value: Any, low: int, high: int, unit: str = "") -> int:
    allowed = f"expected a whole number from {low} to {high}{unit}"
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(key, value, allowed)
    text = str(value).strip()
    if not re.fullmatch(r"-?\d+", text) or not low <= int(text) <= high:
        raise ConfigError(key, value, allowed)
    return int(text)


def _list(key: str, value: Any) -> list[Any]:
    parsed = value
    if isinstance(value, str):
        try:
            parsed = json.loads(value) if value.strip() else []
        except json.JSONDecodeError:
            parsed = None
    if not isinstance(parsed, list):
        raise ConfigError(key, value, "expected a list")
    return parsed


def _ids(
    key: str, value: Any, pattern: re.Pattern[str], what: str, minimum: int
) -> tuple[str, ...]:
    items = _list(key, value)
    allowed = f"at least {minimum} distinct {what} ids ({pattern.pattern})"
    if len(items) < minimum or len(set(map(str, items))) != len(items):
        raise ConfigError(key, value, f"expected {allowed}")
    return tuple(_matching(f"{key}[{i}]", v, pattern, f"a {what} id") for i, v in enumerate(items))


def _choose(allowed: tuple[str, ...]) -> Callable[[str, Any], str]:
    return lambda key, value: _choice(key, _text(key, value), allowed)


def _days(low: int) -> Callable[[str, Any], int]:
    return lambda key, value: _int_between(key, value, low, 35, " (days)")


def _pg_name(key: str, value: Any) -> str:
    name = _matching(key, value, _PG_NAME_RE, "1-63 letters, digits or _, starting with a letter")
    if name.lower() in ("rdsadmin", "postgres"):
        raise ConfigError(key, value, "is reserved by RDS; choose another name")
    return name


_NETWORK_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "vpc_id": lambda k, v: _matching(k, v, _VPC_RE, "a VPC id (vpc- and 8 or 17 hex digits)"),
    "private_subnet_ids": lambda k, v: _ids(k, v, _SUBNET_RE, "subnet", 2),
    "allowed_security_group_ids": lambda k, v: _ids(k, v, _SG_RE, "security group", 1),
}
_POSTGRES_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "instance_class": _choose(POSTGRES_INSTANCE_CLASSES),
    "engine_version": _choose(POSTGRES_ENGINE_VERSIONS),
    "allocated_storage_gb": lambda k, v: _int_between(k, v, 20, 65536, " (GiB)"),
    "max_allocated_storage_gb": lambda k, v: _int_between(k, v, 20, 65536, " (GiB)"),
    "backup_retention_days": _days(7),
    "database_name": _pg_name,
    "master_username": _pg_name,
}
_REDIS_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "node_type": _choose(REDIS_NODE_TYPES),
    "engine_version": _choose(REDIS_ENGINE_VERSIONS),
    "nodes_per_region": lambda k, v: _int_between(k, v, 2, 6),
    "snapshot_retention_days": _days(1),
}
_DOCDB_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "instance_class": _choose(DOCDB_INSTANCE_CLASSES),
    "engine_version": _choose(DOCDB_ENGINE_VERSIONS),
    "instances_per_region": lambda k, v: _int_between(k, v, 1, 16),
    "backup_retention_days": _days(1),
    "master_username": lambda k, v: _matching(
        k, v, _DOCDB_USER_RE, "1-63 letters or digits, starting with a letter"
    ),
}


def _section(
    raw: Mapping[str, str],
    name: str,
    fields: Mapping[str, str],
    parsers: Mapping[str, Callable[[str, Any], Any]],
) -> dict[str, Any]:
    """The fields of object key ``name``, each parsed; unknown fields are refused."""
    key, text = f"{PROJECT}:{name}", raw.get(f"{PROJECT}:{name}")
    values: dict[str, Any] = {}
    for field_name, value in (_object(key, text) if text is not None else {}).items():
        if field_name not in fields:
            raise ConfigError(
                f"{key}.{field_name}", value, "unknown field; " + _suggest(field_name, [*fields])
            )
        attr = fields[field_name]
        values[attr] = parsers[attr](f"{key}.{field_name}", value)
    return values


def _network(raw: Mapping[str, str]) -> NetworkSettings:
    key = f"{PROJECT}:network"
    if raw.get(key) is None:
        raise ConfigError(key, None, "required; an object with " + ", ".join(_NETWORK_FIELDS))
    values = _section(raw, "network", _NETWORK_FIELDS, _NETWORK_PARSERS)
    for name, attr in _NETWORK_FIELDS.items():
        if attr not in values:
            raise ConfigError(f"{key}.{name}", None, "required")
    return NetworkSettings(**values)


def _postgres(raw: Mapping[str, str]) -> PostgresSettings:
    pg = PostgresSettings(**_section(raw, "postgres", _POSTGRES_FIELDS, _POSTGRES_PARSERS))
    if pg.max_allocated_storage_gb < pg.allocated_storage_gb:
        raise ConfigError(
            f"{PROJECT}:postgres.maxAllocatedStorageGb",
            pg.max_allocated_storage_gb,
            f"must be at least allocatedStorageGb ({pg.allocated_storage_gb})",
        )
    return pg


def _secret_rule(low: int, high: int, forbidden: str) -> Callable[[str, str], None]:
    def check(key: str, value: str) -> None:
        if not low <= len(value) <= high or any(
            not (32 <= ord(c) < 127) or c in forbidden for c in value
        ):
            shown = " ".join(repr(c) for c in forbidden)
            raise ConfigError(
                key, _HIDDEN, f"must be {low}-{high} printable ASCII characters, none of {shown}"
            )

    return check


def _secret(
    raw: Mapping[str, str],
    key: str,
    secret_keys: Collection[str],
    check: Callable[[str, str], None],
) -> Secret:
    value = raw.get(key)
    if value is None or value == "":
        raise ConfigError(
            key,
            None,
            f"required in the {GLOBAL_STORES_HOME_REGION} stack: "
            f"`pulumi config set --secret {key}`",
        )
    if key not in secret_keys:
        raise ConfigError(
            key, _HIDDEN, f"must be a secret (`secure:`): `pulumi config set --secret {key}`"
        )
    if value != OFFLINE_SECRET:
        check(key, value)
    return Secret(value)


def _not_here(raw: Mapping[str, str], key: str, why: str) -> None:
    if raw.get(key) not in (None, ""):
        shown = _HIDDEN if key.endswith(("Token", "Password")) else raw[key]
        raise ConfigError(key, shown, why)


def _home_config(
    raw: Mapping[str, str], home: bool, secret_keys: Collection[str]
) -> tuple[str | None, Secret | None, Secret | None]:
    """The Global Datastore id (joining stack) or the secrets (home stack, which creates them)."""
    token_key, password_key = f"{PROJECT}:cacheAuthToken", f"{PROJECT}:docdbMasterPassword"
    datastore_key = f"{PROJECT}:cacheGlobalDatastoreId"
    if home:
        _not_here(raw, datastore_key, "not used here: this stack creates the Global Datastore")
        return (
            None,
            _secret(raw, token_key, secret_keys, _secret_rule(16, 128, '/"@ ')),
            _secret(raw, password_key, secret_keys, _secret_rule(8, 100, '/"@')),
        )
    for key in (token_key, password_key):
        _not_here(raw, key, f"not used here: only the {GLOBAL_STORES_HOME_REGION} stack sets it")
    datastore = raw.get(datastore_key) or None
    if datastore is None or not _DATASTORE_RE.match(datastore):
        raise ConfigError(
            datastore_key,
            datastore,
            f"required here: the full Global Datastore id, e.g. abcde-{REDIS_GLOBAL_SUFFIX} "
            "(`pulumi stack output cacheGlobalDatastoreId -s prod`)",
        )
    return datastore, None, None


def _global_primary(raw: Mapping[str, str], name: str, role: str, here: str, peer: str) -> str:
    """Where a global store's primary is. It moves only through the AWS API; the config records
    it, and must agree with the role: the active stack holds every writer."""
    key = f"{PROJECT}:{name}"
    value = _choice(key, raw.get(key) or GLOBAL_STORES_HOME_REGION, SUPPORTED_REGIONS)
    expected = here if role == "active" else peer
    if value != expected:
        raise ConfigError(
            key,
            value,
            f"must be {expected} while this stack is {role}: move the global primary with the "
            "AWS API first, then record it here (docs/database-failover.md)",
        )
    return value


def _lineage(
    raw: Mapping[str, str], role: str, peer_deployed: bool
) -> tuple[int, tuple[int, ...], int | None]:
    """The live generation, the retained ones and the peer's: checks that need no state."""
    gen_key, peer_key = f"{PROJECT}:dbGeneration", f"{PROJECT}:peerDbGeneration"
    retained_key = f"{PROJECT}:retainedDbGenerations"
    generation = _int_between(gen_key, raw.get(gen_key) or "1", 1, 9999)
    retained = tuple(
        _int_between(f"{retained_key}[{i}]", v, 1, 9999)
        for i, v in enumerate(_list(retained_key, raw.get(retained_key) or "[]"))
    )
    if len(set(retained)) != len(retained):
        raise ConfigError(retained_key, list(retained), "each generation may appear once")
    if retained and generation <= max(retained):
        raise ConfigError(
            gen_key,
            generation,
            f"a generation never goes backwards: it must be above every retained generation "
            f"({max(retained)})",
        )
    peer_raw = raw.get(peer_key)
    peer = _int_between(peer_key, peer_raw, 1, 9999) if peer_raw else None
    if role == "passive":
        if not peer_deployed:
            raise ConfigError(
                f"{PROJECT}:role",
                role,
                f"a passive stack replicates its peer, but {PROJECT}:peerDeployed is false",
            )
        if peer is None:
            raise ConfigError(
                peer_key,
                None,
                "required when passive: the generation of the peer's primary, from which the "
                "replica's source ARN is derived (`pulumi stack output dbGeneration`)",
            )
        if generation <= peer:
            raise ConfigError(
                gen_key,
                generation,
                f"a replica's generation must be above its source's ({peer_key} is {peer}): "
                "the replica is always the newer instance",
            )
    return generation, retained, peer


def _database(
    raw: Mapping[str, str],
    *,
    region: str,
    peer_region: str,
    role: str,
    account_id: str,
    peer_deployed: bool,
    secret_keys: Collection[str],
) -> DatabaseSettings:
    generation, retained, peer_generation = _lineage(raw, role, peer_deployed)
    home = region == GLOBAL_STORES_HOME_REGION
    datastore_id, token, password = _home_config(raw, home, secret_keys)
    return DatabaseSettings(
        network=_network(raw),
        home=home,
        generation=generation,
        retained_generations=retained,
        source_arn=postgres_arn(account_id, peer_region, peer_generation)
        if role == "passive" and peer_generation is not None
        else None,
        peer_generation=peer_generation,
        cache_primary_region=_global_primary(raw, "cachePrimaryRegion", role, region, peer_region),
        docdb_primary_region=_global_primary(raw, "docdbPrimaryRegion", role, region, peer_region),
        cache_global_datastore_id=datastore_id,
        cache_auth_token=token,
        docdb_master_password=password,
        postgres=_postgres(raw),
        redis=RedisSettings(**_section(raw, "redis", _REDIS_FIELDS, _REDIS_PARSERS)),
        docdb=DocdbSettings(**_section(raw, "docdb", _DOCDB_FIELDS, _DOCDB_PARSERS)),
    )


# --------------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------------

_WORKLOAD_KEYS = tuple(
    f"{PROJECT}:{name}"
    for name in (
        "kubeconfig",
        "kubeContext",
        "clusterOidcProviderArn",
        "namespace",
        "imageRegistry",
        "imageTag",
        "services",
        "passiveReplicas",
        "replicaCeiling",
        "degradedLevel",
        "backupJobs",
        "backupImages",
    )
)
_OIDC_ARN_RE = re.compile(r"^arn:aws:iam::(\d{12}):oidc-provider/([A-Za-z0-9.-]+(?:/[\w.-]+)*)$")
_EKS_ISSUER_RE = re.compile(r"^oidc\.eks\.([a-z0-9-]+)\.amazonaws\.com/id/[0-9A-Z]{32}$")
_CONTEXT_RE = re.compile(r"^[\w.:/@-]{1,253}$")
_NAMESPACE_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_SERVICE_FIELDS = ("replicas", "maxReplicas", "image")
_IMAGE_FIELDS = {
    "postgres": "postgres",
    "mongodb": "mongodb",
    "redis": "redis",
    "awsCli": "aws_cli",
}


def _known_fields(key: str, obj: Any, known: Collection[str]) -> dict[str, Any]:
    """``obj`` as a map whose every field is in ``known``."""
    if not isinstance(obj, dict):
        raise ConfigError(key, obj, "expected an object with fields " + ", ".join(known))
    for name, value in obj.items():
        if name not in known:
            raise ConfigError(
                f"{key}.{name}", value, "unknown field; " + _suggest(name, list(known))
            )
    return obj


def _image(key: str, value: Any) -> str:
    problem = image_problem(value) if isinstance(value, str) else "expected a string"
    if problem is not None:
        raise ConfigError(key, value, problem)
    return str(value)


def _oidc_provider_arn(value: str | None, account_id: str) -> str:
    key = f"{PROJECT}:clusterOidcProviderArn"
    if not value:
        raise ConfigError(
            key,
            None,
            "required with a cluster: the ARN of the cluster's IAM OIDC provider "
            "(`aws iam list-open-id-connect-providers`)",
        )
    match = _OIDC_ARN_RE.match(value)
    if match is None:
        raise ConfigError(
            key, value, "expected arn:aws:iam::<accountId>:oidc-provider/<issuer host and path>"
        )
    if match.group(1) != account_id:
        raise ConfigError(key, value, f"the provider must be in account {account_id}")
    return value


def _namespace(value: str | None) -> str:
    key, name = f"{PROJECT}:namespace", value or "reskflow"
    if not _NAMESPACE_RE.match(name) or name == "default" or name.startswith("kube-"):
        raise ConfigError(
            key,
            name,
            "expected a DNS label (lowercase letters, digits, '-'; at most 63), "
            "not 'default' nor 'kube-*'",
        )
    return name


def _services(
    raw: str | None, registry: str, tag: str | None, ceiling: int
) -> tuple[ServiceSettings, ...]:
    key = f"{PROJECT}:services"
    overrides = _known_fields(
        key, {} if raw is None else _object(key, raw), _KEYS_BY_NAME[key].fields
    )
    bound = f" ({PROJECT}:replicaCeiling)"
    result = []
    for spec in SERVICES:
        where = f"{key}.{spec.name}"
        fields = _known_fields(where, overrides.get(spec.name, {}), _SERVICE_FIELDS)
        given = fields.get("replicas", spec.replicas)
        replicas = _whole(f"{where}.replicas", given, 0, ceiling, "replicas", bound)
        max_replicas = _whole(
            f"{where}.maxReplicas",
            fields.get("maxReplicas", min(ceiling, max(1, 3 * replicas))),
            max(1, replicas),
            ceiling,
            "replicas",
            f" (at least {where}.replicas; at most {PROJECT}:replicaCeiling)",
        )
        if "image" not in fields and tag is None:
            raise ConfigError(
                f"{PROJECT}:imageTag",
                None,
                f"required: the release tag of the service images "
                f"(or an image for every service in {key})",
            )
        image = _image(f"{where}.image", fields.get("image", f"{registry}/{spec.name}:{tag}"))
        result.append(ServiceSettings(spec.name, image, replicas, max_replicas))
    return tuple(result)


def _backup_schedules(raw: str | None) -> dict[str, str]:
    key = f"{PROJECT}:backupJobs"
    obj = _known_fields(key, {} if raw is None else _object(key, raw), tuple(DUMPS))
    schedules = {}
    for name, dump in DUMPS.items():
        value = obj.get(name, dump.schedule if dump.on_by_default else False)
        if value is False:
            continue
        problem = cron_problem(value) if isinstance(value, str) else "expected a string"
        if problem is not None:
            raise ConfigError(
                f"{key}.{name}",
                value,
                f"not a valid cron schedule ({problem}), or false to leave the job out",
            )
        schedules[name] = value.strip()
    return schedules


def _backup_images(raw: str | None) -> BackupImages:
    key = f"{PROJECT}:backupImages"
    obj = _known_fields(key, {} if raw is None else _object(key, raw), tuple(_IMAGE_FIELDS))
    return BackupImages(
        **{_IMAGE_FIELDS[name]: _image(f"{key}.{name}", value) for name, value in obj.items()}
    )


def _workloads(
    raw: Mapping[str, str], secret_keys: Collection[str], region: str, account_id: str
) -> WorkloadSettings | None:
    """The workload section, or None when the stack names no cluster (and no workload key)."""
    kube_key, context_key = f"{PROJECT}:kubeconfig", f"{PROJECT}:kubeContext"
    kubeconfig, context = raw.get(kube_key) or None, raw.get(context_key) or None
    if kubeconfig is None and context is None:
        stray = [name for name in _WORKLOAD_KEYS if raw.get(name)]
        if stray:
            raise ConfigError(
                context_key,
                None,
                f"a cluster is required when {', '.join(stray)} is set: a context of your "
                f"kubeconfig, or the whole kubeconfig as the secret {kube_key}",
            )
        return None
    if context is not None and not _CONTEXT_RE.match(context):
        raise ConfigError(context_key, context, "expected a kubeconfig context name")
    if kubeconfig is not None and kube_key not in secret_keys:
        raise ConfigError(
            kube_key,
            "(plain text, not shown)",
            f"must be a secret: pulumi config set --secret {kube_key} < kubeconfig.yaml",
        )
    ceiling = _whole(
        f"{PROJECT}:replicaCeiling", raw.get(f"{PROJECT}:replicaCeiling", 50), 1, 1000, "replicas"
    )
    registry = raw.get(f"{PROJECT}:imageRegistry") or (
        f"{account_id}.dkr.ecr.{region}.amazonaws.com/{PROJECT}"
    )
    if image_problem(f"{registry}/probe:1") is not None:
        raise ConfigError(f"{PROJECT}:imageRegistry", registry, "expected a registry host and path")
    tag = raw.get(f"{PROJECT}:imageTag")
    if tag is not None and (problem := tag_problem(tag)) is not None:
        raise ConfigError(f"{PROJECT}:imageTag", tag, problem)
    return WorkloadSettings(
        kubeconfig=None if kubeconfig is None else Secret(kubeconfig),
        kube_context=context,
        oidc_provider_arn=_oidc_provider_arn(
            raw.get(f"{PROJECT}:clusterOidcProviderArn"), account_id
        ),
        namespace=_namespace(raw.get(f"{PROJECT}:namespace")),
        services=_services(raw.get(f"{PROJECT}:services"), registry, tag, ceiling),
        passive_replicas=_whole(
            f"{PROJECT}:passiveReplicas",
            raw.get(f"{PROJECT}:passiveReplicas", 1),
            0,
            ceiling,
            "replicas",
            f" ({PROJECT}:replicaCeiling)",
        ),
        replica_ceiling=ceiling,
        degraded_level=_choice(
            f"{PROJECT}:degradedLevel", raw.get(f"{PROJECT}:degradedLevel") or "GREEN", LEVEL_NAMES
        ),
        backup_schedules=_backup_schedules(raw.get(f"{PROJECT}:backupJobs")),
        backup_images=_backup_images(raw.get(f"{PROJECT}:backupImages")),
    )


def runtime_secret_keys(keys: Collection[str]) -> frozenset[str]:
    """Which of ``keys`` the Pulumi runtime was given as secrets (set in process, or listed in
    ``PULUMI_CONFIG_SECRET_KEYS`` by the language host)."""
    listed = set(get_config_secret_keys_env())
    return frozenset(k for k in keys if k in listed or is_config_secret(k))


def load_settings(
    raw: Mapping[str, str],
    stack: str,
    project: str = PROJECT,
    secret_keys: Collection[str] | None = None,
) -> StackSettings:
    """Validate ``raw`` (Pulumi's flat config map of strings) into :class:`StackSettings`.
    ``secret_keys`` names the keys stored as secrets; by default the Pulumi runtime's."""
    _check_unknown_keys(raw)
    if secret_keys is None:
        secret_keys = runtime_secret_keys(raw)

    def get(name: str) -> str | None:
        return raw.get(name)

    def require(name: str, allowed: str) -> str:
        value = get(name)
        if value is None or value == "":
            raise ConfigError(name, value, f"required; {allowed}")
        return value

    regions = ", ".join(SUPPORTED_REGIONS)
    region = _choice(
        "aws:region",
        require("aws:region", f"allowed values are {regions}"),
        SUPPORTED_REGIONS,
    )
    peer_default = next(r for r in SUPPORTED_REGIONS if r != region)
    peer_region = _choice(
        f"{PROJECT}:peerRegion", get(f"{PROJECT}:peerRegion") or peer_default, SUPPORTED_REGIONS
    )
    if peer_region == region:
        raise ConfigError(
            f"{PROJECT}:peerRegion",
            peer_region,
            f"both stacks would be in one region; the peer of {region} must be {peer_default}",
        )
    role = _choice(
        f"{PROJECT}:role",
        require(f"{PROJECT}:role", "allowed values are " + ", ".join(ROLES)),
        ROLES,
    )
    account_id = require(f"{PROJECT}:accountId", "a 12-digit AWS account id")
    if not _ACCOUNT_RE.match(account_id):
        raise ConfigError(f"{PROJECT}:accountId", account_id, "expected a 12-digit AWS account id")

    bucket_prefix = get(f"{PROJECT}:bucketPrefix") or f"{PROJECT}-{account_id}"
    kms_key_id = get(f"{PROJECT}:kmsPrimaryKeyId") or None
    if kms_key_id is not None and not _MRK_RE.match(kms_key_id):
        raise ConfigError(
            f"{PROJECT}:kmsPrimaryKeyId",
            kms_key_id,
            "expected a multi-Region key id: 'mrk-' followed by 32 lowercase hex digits",
        )
    if region != KMS_PRIMARY_REGION and kms_key_id is None:
        raise ConfigError(
            f"{PROJECT}:kmsPrimaryKeyId",
            None,
            f"required in the {region} stack: the id of the multi-Region primary key in "
            f"{KMS_PRIMARY_REGION} (after the first `pulumi up -s prod`: "
            "`pulumi stack output kmsKeyId -s prod`)",
        )
    peer_deployed_raw = get(f"{PROJECT}:peerDeployed")
    peer_deployed = (
        True if peer_deployed_raw is None else _bool(f"{PROJECT}:peerDeployed", peer_deployed_raw)
    )
    weekly = _choice(
        f"{PROJECT}:weeklyBackupStorageClass",
        get(f"{PROJECT}:weeklyBackupStorageClass") or "GLACIER_IR",
        WEEKLY_STORAGE_CLASSES,
    )
    peer_role, peer_lost = split_brain_guard(raw, region, peer_region, role)

    settings = StackSettings(
        project=project,
        stack=stack,
        region=region,
        peer_region=peer_region,
        role=role,  # type: ignore[arg-type]  # narrowed by _choice
        account_id=account_id,
        bucket_prefix=bucket_prefix,
        kms_primary_key_id=kms_key_id,
        peer_deployed=peer_deployed,
        weekly_backup_storage_class=weekly,
        retention=_retention(get(f"{PROJECT}:retention")),
        database=_database(
            raw,
            region=region,
            peer_region=peer_region,
            role=role,
            account_id=account_id,
            peer_deployed=peer_deployed,
            secret_keys=secret_keys,
        ),
        tags=_tags(get(f"{PROJECT}:tags")),
        aws_profile=get("aws:profile") or None,
        backup=_backup(get(f"{PROJECT}:backup"), get(f"{PROJECT}:vaultLock"), region, peer_region),
        alarms=_alarms(
            get(f"{PROJECT}:alarms"),
            get(f"{PROJECT}:alarmWebhookUrl") or None,
            f"{PROJECT}:alarmWebhookUrl" in secret_keys,
        ),
        traffic=_traffic(get(f"{PROJECT}:traffic")),
        workloads=_workloads(raw, secret_keys, region, account_id),
        peer_lost=peer_lost,
        peer_role=peer_role,
        recovery=_recovery_targets(raw),
    )
    for store in settings.stores:
        for r in (region, peer_region):
            validate_bucket_name(f"{PROJECT}:bucketPrefix", settings.bucket_name(store.key, r))
    return settings


def check_peer_stack(settings: StackSettings, peer: StackSettings) -> None:
    """Rules that need both stacks' config. The offline preview has both stack files at hand; a
    plain `pulumi up` sees only its own stack, so run the preview first (CI does)."""
    if peer.region != settings.peer_region:
        return
    db, peer_db = settings.database, peer.database
    if settings.role == "passive" and db.peer_generation != peer_db.generation:
        raise ConfigError(
            f"{PROJECT}:peerDbGeneration",
            db.peer_generation,
            f"stack {peer.stack!r} runs generation {peer_db.generation}: a replica follows the "
            "peer's live primary",
        )
    if db.generation in (peer_db.generation, *peer_db.retained_generations):
        raise ConfigError(
            f"{PROJECT}:dbGeneration",
            db.generation,
            f"stack {peer.stack!r} already uses generation {db.generation}: generation numbers "
            "are shared by both stacks, take one above every number in use",
        )


# --------------------------------------------------------------------------------------------
# DR drills: the split-brain guard and the recovery targets
# --------------------------------------------------------------------------------------------


def split_brain_guard(
    raw: Mapping[str, str], region: str, peer_region: str, role: str
) -> tuple[Role, bool]:
    """A stack may be ``active`` only while its peer is known ``passive`` or declared lost.

    The peer's role comes from this stack's own config (``peerRole``), so the guard holds at
    ``pulumi up`` with no call into the peer's region and whether or not the peer exists."""
    lost_key, peer_key = f"{PROJECT}:peerLost", f"{PROJECT}:peerRole"
    lost = _bool(lost_key, raw[lost_key]) if raw.get(lost_key) else False
    if lost and role != "active":
        raise ConfigError(lost_key, True, "only an active stack may declare its peer lost")
    normal = "passive" if region == NORMALLY_ACTIVE_REGION else "active"
    peer_role = _choice(peer_key, raw.get(peer_key) or normal, ROLES)
    if role == "active" and peer_role == "active" and not lost:
        raise ConfigError(
            f"{PROJECT}:role",
            role,
            f"the peer stack ({peer_region}) is active too ({peer_key} = active): two writable "
            f"primaries. Make the peer passive first and set {peer_key} passive here, or set "
            f"{lost_key} true if {peer_region} is lost",
        )
    return peer_role, lost  # type: ignore[return-value]  # narrowed by _choice


def check_peer_role(settings: StackSettings, peer_stack: str, peer_role: str | None) -> None:
    """Offline, the peer's stack file is at hand: its role must be the one this stack assumes."""
    if settings.peer_lost or peer_role not in ROLES:
        return  # a lost peer's file is stale by definition; a bad role is its own preview's error
    if settings.role == peer_role == "active":
        raise ConfigError(
            f"{PROJECT}:role",
            settings.role,
            f"stack {peer_stack!r} is active too (Pulumi.{peer_stack}.yaml): two writable "
            f"primaries. Make it passive first, or set {PROJECT}:peerLost true if "
            f"{settings.peer_region} is lost",
        )
    if peer_role != settings.peer_role:
        raise ConfigError(
            f"{PROJECT}:peerRole",
            settings.peer_role,
            f"stack {peer_stack!r} is {peer_role} (Pulumi.{peer_stack}.yaml): set "
            f"{PROJECT}:peerRole {peer_role} in this stack, the value its pulumi up checks",
        )


def _minutes(raw: Mapping[str, str], name: str, default: int, high: int) -> int:
    key = f"{PROJECT}:{name}"
    value = raw.get(key)
    if value is None or value == "":
        return default
    text = value.strip()
    if not re.fullmatch(r"\d+", text) or not 1 <= int(text) <= high:
        raise ConfigError(key, value, f"expected a whole number of minutes from 1 to {high}")
    return int(text)


def _recovery_targets(raw: Mapping[str, str]) -> RecoveryTargets:
    return RecoveryTargets(
        rto_minutes=_minutes(raw, "rtoTargetMinutes", RecoveryTargets.rto_minutes, 1440),
        rpo_minutes=_minutes(raw, "rpoTargetMinutes", RecoveryTargets.rpo_minutes, 1440),
        promotion_minutes=_minutes(raw, "promotionMinutes", RecoveryTargets.promotion_minutes, 240),
    )


def to_pulumi_value(value: Any) -> str:
    """Encode a YAML config value the way the Pulumi CLI hands it to a program (strings)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)
