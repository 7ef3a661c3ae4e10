"""``reskflow-dr restore``: point-in-time recovery as a command (seed: "Recovery Procedures",
"Database Corruption").

- ``postgres``: the stack's live instance restored to a time (or its latest restorable time)
  into the next PostgreSQL generation (``reskflow-postgres-g<N>``, a new identifier the program
  declares once ``reskflow:dbGeneration`` says so), in the source's subnet group and security
  groups, encrypted with the source's key, deletion-protected and tagged for backup.
- ``docdb``: the region's DocumentDB cluster restored into a new cluster identifier, with one
  instance so that it answers.
- ``s3``: one object brought back as the current version, from a given version id or from the
  newest version written before a time.

Each waits (bounded), runs the same checks as the restore-test validation
(:mod:`restore_checks.checks`) and prints the config change that makes the restored store the
stack's own. boto3 clients are created here with the stack's region; ``--endpoint-url`` points
them at an emulator.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from infra.settings import StackSettings
from infra.settings.data import docdb_cluster_identifier, postgres_identifier
from reskflow_dr.stackfiles import UsageError
from restore_checks.checks import Verdict, check_docdb_cluster, check_rds_instance

ClientFactory = Callable[[str], Any]
#: Polling interval of the waits; ``--wait-minutes`` bounds them.
POLL_SECONDS = 30


class RestoreError(Exception):
    """AWS refused the restore, the wait ran out, or the restored store failed its checks."""


@dataclass
class RestoreResult:
    store: str
    source: str
    target: str
    region: str
    restore_time: str
    verdict: Verdict | None = None
    config_commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "source": self.source,
            "target": self.target,
            "region": self.region,
            "restoreTime": self.restore_time,
            "valid": None if self.verdict is None else self.verdict.ok,
            "validation": None if self.verdict is None else self.verdict.message,
            "configChange": self.config_commands,
            "notes": self.notes,
        }


def clients(region: str, endpoint_url: str | None = None) -> ClientFactory:
    def make(service: str) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=endpoint_url)

    return make


def parse_time(text: str | None) -> dt.datetime | None:
    """``--to``: an ISO 8601 time with a zone (``2026-12-04T09:30:00Z``); None = latest."""
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"usage error: --to {text!r}: expected an ISO 8601 time such as 2026-12-04T09:30:00Z"
        ) from None
    if when.tzinfo is None:
        raise UsageError(f"usage error: --to {text!r}: give a zone, e.g. Z for UTC")
    return when.astimezone(dt.UTC)


def _point(when: dt.datetime | None, time_key: str) -> dict[str, Any]:
    return {"UseLatestRestorableTime": True} if when is None else {time_key: when}


def _check_window(when: dt.datetime | None, latest: Any, what: str) -> None:
    if when is not None and isinstance(latest, dt.datetime) and when > latest:
        raise UsageError(
            f"usage error: --to {when.isoformat()}: after the latest restorable time of "
            f"{what} ({latest.isoformat()})"
        )


def generations_in_use(settings: StackSettings, peer: StackSettings | None) -> list[int]:
    """Every PostgreSQL generation this stack and its peer declare (the numbers are shared)."""
    used = [settings.database.generation, *settings.database.retained_generations]
    if settings.database.peer_generation is not None:
        used.append(settings.database.peer_generation)
    if peer is not None:
        used += [peer.database.generation, *peer.database.retained_generations]
    return used


def _network(subnet_group: str | None, groups: list[dict[str, Any]]) -> dict[str, Any]:
    """The source's subnet group and security groups, so the restore lands in the same fence
    (without them RDS uses the default subnet group and security group)."""
    found: dict[str, Any] = {}
    if subnet_group:
        found["DBSubnetGroupName"] = subnet_group
    if groups:
        found["VpcSecurityGroupIds"] = [g["VpcSecurityGroupId"] for g in groups]
    return found


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def next_generation(used: list[int]) -> int:
    return max(used) + 1


def _wait(waiter: Any, minutes: int, **kwargs: Any) -> None:
    attempts = max(1, minutes * 60 // POLL_SECONDS)
    try:
        waiter.wait(**kwargs, WaiterConfig={"Delay": POLL_SECONDS, "MaxAttempts": attempts})
    except WaiterError as err:
        raise RestoreError(f"not available after {minutes} minutes: {err}") from None


def restore_postgres(
    settings: StackSettings,
    client: ClientFactory,
    when: dt.datetime | None,
    wait_minutes: int,
    generation: int | None = None,
    peer: StackSettings | None = None,
) -> RestoreResult:
    """``peer``: the peer stack's settings (its generations are taken too)."""
    d = settings.database
    if settings.role != "active":
        raise UsageError(
            f"usage error: stack {settings.stack!r} is passive: its instance is a replica; "
            "restore the active stack's database"
        )
    used = generations_in_use(settings, peer)
    target_gen = generation or next_generation(used)
    if target_gen <= max(used):
        raise UsageError(
            f"usage error: --generation {target_gen}: must be above every generation in use "
            f"(next free: {next_generation(used)})"
        )
    source, target = postgres_identifier(d.generation), postgres_identifier(target_gen)
    rds = client("rds")
    try:
        (db,) = rds.describe_db_instances(DBInstanceIdentifier=source)["DBInstances"]
        _check_window(when, db.get("LatestRestorableTime"), source)
        rds.restore_db_instance_to_point_in_time(
            SourceDBInstanceIdentifier=source,
            TargetDBInstanceIdentifier=target,
            **_point(when, "RestoreTime"),
            **_network(
                (db.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
                db.get("VpcSecurityGroups", []),
            ),
            MultiAZ=True,
            PubliclyAccessible=False,
            DeletionProtection=True,
            CopyTagsToSnapshot=True,
            Tags=[
                {"Key": "reskflow:backup", "Value": "dr"},
                {"Key": "reskflow:store", "Value": "postgres"},
                {"Key": "reskflow:generation", "Value": str(target_gen)},
            ],
        )
    except ClientError as err:
        raise RestoreError(f"{source}: {err.response['Error']['Message']}") from None
    except BotoCoreError as err:
        raise RestoreError(f"{source}: {_one_line(err)}") from None
    _wait(rds.get_waiter("db_instance_available"), wait_minutes, DBInstanceIdentifier=target)
    retained = sorted({*d.retained_generations, d.generation})
    stack = settings.stack
    return RestoreResult(
        "postgres",
        source,
        target,
        settings.region,
        "latest" if when is None else when.isoformat(),
        check_rds_instance(rds, target, db.get("KmsKeyId")),
        [
            f"pulumi config set reskflow:dbGeneration {target_gen} -s {stack}",
            f"pulumi config set reskflow:retainedDbGenerations '{json.dumps(retained)}' -s {stack}",
            f"pulumi import aws:rds/instance:Instance postgres-g{target_gen} {target} -s {stack} "
            "--protect --parent <URN of the postgres component, from pulumi stack --show-urns>",
        ],
        [
            f"{source} is kept (retained and fenced) for forensics; the peer's replica still "
            f"follows it: rebuild it from {target} with a new replica generation",
        ],
    )


def restore_docdb(
    settings: StackSettings,
    client: ClientFactory,
    when: dt.datetime | None,
    wait_minutes: int,
    target: str,
) -> RestoreResult:
    source = docdb_cluster_identifier(settings.region)
    if target == source:
        raise UsageError(f"usage error: --target-id {target}: must differ from the live cluster")
    docdb = client("docdb")
    try:
        (cluster,) = docdb.describe_db_clusters(DBClusterIdentifier=source)["DBClusters"]
        _check_window(when, cluster.get("LatestRestorableTime"), source)
        docdb.restore_db_cluster_to_point_in_time(
            DBClusterIdentifier=target,
            SourceDBClusterIdentifier=source,
            **_point(when, "RestoreToTime"),
            **_network(cluster.get("DBSubnetGroup"), cluster.get("VpcSecurityGroups", [])),
            KmsKeyId=cluster.get("KmsKeyId"),
            DeletionProtection=True,
            Tags=[
                {"Key": "reskflow:backup", "Value": "dr"},
                {"Key": "reskflow:store", "Value": "docdb"},
            ],
        )
        # A restored cluster has no instance: it answers once one is added.
        docdb.create_db_instance(
            DBInstanceIdentifier=f"{target}-1",
            DBInstanceClass=settings.database.docdb.instance_class,
            Engine="docdb",
            DBClusterIdentifier=target,
        )
    except ClientError as err:
        raise RestoreError(f"{source}: {err.response['Error']['Message']}") from None
    except BotoCoreError as err:
        raise RestoreError(f"{source}: {_one_line(err)}") from None
    _wait(
        docdb.get_waiter("db_instance_available"), wait_minutes, DBInstanceIdentifier=f"{target}-1"
    )
    return RestoreResult(
        "docdb",
        source,
        target,
        settings.region,
        "latest" if when is None else when.isoformat(),
        check_docdb_cluster(docdb, target, cluster.get("KmsKeyId")),
        [],
        [
            f"the program declares the cluster {source} by a fixed identifier: point the "
            f"applications' DocumentDB endpoint at {target}, or copy the data back into {source} "
            "(mongodump/mongorestore); the restored cluster is not managed by the stack",
        ],
    )


def restore_s3_object(
    settings: StackSettings,
    client: ClientFactory,
    store: str,
    key: str,
    version_id: str | None,
    before: dt.datetime | None,
) -> RestoreResult:
    """Copy an earlier version over the current one (the history stays: S3 keeps every version)."""
    if store not in {s.key for s in settings.stores}:
        allowed = ", ".join(s.key for s in settings.stores)
        raise UsageError(f"usage error: --store {store!r}: allowed values are {allowed}")
    bucket = settings.bucket_name(store, settings.region)
    s3 = client("s3")
    try:
        if version_id is None:
            version_id = _version_before(s3, bucket, key, before)
        s3.copy_object(
            Bucket=bucket,
            Key=key,
            CopySource={"Bucket": bucket, "Key": key, "VersionId": version_id},
        )
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        raise RestoreError(f"s3://{bucket}/{key}: {err.response['Error']['Message']}") from None
    except BotoCoreError as err:
        raise RestoreError(f"s3://{bucket}/{key}: {_one_line(err)}") from None
    return RestoreResult(
        "s3",
        f"s3://{bucket}/{key}?versionId={version_id}",
        f"s3://{bucket}/{key}?versionId={head.get('VersionId')}",
        settings.region,
        "latest" if before is None else before.isoformat(),
        None,
        [],
        ["the restored copy is a new current version; replication carries it to the peer"],
    )


def _version_before(s3: Any, bucket: str, key: str, before: dt.datetime | None) -> str:
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    mine = [v for v in versions if v["Key"] == key]
    if before is not None:
        mine = [v for v in mine if v["LastModified"] <= before]
    if not mine:
        when = f" written before {before.isoformat()}" if before else ""
        raise UsageError(f"usage error: s3://{bucket}/{key}: no version{when}")
    return str(max(mine, key=lambda v: v["LastModified"])["VersionId"])


def render(result: RestoreResult) -> str:
    lines = [f"Restored {result.store} {result.source} -> {result.target} in {result.region} "
             f"(to {result.restore_time})"]  # fmt: skip
    if result.verdict is not None:
        lines.append(f"Validation: {result.verdict.message}")
    if result.config_commands:
        lines.append("Make it the stack's database:")
        lines += [f"  $ {c}" for c in result.config_commands]
    lines += [f"Note: {n}" for n in result.notes]
    return "\n".join(lines)
