"""The data tier's declarations: PostgreSQL, Redis and DocumentDB settings and identifiers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from components.database import instance_identifier
from infra.settings.core import KMS_PRIMARY_REGION, PROJECT, SUPPORTED_REGIONS, Key, Secret
from infra.settings.models import Section, choice, name, whole

#: The region whose stack created the ElastiCache Global Datastore and the DocumentDB global
#: cluster, with their primary-born members. Fixed for their lifetime: whether a member was
#: created as primary or as secondary is immutable in AWS, whoever is the global primary now.
GLOBAL_STORES_HOME_REGION = KMS_PRIMARY_REGION

#: Highest PostgreSQL generation number (identifiers stay short).
MAX_GENERATION = 9999
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


@dataclass(frozen=True)
class NetworkSettings:
    """The network the data stores live in (owned elsewhere; this program only references it)."""

    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    allowed_security_group_ids: tuple[str, ...]
    """Security groups (the applications') allowed to reach the data stores."""


_PG_NAME = ("[A-Za-z][A-Za-z0-9_]{0,62}", "1-63 letters, digits or _, starting with a letter")
_PG_RESERVED = ("rdsadmin", "postgres")
_DOCDB_USER = ("[A-Za-z][A-Za-z0-9]{0,62}", "1-63 letters or digits, starting with a letter")


class PostgresSettings(Section):
    """RDS for PostgreSQL sizing and retention (the replica uses the same class and storage)."""

    instance_class: Annotated[str, choice(POSTGRES_INSTANCE_CLASSES, "RDS instance class.")] = (
        "db.r6g.large"
    )
    engine_version: Annotated[str, choice(POSTGRES_ENGINE_VERSIONS, "Major version.")] = "16"
    allocated_storage_gb: Annotated[int, whole(20, 65536, "Storage, GiB.", " (GiB)")] = 100
    max_allocated_storage_gb: Annotated[
        int, whole(20, 65536, "Storage autoscaling ceiling.", " (GiB)")
    ] = 500
    backup_retention_days: Annotated[
        int, whole(7, 35, "Automated backups kept, days.", " (days)")
    ] = 7
    database_name: Annotated[
        str, name(*_PG_NAME, "Database created in the instance.", _PG_RESERVED)
    ] = "reskflow"
    master_username: Annotated[str, name(*_PG_NAME, "Master user.", _PG_RESERVED)] = (
        "reskflow_admin"
    )

    @property
    def parameter_group_family(self) -> str:
        return f"postgres{self.engine_version}"


class RedisSettings(Section):
    """ElastiCache for Redis OSS, one replication group per region in a Global Datastore."""

    node_type: Annotated[str, choice(REDIS_NODE_TYPES, "Node type.")] = "cache.r6g.large"
    engine_version: Annotated[str, choice(REDIS_ENGINE_VERSIONS, "Redis OSS version.")] = "7.1"
    nodes_per_region: Annotated[int, whole(2, 6, "Nodes per region (Multi-AZ).")] = 2
    snapshot_retention_days: Annotated[int, whole(1, 35, "Snapshots kept, days.", " (days)")] = 7


class DocdbSettings(Section):
    """Amazon DocumentDB, one cluster per region in a global cluster."""

    instance_class: Annotated[str, choice(DOCDB_INSTANCE_CLASSES, "Instance class.")] = (
        "db.r6g.large"
    )
    engine_version: Annotated[str, choice(DOCDB_ENGINE_VERSIONS, "Engine version.")] = "5.0.0"
    instances_per_region: Annotated[int, whole(1, 16, "Instances per region.")] = 2
    backup_retention_days: Annotated[int, whole(1, 35, "Backups kept, days.", " (days)")] = 7
    master_username: Annotated[str, name(*_DOCDB_USER, "Master user (home stack only).")] = (
        "reskflowadmin"
    )

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


def redis_replication_group_id(region: str) -> str:
    """The region's Redis replication group, a member of the Global Datastore."""
    return f"{REDIS_GLOBAL_SUFFIX}-{region}"


def docdb_cluster_identifier(region: str) -> str:
    """The region's DocumentDB cluster, a member of the global cluster."""
    return f"{DOCDB_GLOBAL_IDENTIFIER}-{region}"


def docdb_cluster_arn(account_id: str, region: str) -> str:
    """ARN of the region's DocumentDB cluster, derived without calling AWS."""
    return f"arn:aws:rds:{region}:{account_id}:cluster:{docdb_cluster_identifier(region)}"


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
    postgres: PostgresSettings = field(default_factory=PostgresSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    docdb: DocdbSettings = field(default_factory=DocdbSettings)

    @property
    def identifier(self) -> str:
        return postgres_identifier(self.generation)


NETWORK_FIELDS = {
    "vpcId": "vpc_id",
    "privateSubnetIds": "private_subnet_ids",
    "allowedSecurityGroupIds": "allowed_security_group_ids",
}

# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

NETWORK_KEY = Key(
    f"{PROJECT}:network",
    "object",
    "required",
    "Where the data stores live (the network itself is not managed here): `vpcId`, "
    "`privateSubnetIds` (at least two, in different Availability Zones) and "
    "`allowedSecurityGroupIds` (the only sources allowed to reach the data stores).",
    fields=tuple(NETWORK_FIELDS),
)


DB_GENERATION_KEY = Key(
    f"{PROJECT}:dbGeneration",
    "integer",
    "`1`",
    "Generation of this stack's live PostgreSQL instance (identifier "
    f"`{POSTGRES_IDENTIFIER_PREFIX}-g<N>`). Numbers are shared by both stacks: a new instance "
    "takes a number above every one in use, so a replica's generation is above its source's.",
    minimum=1,
    maximum=MAX_GENERATION,
)


PEER_DB_GENERATION_KEY = Key(
    f"{PROJECT}:peerDbGeneration",
    "integer",
    "required when `passive`",
    "Generation of the peer's live (primary) instance: the replica's source ARN is derived "
    "from it, the account id and the peer region (`pulumi stack output dbGeneration`).",
    minimum=1,
    maximum=MAX_GENERATION,
)


RETAINED_DB_GENERATIONS_KEY = Key(
    f"{PROJECT}:retainedDbGenerations",
    "list",
    "`[]`",
    "Earlier generations of this stack, each below `dbGeneration`: kept declared, protected, "
    "deletion-protected and fenced (no ingress) after a failback.",
)


CACHE_PRIMARY_REGION_KEY = Key(
    f"{PROJECT}:cachePrimaryRegion",
    "string",
    f"`{GLOBAL_STORES_HOME_REGION}`",
    "Region of the Redis Global Datastore's primary. It changes only through the ElastiCache "
    "failover API; record it here afterwards. Must be this region when `active` and the peer "
    "region when `passive`.",
    choices=SUPPORTED_REGIONS,
)


DOCDB_PRIMARY_REGION_KEY = Key(
    f"{PROJECT}:docdbPrimaryRegion",
    "string",
    f"`{GLOBAL_STORES_HOME_REGION}`",
    "Region of the DocumentDB global cluster's primary; same rules as `cachePrimaryRegion` "
    "(switchover or failover API first, then this key).",
    choices=SUPPORTED_REGIONS,
)


CACHE_GLOBAL_DATASTORE_ID_KEY = Key(
    f"{PROJECT}:cacheGlobalDatastoreId",
    "string",
    f"required outside {GLOBAL_STORES_HOME_REGION}",
    "Full id of the Redis Global Datastore (AWS prefixes the suffix "
    f"`{REDIS_GLOBAL_SUFFIX}` per region): `pulumi stack output cacheGlobalDatastoreId -s "
    "prod`.",
)


CACHE_AUTH_TOKEN_KEY = Key(
    f"{PROJECT}:cacheAuthToken",
    "secret",
    f"required in {GLOBAL_STORES_HOME_REGION}",
    'Redis AUTH token (16-128 printable characters, none of `/`, `"`, `@` or space), set '
    "with `pulumi config set --secret`. The secondary inherits AUTH from the Global Datastore.",
)


DOCDB_MASTER_PASSWORD_KEY = Key(
    f"{PROJECT}:docdbMasterPassword",
    "secret",
    f"required in {GLOBAL_STORES_HOME_REGION}",
    'DocumentDB master password (8-100 printable characters, none of `/`, `"`, `@`), set with '
    "`pulumi config set --secret`; DocumentDB global clusters cannot use a managed password.",
)


POSTGRES_KEY = Key(
    f"{PROJECT}:postgres",
    "object",
    "see meaning",
    "RDS for PostgreSQL: `instanceClass` (`db.r6g.large`; M6G, M6I, M7G, R6G, R6I, R7G "
    "classes), `engineVersion` (`16`; major 15, 16 or 17), `allocatedStorageGb` (100), "
    "`maxAllocatedStorageGb` (500), `backupRetentionDays` (7; 7-35), `databaseName` "
    "(`reskflow`), `masterUsername` (`reskflow_admin`).",
    fields=PostgresSettings.field_names(),
    model=PostgresSettings,
)


REDIS_KEY = Key(
    f"{PROJECT}:redis",
    "object",
    "see meaning",
    "ElastiCache for Redis OSS: `nodeType` (`cache.r6g.large`; M6G, M7G, R6G, R7G), "
    "`engineVersion` (`7.1`; 6.2, 7.0 or 7.1), `nodesPerRegion` (2; 2-6, Multi-AZ), "
    "`snapshotRetentionDays` (7; 1-35).",
    fields=RedisSettings.field_names(),
    model=RedisSettings,
)


DOCDB_KEY = Key(
    f"{PROJECT}:docdb",
    "object",
    "see meaning",
    "Amazon DocumentDB: `instanceClass` (`db.r6g.large`; R5 or R6G), `engineVersion` "
    "(`5.0.0`; or `4.0.0`), `instancesPerRegion` (2; 1-16), `backupRetentionDays` (7; 1-35), "
    "`masterUsername` (`reskflowadmin`).",
    fields=DocdbSettings.field_names(),
    model=DocdbSettings,
)

#: This tier's keys, in the order the README lists them.
KEYS: tuple[Key, ...] = (
    NETWORK_KEY,
    DB_GENERATION_KEY,
    PEER_DB_GENERATION_KEY,
    RETAINED_DB_GENERATIONS_KEY,
    CACHE_PRIMARY_REGION_KEY,
    DOCDB_PRIMARY_REGION_KEY,
    CACHE_GLOBAL_DATASTORE_ID_KEY,
    CACHE_AUTH_TOKEN_KEY,
    DOCDB_MASTER_PASSWORD_KEY,
    POSTGRES_KEY,
    REDIS_KEY,
    DOCDB_KEY,
)
