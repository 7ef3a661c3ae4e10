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

from components.kms import RegionalKey, RegionalKeyArgs  # noqa: E402
from components.replication import (  # noqa: E402
    BucketReplication,
    BucketReplicationArgs,
    ReplicatedPair,
)
from components.storage import SecureBucket, SecureBucketArgs  # noqa: E402
from infra.config import (  # noqa: E402
    KMS_PRIMARY_REGION,
    REPLICATION_TIME_MINUTES,
    ConfigError,
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
