"""Composition root of the ReskFlow DR program (one stack per region).

Reads the stack config once into typed settings, creates the stack's regional AWS provider, and
builds each tier from components with plain values. The Pulumi language host runs this file with
``runpy.run_path("infra/")``; ``reskflow-dr preview`` runs it the same way under mocks.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The language host puts infra/ on sys.path; the components live beside it.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import pulumi  # noqa: E402
import pulumi_aws as aws  # noqa: E402

from components.cache import GlobalCache, GlobalCacheArgs  # noqa: E402
from components.database import (  # noqa: E402
    PostgresArgs,
    PostgresBackupCopy,
    PostgresBackupCopyArgs,
    PostgresDatabase,
)
from components.datanet import Placement  # noqa: E402
from components.docdb import DocumentCluster, DocumentClusterArgs  # noqa: E402
from components.kms import RegionalKey, RegionalKeyArgs  # noqa: E402
from components.replication import (  # noqa: E402
    BucketReplication,
    BucketReplicationArgs,
    ReplicatedPair,
)
from components.storage import SecureBucket, SecureBucketArgs  # noqa: E402
from infra.config import (  # noqa: E402
    DOCDB_GLOBAL_IDENTIFIER,
    KMS_PRIMARY_REGION,
    POSTGRES_IDENTIFIER_PREFIX,
    REDIS_GLOBAL_SUFFIX,
    REPLICATION_TIME_MINUTES,
    ConfigError,
    Secret,
    StackSettings,
    load_settings,
)


def read_config() -> dict[str, str]:
    """The stack's whole config map, as the engine passes it to the program."""
    merged = dict(pulumi.runtime.config.get_config_env())
    merged.update(pulumi.runtime.config.CONFIG.get())
    return {key: str(value) for key, value in merged.items()}


def regional_provider(settings: StackSettings) -> aws.Provider:
    """The only AWS provider of the stack: default providers are disabled in Pulumi.yaml."""
    return aws.Provider(
        f"aws-{settings.region}",
        region=settings.region,
        allowed_account_ids=[settings.account_id],
        profile=settings.aws_profile,
        default_tags=aws.ProviderDefaultTagsArgs(
            tags={
                **settings.tags,
                "project": settings.project,
                "stack": settings.stack,
                "managed-by": "pulumi",
            }
        ),
    )


def _secret_input(secret: Secret | None) -> pulumi.Output[str] | None:
    """A secret config value as a secret Output: the engine stores and shows it encrypted."""
    return None if secret is None else pulumi.Output.secret(secret.value)


def build_data_tier(
    settings: StackSettings,
    regional: pulumi.ResourceOptions,
    key: RegionalKey,
    peer_key_arn: pulumi.Input[str],
) -> None:
    """PostgreSQL (primary or replica, by role), Redis and DocumentDB (members of global stores,
    by home region); the failover and failback runbook is docs/database-failover.md."""
    db, region = settings.database, settings.region
    placement = Placement(
        db.network.vpc_id, db.network.private_subnet_ids, db.network.allowed_security_group_ids
    )
    pg = db.postgres
    postgres = PostgresDatabase(
        "postgres",
        PostgresArgs(
            name_prefix=POSTGRES_IDENTIFIER_PREFIX,
            generation=db.generation,
            source_arn=db.source_arn,
            retained_generations=db.retained_generations,
            instance_class=pg.instance_class,
            engine_version=pg.engine_version,
            allocated_storage_gb=pg.allocated_storage_gb,
            max_allocated_storage_gb=pg.max_allocated_storage_gb,
            backup_retention_days=pg.backup_retention_days,
            database_name=pg.database_name,
            master_username=pg.master_username,
            kms_key_arn=key.key_arn,
            placement=placement,
        ),
        opts=regional,
    )
    if settings.role == "active" and settings.peer_deployed and not settings.peer_lost:
        PostgresBackupCopy(
            "postgres-backups",
            PostgresBackupCopyArgs(
                postgres.arn, settings.peer_region, peer_key_arn, pg.backup_retention_days
            ),
            opts=regional,
        )
    cache = GlobalCache(
        "redis",
        GlobalCacheArgs(
            replication_group_id=f"{REDIS_GLOBAL_SUFFIX}-{region}",
            home=db.home,
            global_datastore_suffix=REDIS_GLOBAL_SUFFIX,
            global_datastore_id=db.cache_global_datastore_id,
            node_type=db.redis.node_type,
            engine_version=db.redis.engine_version,
            nodes=db.redis.nodes_per_region,
            snapshot_retention_days=db.redis.snapshot_retention_days,
            kms_key_arn=key.key_arn,
            auth_token=_secret_input(db.cache_auth_token),
            placement=placement,
        ),
        opts=regional,
    )
    documents = DocumentCluster(
        "docdb",
        DocumentClusterArgs(
            cluster_identifier=f"{DOCDB_GLOBAL_IDENTIFIER}-{region}",
            home=db.home,
            global_cluster_identifier=DOCDB_GLOBAL_IDENTIFIER,
            engine_version=db.docdb.engine_version,
            parameter_group_family=db.docdb.parameter_group_family,
            instance_class=db.docdb.instance_class,
            instances=db.docdb.instances_per_region,
            backup_retention_days=db.docdb.backup_retention_days,
            kms_key_arn=key.key_arn,
            master_username=db.docdb.master_username if db.home else None,
            master_password=_secret_input(db.docdb_master_password),
            placement=placement,
        ),
        opts=regional,
    )

    pulumi.export("dbGeneration", db.generation)
    pulumi.export(
        "postgres",
        {
            "role": "replica" if db.source_arn else "primary",
            "generation": db.generation,
            "identifier": postgres.identifier,
            "arn": postgres.arn,
            "endpoint": postgres.endpoint,
            "sourceArn": db.source_arn,
            "masterUserSecretArn": postgres.master_user_secret_arn,
            "retainedIdentifiers": postgres.retained_identifiers,
        },
    )
    pulumi.export(
        "redis",
        {
            "globalPrimaryRegion": db.cache_primary_region,
            "globalDatastoreId": cache.global_datastore_id,
            "arn": cache.arn,
            "primaryEndpoint": cache.primary_endpoint,
            "readerEndpoint": cache.reader_endpoint,
        },
    )
    pulumi.export(
        "docdb",
        {
            "globalPrimaryRegion": db.docdb_primary_region,
            "globalClusterIdentifier": DOCDB_GLOBAL_IDENTIFIER,
            "arn": documents.arn,
            "endpoint": documents.endpoint,
            "readerEndpoint": documents.reader_endpoint,
        },
    )
    if db.home:
        pulumi.export("cacheGlobalDatastoreId", cache.global_datastore_id)


def build(settings: StackSettings) -> None:
    provider = regional_provider(settings)
    regional = pulumi.ResourceOptions(providers=[provider])

    key = RegionalKey(
        "kms",
        RegionalKeyArgs(
            region=settings.region,
            account_id=settings.account_id,
            alias="reskflow-dr",
            primary_key_arn=None
            if settings.holds_kms_primary
            else settings.kms_key_arn(KMS_PRIMARY_REGION, str(settings.kms_primary_key_id)),
        ),
        opts=regional,
    )
    peer_key_arn = key.key_id.apply(
        lambda key_id: settings.kms_key_arn(settings.peer_region, key_id)
    )

    buckets: dict[str, SecureBucket] = {}
    for store in settings.stores:
        buckets[store.key] = SecureBucket(
            f"s3-{store.key}",
            SecureBucketArgs(
                bucket_name=settings.bucket_name(store.key, settings.region),
                kms_key_arn=key.key_arn,
                store=store.key,
                expiries=store.expiries,
                incomplete_multipart_days=settings.retention.incomplete_multipart_days,
            ),
            opts=regional,
        )

    if settings.peer_deployed:
        replication = BucketReplication(
            "s3-replication",
            BucketReplicationArgs(
                source_region=settings.region,
                destination_region=settings.peer_region,
                account_id=settings.account_id,
                pairs=[
                    ReplicatedPair(
                        store=store,
                        source_bucket=bucket.bucket_name,
                        source_arn=settings.bucket_arn(store, settings.region),
                        destination_arn=settings.bucket_arn(store, settings.peer_region),
                        versioning=bucket.versioning,
                    )
                    for store, bucket in buckets.items()
                ],
                source_key_arn=key.key_arn,
                destination_key_arn=peer_key_arn,
                replication_minutes=REPLICATION_TIME_MINUTES,
            ),
            opts=regional,
        )
        pulumi.export("replicationRoleArn", replication.role_arn)

    build_data_tier(settings, regional, key, peer_key_arn)

    pulumi.export("region", settings.region)
    pulumi.export("peerRegion", settings.peer_region)
    pulumi.export("role", settings.role)
    pulumi.export("kmsKeyId", key.key_id)
    pulumi.export("kmsKeyArn", key.key_arn)
    pulumi.export("buckets", {name: b.bucket_name for name, b in buckets.items()})


def main() -> None:
    try:
        settings = load_settings(read_config(), pulumi.get_stack(), pulumi.get_project())
    except ConfigError as err:
        # RunError ends the program with this one line and no traceback.
        raise pulumi.RunError(str(err)) from None
    build(settings)


main()
