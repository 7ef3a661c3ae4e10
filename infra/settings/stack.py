"""The whole stack's settings and :func:`load_settings`, which reads every tier."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from pulumi.runtime.config import get_config_secret_keys_env, is_config_secret

from infra.settings.alarms import ALARM_WEBHOOK_URL_KEY, ALARMS_KEY, AlarmSettings, parse_alarms
from infra.settings.backup import BACKUP_KEY, VAULT_LOCK_KEY, BackupSettings, parse_backup
from infra.settings.backup_safety import (
    ISOLATED_COPY_KEY,
    OBJECT_LOCK_KEY,
    continuous_covers_engine,
    weekly_class_replicates,
)
from infra.settings.core import (
    ACCOUNT_ID_KEY,
    ACCOUNT_ID_RE,
    AWS_PROFILE_KEY,
    AWS_REGION_KEY,
    KMS_PRIMARY_REGION,
    PEER_REGION_KEY,
    PRIMARY_RECORD_REGION,
    PROJECT,
    ROLE_KEY,
    ROLES,
    SUPPORTED_REGIONS,
    VALIDATED_NAMESPACES,
    WEEKLY_STORAGE_CLASSES,
    ConfigError,
    Role,
)
from infra.settings.data import DatabaseSettings
from infra.settings.database import parse_database
from infra.settings.edge import (
    EDGE_DISTRIBUTION_ID_KEY,
    EDGE_KEY,
    EdgeSettings,
    parse_edge,
)
from infra.settings.failover import FailoverSettings, parse_failover
from infra.settings.guards import dump_images_not_older, split_brain_guard
from infra.settings.keys import KEYS_BY_NAME
from infra.settings.parse import as_bool, choice, suggest
from infra.settings.storage import (
    BUCKET_PREFIX_KEY,
    KMS_PRIMARY_KEY_ID_KEY,
    MRK_RE,
    PEER_DEPLOYED_KEY,
    RETENTION_KEY,
    TAGS_KEY,
    WEEKLY_BACKUP_STORAGE_CLASS_KEY,
    Retention,
    StoreSpec,
    parse_retention,
    parse_tags,
    store_catalog,
    validate_bucket_name,
)
from infra.settings.targets import RecoveryTargets, parse_recovery_targets
from infra.settings.traffic import TRAFFIC_KEY, TrafficSettings, parse_traffic
from infra.settings.workloads import WorkloadSettings, parse_workloads


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
    failover: FailoverSettings = field(default_factory=FailoverSettings)
    """Traffic switch, Region switch plan, peer stack reference and fence."""
    edge: EdgeSettings | None = None
    """CloudFront and WAF (``reskflow:edge``); None when the stack declares no edge."""

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


def _check_unknown_keys(raw: Mapping[str, str]) -> None:
    known = list(KEYS_BY_NAME)
    for name in sorted(raw):
        namespace = name.split(":", 1)[0]
        if namespace in VALIDATED_NAMESPACES and name not in KEYS_BY_NAME:
            raise ConfigError(name, raw[name], "unknown config key; " + suggest(name, known))


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
    organization: str = "organization",
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
    region = choice(
        AWS_REGION_KEY.name,
        require(AWS_REGION_KEY.name, f"allowed values are {regions}"),
        SUPPORTED_REGIONS,
    )
    peer_default = next(r for r in SUPPORTED_REGIONS if r != region)
    peer_region = choice(
        PEER_REGION_KEY.name, get(PEER_REGION_KEY.name) or peer_default, SUPPORTED_REGIONS
    )
    if peer_region == region:
        raise ConfigError(
            PEER_REGION_KEY.name,
            peer_region,
            f"both stacks would be in one region; the peer of {region} must be {peer_default}",
        )
    role = choice(
        ROLE_KEY.name,
        require(ROLE_KEY.name, "allowed values are " + ", ".join(ROLES)),
        ROLES,
    )
    account_id = require(ACCOUNT_ID_KEY.name, "a 12-digit AWS account id")
    if not ACCOUNT_ID_RE.fullmatch(account_id):
        raise ConfigError(ACCOUNT_ID_KEY.name, account_id, "expected a 12-digit AWS account id")

    bucket_prefix = get(BUCKET_PREFIX_KEY.name) or f"{PROJECT}-{account_id}"
    kms_key_id = get(KMS_PRIMARY_KEY_ID_KEY.name) or None
    if kms_key_id is not None and not MRK_RE.fullmatch(kms_key_id):
        raise ConfigError(
            KMS_PRIMARY_KEY_ID_KEY.name,
            kms_key_id,
            "expected a multi-Region key id: 'mrk-' followed by 32 lowercase hex digits",
        )
    if region != KMS_PRIMARY_REGION and kms_key_id is None:
        raise ConfigError(
            KMS_PRIMARY_KEY_ID_KEY.name,
            None,
            f"required in the {region} stack: the id of the multi-Region primary key in "
            f"{KMS_PRIMARY_REGION} (after the first `pulumi up -s prod`: "
            "`pulumi stack output kmsKeyId -s prod`)",
        )
    peer_deployed_raw = get(PEER_DEPLOYED_KEY.name)
    peer_deployed = (
        True if peer_deployed_raw is None else as_bool(PEER_DEPLOYED_KEY.name, peer_deployed_raw)
    )
    weekly = choice(
        WEEKLY_BACKUP_STORAGE_CLASS_KEY.name,
        get(WEEKLY_BACKUP_STORAGE_CLASS_KEY.name) or "GLACIER_IR",
        WEEKLY_STORAGE_CLASSES,
    )
    peer_role, peer_lost = split_brain_guard(raw, region, peer_region, role)

    settings = StackSettings(
        project=project,
        stack=stack,
        region=region,
        peer_region=peer_region,
        role=role,  # type: ignore[arg-type]  # narrowed by choice
        account_id=account_id,
        bucket_prefix=bucket_prefix,
        kms_primary_key_id=kms_key_id,
        peer_deployed=peer_deployed,
        weekly_backup_storage_class=weekly,
        retention=parse_retention(get(RETENTION_KEY.name)),
        database=parse_database(
            raw,
            region=region,
            peer_region=peer_region,
            role=role,
            account_id=account_id,
            peer_deployed=peer_deployed,
            secret_keys=secret_keys,
        ),
        tags=parse_tags(get(TAGS_KEY.name)),
        aws_profile=get(AWS_PROFILE_KEY.name) or None,
        backup=parse_backup(
            get(BACKUP_KEY.name),
            get(VAULT_LOCK_KEY.name),
            region,
            peer_region,
            get(ISOLATED_COPY_KEY.name),
            get(OBJECT_LOCK_KEY.name),
            account_id,
        ),
        alarms=parse_alarms(
            get(ALARMS_KEY.name),
            get(ALARM_WEBHOOK_URL_KEY.name) or None,
            ALARM_WEBHOOK_URL_KEY.name in secret_keys,
        ),
        traffic=parse_traffic(get(TRAFFIC_KEY.name)),
        workloads=parse_workloads(raw, secret_keys, region, account_id),
        peer_lost=peer_lost,
        peer_role=peer_role,
        recovery=parse_recovery_targets(raw),
        failover=parse_failover(
            raw,
            region=region,
            peer_region=peer_region,
            role=role,
            peer_role=peer_role,
            peer_deployed=peer_deployed,
            peer_lost=peer_lost,
            organization=organization,
        ),
    )
    dump_images_not_older(settings)
    weekly_class_replicates(WEEKLY_BACKUP_STORAGE_CLASS_KEY.name, weekly)
    continuous_covers_engine(
        BACKUP_KEY.name,
        settings.backup.continuous_days,
        settings.database.postgres.backup_retention_days,
    )
    edge = parse_edge(
        get(EDGE_KEY.name) or None,
        get(EDGE_DISTRIBUTION_ID_KEY.name) or None,
        region=region,
        api_record=settings.traffic.record_name,
        stores=[store.key for store in settings.stores],
    )
    if edge is not None:
        settings = replace(settings, edge=edge)
    for store in settings.stores:
        for r in (region, peer_region):
            validate_bucket_name(BUCKET_PREFIX_KEY.name, settings.bucket_name(store.key, r))
    return settings
