"""Typed stack configuration, declared once per key and split by tier.

Pulumi hands a program its config as a flat map of ``namespace:key`` to strings (objects arrive as
JSON text). :func:`load_settings` turns that map into frozen dataclasses, or raises
:class:`ConfigError` with one line naming the key, the value and what is allowed. Components never
read config; the composition root passes these plain values down.

Each key is declared once, as a :class:`Key` constant in the module of its tier (``core`` for the
identity keys, then ``storage``, ``backup``, ``traffic``, ``alarms``, ``data``, ``guards``,
``targets``, ``workloads``); :data:`KEYS` gathers them. The README's config reference, the stack
files' JSON Schema and the ``Pulumi.yaml`` type declarations are generated from them
(``infra.settings.reference``). Cross-key rules are plain functions in ``guards``.
"""

from infra.settings.alarms import AlarmSettings
from infra.settings.backup import BackupSettings, VaultLockSettings
from infra.settings.core import (
    ACCOUNT_ID_KEY,
    AWS_REGION_KEY,
    KMS_PRIMARY_REGION,
    NORMALLY_ACTIVE_REGION,
    OFFLINE_SECRET,
    PEER_REGION_KEY,
    PRIMARY_RECORD_REGION,
    PROJECT,
    REPLICATION_TIME_MINUTES,
    ROLE_KEY,
    ROLES,
    RPO_SECONDS,
    SUPPORTED_REGIONS,
    ConfigError,
    Key,
    Role,
    Secret,
    to_pulumi_value,
)
from infra.settings.data import (
    CACHE_GLOBAL_DATASTORE_ID_KEY,
    CACHE_PRIMARY_REGION_KEY,
    DB_GENERATION_KEY,
    DOCDB_GLOBAL_IDENTIFIER,
    DOCDB_PRIMARY_REGION_KEY,
    GLOBAL_STORES_HOME_REGION,
    PEER_DB_GENERATION_KEY,
    POSTGRES_IDENTIFIER_PREFIX,
    REDIS_GLOBAL_SUFFIX,
    RETAINED_DB_GENERATIONS_KEY,
    DatabaseSettings,
    docdb_cluster_arn,
    docdb_cluster_identifier,
    postgres_arn,
    postgres_identifier,
    redis_replication_group_id,
)
from infra.settings.edge import EDGE_OWNER_REGION, EdgeSettings
from infra.settings.guards import (
    PEER_LOST_KEY,
    PEER_ROLE_KEY,
    check_peer_role,
    check_peer_stack,
    split_brain_guard,
)
from infra.settings.keys import KEYS, KEYS_BY_NAME
from infra.settings.reference import config_reference_markdown
from infra.settings.stack import StackSettings, load_settings, runtime_secret_keys
from infra.settings.storage import Retention, StoreSpec, validate_bucket_name
from infra.settings.targets import (
    PROMOTION_MINUTES_KEY,
    RPO_TARGET_MINUTES_KEY,
    RTO_TARGET_MINUTES_KEY,
    RecoveryTargets,
)
from infra.settings.traffic import TrafficSettings
from infra.settings.workloads import WorkloadSettings

__all__ = [
    "ACCOUNT_ID_KEY",
    "AWS_REGION_KEY",
    "CACHE_GLOBAL_DATASTORE_ID_KEY",
    "CACHE_PRIMARY_REGION_KEY",
    "DB_GENERATION_KEY",
    "DOCDB_GLOBAL_IDENTIFIER",
    "DOCDB_PRIMARY_REGION_KEY",
    "EDGE_OWNER_REGION",
    "GLOBAL_STORES_HOME_REGION",
    "KEYS",
    "KEYS_BY_NAME",
    "KMS_PRIMARY_REGION",
    "NORMALLY_ACTIVE_REGION",
    "OFFLINE_SECRET",
    "PEER_DB_GENERATION_KEY",
    "PEER_LOST_KEY",
    "PEER_REGION_KEY",
    "PEER_ROLE_KEY",
    "POSTGRES_IDENTIFIER_PREFIX",
    "PRIMARY_RECORD_REGION",
    "PROJECT",
    "PROMOTION_MINUTES_KEY",
    "REDIS_GLOBAL_SUFFIX",
    "REPLICATION_TIME_MINUTES",
    "RETAINED_DB_GENERATIONS_KEY",
    "ROLES",
    "ROLE_KEY",
    "RPO_SECONDS",
    "RPO_TARGET_MINUTES_KEY",
    "RTO_TARGET_MINUTES_KEY",
    "SUPPORTED_REGIONS",
    "AlarmSettings",
    "BackupSettings",
    "ConfigError",
    "DatabaseSettings",
    "EdgeSettings",
    "Key",
    "RecoveryTargets",
    "Retention",
    "Role",
    "Secret",
    "StackSettings",
    "StoreSpec",
    "TrafficSettings",
    "VaultLockSettings",
    "WorkloadSettings",
    "check_peer_role",
    "check_peer_stack",
    "config_reference_markdown",
    "docdb_cluster_arn",
    "docdb_cluster_identifier",
    "load_settings",
    "postgres_arn",
    "postgres_identifier",
    "redis_replication_group_id",
    "runtime_secret_keys",
    "split_brain_guard",
    "to_pulumi_value",
    "validate_bucket_name",
]
