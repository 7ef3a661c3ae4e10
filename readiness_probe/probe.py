"""Scheduled readiness probe: runs in each region as a Lambda (boto3 and the standard library
only), checks what that region needs to take over, and publishes one CloudWatch metric per check
(namespace ``ReskFlow/Readiness``, metric ``CheckPassed``, dimension ``Check``: 1 pass, 0 fail).
A check with nothing configured publishes nothing, so its alarm (missing data breaching) only
exists for declared checks.

Targets come from the ``READINESS_TARGETS`` environment variable (JSON, written by the program):
``docdbGlobalCluster`` + ``docdbCluster``, ``redisGlobalDatastore`` + ``redisGroup``,
``secrets`` (names or ARNs), ``images`` (``{"repository", "tag"}`` in this region's ECR) and
``capacity`` (``{"cluster", "nodegroup", "minMaxSize"}``). The interactive, plan-driven checks
are reskflow_dr/readiness.py; this module shares no code with it on purpose (boto3 only).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

NAMESPACE = "ReskFlow/Readiness"
METRIC = "CheckPassed"
TARGETS_ENV = "READINESS_TARGETS"

Check = Callable[[Any, dict[str, Any]], bool]


def docdb_member(session: Any, t: dict[str, Any]) -> bool:
    """This region's DocumentDB cluster is a member of the global cluster, which is available."""
    found = session.client("docdb").describe_global_clusters(
        GlobalClusterIdentifier=t["docdbGlobalCluster"]
    )["GlobalClusters"]
    if not found or found[0].get("Status") != "available":
        return False
    members = [m.get("DBClusterArn", "") for m in found[0].get("GlobalClusterMembers", [])]
    return any(arn.endswith(f":cluster:{t['docdbCluster']}") for arn in members)


def redis_member(session: Any, t: dict[str, Any]) -> bool:
    """This region's replication group is an associated member of the Global Datastore."""
    groups = session.client("elasticache").describe_global_replication_groups(
        GlobalReplicationGroupId=t["redisGlobalDatastore"], ShowMemberInfo=True
    )["GlobalReplicationGroups"]
    members = groups[0].get("Members", []) if groups else []
    return any(
        m.get("ReplicationGroupId") == t["redisGroup"] and m.get("Status") == "associated"
        for m in members
    )


def secrets_present(session: Any, t: dict[str, Any]) -> bool:
    """Every application secret exists in this region and is not scheduled for deletion."""
    client = session.client("secretsmanager")
    return all("DeletedDate" not in client.describe_secret(SecretId=n) for n in t["secrets"])


def images_present(session: Any, t: dict[str, Any]) -> bool:
    """Every service image (repository:tag) is in this region's ECR (replicated from the other
    region by ECR replication)."""
    client = session.client("ecr")
    for image in t["images"]:
        found = client.describe_images(
            repositoryName=image["repository"], imageIds=[{"imageTag": image["tag"]}]
        )["imageDetails"]
        if not found:
            return False
    return True


def capacity(session: Any, t: dict[str, Any]) -> bool:
    """The DR node group may scale to the active size (its maxSize)."""
    c = t["capacity"]
    group = session.client("eks").describe_nodegroup(
        clusterName=c["cluster"], nodegroupName=c["nodegroup"]
    )["nodegroup"]
    return int(group["scalingConfig"]["maxSize"]) >= int(c["minMaxSize"])


#: Check name -> (function, the target keys it needs).
CHECKS: dict[str, tuple[Check, tuple[str, ...]]] = {
    "docdb-global-member": (docdb_member, ("docdbGlobalCluster", "docdbCluster")),
    "redis-global-member": (redis_member, ("redisGlobalDatastore", "redisGroup")),
    "secrets-present": (secrets_present, ("secrets",)),
    "images-present": (images_present, ("images",)),
    "cluster-capacity": (capacity, ("capacity",)),
}


def declared(targets: dict[str, Any]) -> list[str]:
    """The checks whose targets are configured."""
    return [name for name, (_fn, keys) in CHECKS.items() if all(targets.get(k) for k in keys)]


def run(session: Any, targets: dict[str, Any]) -> dict[str, bool]:
    """Each declared check's verdict; an AWS error is a failure (the region is not ready)."""
    results = {}
    for name in declared(targets):
        fn = CHECKS[name][0]
        try:
            results[name] = bool(fn(session, targets))
        except (ClientError, BotoCoreError, KeyError, IndexError):
            results[name] = False
    return results


def publish(session: Any, results: dict[str, bool]) -> None:
    if not results:
        return
    session.client("cloudwatch").put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {
                "MetricName": METRIC,
                "Dimensions": [{"Name": "Check", "Value": name}],
                "Value": 1.0 if ok else 0.0,
                "Unit": "Count",
            }
            for name, ok in sorted(results.items())
        ],
    )


def handler(event: Any, context: Any) -> dict[str, bool]:
    """Lambda entry point (EventBridge Scheduler invokes it)."""
    region = os.environ["AWS_REGION"]
    targets = json.loads(os.environ.get(TARGETS_ENV, "{}"))
    session = boto3.session.Session(region_name=region)
    results = run(session, targets)
    publish(session, results)
    return results
