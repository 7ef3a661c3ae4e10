"""Fencing: a region's data stores get the no-ingress fence security groups, so nothing can write
to them until the region is reconciled (docs/failover-execution.md).

Every call goes to the fenced region's own endpoints. A store that already carries exactly its
fence group is left alone, so fencing twice changes nothing.
"""

from __future__ import annotations

from typing import Any

from failover_steps.aws import Check, StepError, StepResult, client, facts
from failover_steps.contract import RegionFacts, StepConfig

STORES = ("postgres", "docdb", "cache")


def _fence_group(region: RegionFacts, store: str) -> str:
    group = region.fence_security_group_ids.get(store, "")
    if not group:
        raise StepError(
            f"fence_security_group_ids[{store!r}] is empty for {region.region}: "
            "every store needs a fence security group"
        )
    return group


def postgres_groups(rds: Any, instance_id: str) -> set[str]:
    found = rds.describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"][0]
    return {g["VpcSecurityGroupId"] for g in found.get("VpcSecurityGroups", [])}


def docdb_groups(docdb: Any, cluster_id: str) -> set[str]:
    found = docdb.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
    return {g["VpcSecurityGroupId"] for g in found.get("VpcSecurityGroups", [])}


def cache_groups(elasticache: Any, group_id: str) -> set[str]:
    """Security groups of every member cluster (ElastiCache reports them per cache cluster, not
    on the replication group). A member with another set shows up as a union larger than one."""
    group = elasticache.describe_replication_groups(ReplicationGroupId=group_id)
    members = group["ReplicationGroups"][0].get("MemberClusters", [])
    if not members:
        raise StepError(f"replication group {group_id} has no member clusters")
    found: set[str] = set()
    for member in members:
        cluster = elasticache.describe_cache_clusters(CacheClusterId=member)["CacheClusters"][0]
        found |= {g["SecurityGroupId"] for g in cluster.get("SecurityGroups", [])}
    return found


def fence_checks(config: StepConfig, region: str) -> tuple[Check, ...]:
    """Whether each store of ``region`` carries exactly its fence group (no change made)."""
    where = facts(config, region)
    current = {
        "postgres": postgres_groups(client("rds", region), where.postgres_id),
        "docdb": docdb_groups(client("docdb", region), where.docdb_cluster_id),
        "cache": cache_groups(client("elasticache", region), where.cache_group_id),
    }
    return tuple(
        Check(
            f"{store}-fenced:{region}",
            current[store] == {_fence_group(where, store)},
            f"security groups {sorted(current[store])}",
        )
        for store in STORES
    )


def fence_region(config: StepConfig, region: str) -> StepResult:
    """Attach each store's fence security group in ``region`` (RDS instance, DocumentDB cluster,
    ElastiCache replication group), applied immediately. Already fenced stores are not touched."""
    where = facts(config, region)
    changed: list[str] = []

    rds = client("rds", region)
    fence = _fence_group(where, "postgres")
    if postgres_groups(rds, where.postgres_id) != {fence}:
        rds.modify_db_instance(
            DBInstanceIdentifier=where.postgres_id,
            VpcSecurityGroupIds=[fence],
            ApplyImmediately=True,
        )
        changed.append(f"rds:ModifyDBInstance {where.postgres_id} -> {fence}")

    docdb = client("docdb", region)
    fence = _fence_group(where, "docdb")
    if docdb_groups(docdb, where.docdb_cluster_id) != {fence}:
        docdb.modify_db_cluster(
            DBClusterIdentifier=where.docdb_cluster_id,
            VpcSecurityGroupIds=[fence],
            ApplyImmediately=True,
        )
        changed.append(f"rds:ModifyDBCluster {where.docdb_cluster_id} -> {fence}")

    elasticache = client("elasticache", region)
    fence = _fence_group(where, "cache")
    if cache_groups(elasticache, where.cache_group_id) != {fence}:
        elasticache.modify_replication_group(
            ReplicationGroupId=where.cache_group_id,
            SecurityGroupIds=[fence],
            ApplyImmediately=True,
        )
        changed.append(f"elasticache:ModifyReplicationGroup {where.cache_group_id} -> {fence}")

    return StepResult("fence_region", region, changed=tuple(changed))
