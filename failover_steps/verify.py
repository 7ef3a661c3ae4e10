"""Verification: the target region's stores accept writes (and, when the peer is reachable, the
peer's are fenced). Read-only: only Describe calls, all to the named regions' endpoints."""

from __future__ import annotations

from failover_steps.aws import Check, StepResult, client, cluster_arn, facts, peer_of
from failover_steps.contract import StepConfig
from failover_steps.fence import fence_checks
from failover_steps.promote import cache_member_role, docdb_writer, postgres_writable


def verify_writable(config: StepConfig, region: str, *, peer_fenced: bool = False) -> StepResult:
    """Check, in ``region``: the RDS instance is available and not a replica; the DocumentDB
    global cluster's writer is this region's cluster; this region's replication group is the
    Global Datastore's primary or stands alone (disassociated in a disaster). With
    ``peer_fenced`` (graceful: the peer is reachable) also check that every store of the peer
    carries its fence group. The result lists each check; :attr:`StepResult.ok` is their AND."""
    where = facts(config, region)
    checks: list[Check] = []

    instance = client("rds", region).describe_db_instances(DBInstanceIdentifier=where.postgres_id)[
        "DBInstances"
    ][0]
    checks.append(
        Check(
            "postgres-writable",
            postgres_writable(instance),
            f"{where.postgres_id}: {instance.get('DBInstanceStatus')}, replica of "
            f"{instance.get('ReadReplicaSourceDBInstanceIdentifier') or 'nothing'}",
        )
    )

    target = cluster_arn(config, region, where.docdb_cluster_id)
    writer, status = docdb_writer(client("docdb", region), config.docdb_global_id)
    checks.append(
        Check(
            "docdb-writer",
            writer == target,
            f"global cluster {config.docdb_global_id} ({status}) writer {writer or 'none'}",
        )
    )

    elasticache = client("elasticache", region)
    role, _ = cache_member_role(elasticache, config.cache_global_id, where.cache_group_id)
    group = elasticache.describe_replication_groups(ReplicationGroupId=where.cache_group_id)[
        "ReplicationGroups"
    ][0]
    checks.append(
        Check(
            "cache-primary",
            role in ("PRIMARY", "standalone") and group.get("Status") == "available",
            f"{where.cache_group_id}: {role} in {config.cache_global_id}, {group.get('Status')}",
        )
    )

    if peer_fenced:
        checks.extend(fence_checks(config, peer_of(config, region)))
    return StepResult("verify_writable", region, checks=tuple(checks))
