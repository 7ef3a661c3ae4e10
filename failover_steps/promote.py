"""Promotion: make the target region's stores writable.

Every call goes to the target region's endpoints only, so the ungraceful path works with the
peer region unreachable. Each step looks first and acts only when needed: a re-run after success
changes nothing, a re-run while AWS is still working waits instead of calling again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from failover_steps.aws import (
    StepError,
    StepResult,
    client,
    cluster_arn,
    error_code,
    facts,
    wait_until,
)
from failover_steps.contract import StepConfig
from failover_steps.workflows import Mode

Sleep = Callable[[float], None]
Clock = Callable[[], float]


def _postgres(rds: Any, instance_id: str) -> dict[str, Any]:
    found: dict[str, Any] = rds.describe_db_instances(DBInstanceIdentifier=instance_id)[
        "DBInstances"
    ][0]
    return found


def postgres_writable(instance: dict[str, Any]) -> bool:
    return instance.get("DBInstanceStatus") == "available" and not instance.get(
        "ReadReplicaSourceDBInstanceIdentifier"
    )


def promote_postgres(
    config: StepConfig,
    region: str,
    *,
    wait_s: float = 0.0,
    poll_s: float = 15.0,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> StepResult:
    """PromoteReadReplica on the region's instance while it is still a replica of another;
    nothing when it already stands alone. With ``wait_s`` > 0, poll (at most that long) until the
    instance is available and no longer a replica; raise :class:`StepError` if it is not by then
    (Region switch retries the step, which then only waits)."""
    where = facts(config, region)
    rds = client("rds", region)
    instance = _postgres(rds, where.postgres_id)
    changed: list[str] = []
    notes: list[str] = []
    source = instance.get("ReadReplicaSourceDBInstanceIdentifier")
    if source and instance.get("DBInstanceStatus") == "available":
        rds.promote_read_replica(DBInstanceIdentifier=where.postgres_id)
        changed.append(f"rds:PromoteReadReplica {where.postgres_id} (replica of {source})")
    elif source:
        notes.append(
            f"{where.postgres_id} is {instance.get('DBInstanceStatus')}: promotion under way"
        )
    if wait_s > 0:
        instance = wait_postgres_writable(
            config, region, timeout_s=wait_s, poll_s=poll_s, sleep=sleep, clock=clock
        )
    else:
        instance = _postgres(rds, where.postgres_id)
    return StepResult(
        "promote_postgres",
        region,
        changed=tuple(changed),
        notes=tuple(notes),
        data={
            "status": str(instance.get("DBInstanceStatus", "")),
            "replica_of": str(instance.get("ReadReplicaSourceDBInstanceIdentifier") or ""),
            "writable": str(postgres_writable(instance)).lower(),
        },
    )


def wait_postgres_writable(
    config: StepConfig,
    region: str,
    *,
    timeout_s: float,
    poll_s: float = 15.0,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> dict[str, Any]:
    """Poll the region's instance until it is available and not a replica, for at most
    ``timeout_s`` seconds. Returns the last description; raises :class:`StepError` on timeout."""
    where = facts(config, region)
    rds = client("rds", region)
    last: dict[str, Any] = {}

    def probe() -> tuple[bool, str]:
        last.clear()
        last.update(_postgres(rds, where.postgres_id))
        replica = " and a replica" if last.get("ReadReplicaSourceDBInstanceIdentifier") else ""
        return postgres_writable(last), f"{last.get('DBInstanceStatus')!r}{replica}"

    wait_until(
        probe,
        what=f"{where.postgres_id} in {region}",
        timeout_s=timeout_s,
        poll_s=poll_s,
        sleep=sleep,
        clock=clock,
    )
    return last


def _global_datastore(elasticache: Any, global_id: str) -> dict[str, Any] | None:
    try:
        groups = elasticache.describe_global_replication_groups(
            GlobalReplicationGroupId=global_id, ShowMemberInfo=True
        )["GlobalReplicationGroups"]
    except ClientError as err:
        if error_code(err) == "GlobalReplicationGroupNotFoundFault":
            return None
        raise
    return dict(groups[0]) if groups else None


def cache_member_role(elasticache: Any, global_id: str, group_id: str) -> tuple[str, str]:
    """(role, datastore status): ``PRIMARY``/``SECONDARY`` in the Global Datastore, or
    ``standalone`` when the group is no longer a member (after a disassociation)."""
    datastore = _global_datastore(elasticache, global_id) or {}
    for member in datastore.get("Members", []):
        if member.get("ReplicationGroupId") == group_id:
            return str(member.get("Role", "")).upper(), str(datastore.get("Status", ""))
    return "standalone", str(datastore.get("Status", ""))


def _cache_done(role: str, mode: Mode) -> bool:
    return role == "PRIMARY" or (role == "standalone" and mode == "ungraceful")


def failover_cache(
    config: StepConfig,
    region: str,
    mode: Mode,
    *,
    wait_s: float = 0.0,
    poll_s: float = 15.0,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> StepResult:
    """Make the region's replication group the writable Redis.

    Graceful (the primary's region answers): FailoverGlobalReplicationGroup with the target as the
    new primary; the old primary becomes a secondary, nothing is lost. While the datastore is not
    ``available`` (a change under way) nothing is called again.
    Ungraceful (the primary's region is down): the failover call needs the old primary to step
    down, so the target is removed from the Global Datastore with
    DisassociateGlobalReplicationGroup, sent to the target region's endpoint; it "remains as a
    standalone cluster in that region" and takes writes.
    https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DisassociateGlobalReplicationGroup.html
    https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_FailoverGlobalReplicationGroup.html
    AWS's documentation does not state whether the disassociation succeeds while the primary's
    region is unreachable; when AWS refuses, the error is reported unchanged (not verified live).
    The returning region's old primary is then fenced and re-joined as a secondary (failback).
    With ``wait_s`` > 0, poll until the change shows (bounded).
    """
    where = facts(config, region)
    elasticache = client("elasticache", region)
    role, status = cache_member_role(elasticache, config.cache_global_id, where.cache_group_id)
    changed: list[str] = []
    notes: list[str] = []
    if _cache_done(role, mode):
        pass
    elif role == "standalone":
        raise StepError(
            f"{where.cache_group_id} is not a member of the Global Datastore "
            f"{config.cache_global_id}: a graceful failover cannot promote it"
        )
    elif mode == "graceful" and status not in ("", "available"):
        notes.append(f"Global Datastore {config.cache_global_id} is {status}: change under way")
    elif mode == "graceful":
        elasticache.failover_global_replication_group(
            GlobalReplicationGroupId=config.cache_global_id,
            PrimaryRegion=region,
            PrimaryReplicationGroupId=where.cache_group_id,
        )
        changed.append(f"elasticache:FailoverGlobalReplicationGroup -> {where.cache_group_id}")
    else:
        elasticache.disassociate_global_replication_group(
            GlobalReplicationGroupId=config.cache_global_id,
            ReplicationGroupId=where.cache_group_id,
            ReplicationGroupRegion=region,
        )
        changed.append(f"elasticache:DisassociateGlobalReplicationGroup {where.cache_group_id}")
    if wait_s > 0 and not _cache_done(role, mode):

        def probe() -> tuple[bool, str]:
            now, _ = cache_member_role(elasticache, config.cache_global_id, where.cache_group_id)
            return _cache_done(now, mode), now

        wait_until(
            probe,
            what=f"{where.cache_group_id} in {config.cache_global_id}",
            timeout_s=wait_s,
            poll_s=poll_s,
            sleep=sleep,
            clock=clock,
        )
    return StepResult(
        "failover_cache",
        region,
        changed=tuple(changed),
        notes=tuple(notes),
        data={"role_before": role},
    )


def docdb_writer(docdb: Any, global_id: str) -> tuple[str, str]:
    """(writer cluster ARN or "", global cluster status) of the DocumentDB global cluster."""
    found = docdb.describe_global_clusters(GlobalClusterIdentifier=global_id)["GlobalClusters"]
    if not found:
        raise StepError(f"DocumentDB global cluster {global_id} not found")
    members = found[0].get("GlobalClusterMembers", [])
    writer = next((m["DBClusterArn"] for m in members if m.get("IsWriter")), "")
    return str(writer), str(found[0].get("Status", ""))


def failover_docdb(
    config: StepConfig,
    region: str,
    mode: Mode,
    *,
    wait_s: float = 0.0,
    poll_s: float = 15.0,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> StepResult:
    """Make the region's DocumentDB cluster the global cluster's writer: SwitchoverGlobalCluster
    when graceful (no data loss), FailoverGlobalCluster with AllowDataLoss when ungraceful (the
    API for "a regional disaster in the primary region"). Both go to the target region's endpoint
    with the target cluster's ARN, as the API asks ("so that Amazon DocumentDB can locate the
    cluster in its AWS Region").
    https://docs.aws.amazon.com/documentdb/latest/developerguide/API_FailoverGlobalCluster.html
    https://docs.aws.amazon.com/documentdb/latest/developerguide/API_SwitchoverGlobalCluster.html
    Region switch has its own DocumentDB block; the local runner uses this step. With ``wait_s``
    > 0, poll until the target is the writer (bounded)."""
    where = facts(config, region)
    docdb = client("docdb", region)
    target = cluster_arn(config, region, where.docdb_cluster_id)
    writer, status = docdb_writer(docdb, config.docdb_global_id)
    changed: list[str] = []
    notes: list[str] = []
    if writer == target:
        pass
    elif status not in ("", "available"):
        notes.append(f"global cluster {config.docdb_global_id} is {status}: change under way")
    elif mode == "graceful":
        docdb.switchover_global_cluster(
            GlobalClusterIdentifier=config.docdb_global_id, TargetDbClusterIdentifier=target
        )
        changed.append(f"docdb:SwitchoverGlobalCluster -> {where.docdb_cluster_id}")
    else:
        docdb.failover_global_cluster(
            GlobalClusterIdentifier=config.docdb_global_id,
            TargetDbClusterIdentifier=target,
            AllowDataLoss=True,
        )
        changed.append(f"docdb:FailoverGlobalCluster (AllowDataLoss) -> {where.docdb_cluster_id}")
    if wait_s > 0 and writer != target:

        def probe() -> tuple[bool, str]:
            now, state = docdb_writer(docdb, config.docdb_global_id)
            return now == target, f"{state or 'unknown'} with writer {now or 'none'}"

        wait_until(
            probe,
            what=f"global cluster {config.docdb_global_id}",
            timeout_s=wait_s,
            poll_s=poll_s,
            sleep=sleep,
            clock=clock,
        )
    return StepResult(
        "failover_docdb",
        region,
        changed=tuple(changed),
        notes=tuple(notes),
        data={"writer_before": writer, "status": status},
    )
