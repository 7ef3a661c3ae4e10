"""The contract between the declared Region switch plan (``components/``), the Lambda handlers and
the local runner: which actions exist, what each needs to know, and what it may call in AWS.

The program serialises one :class:`StepConfig` per stack as JSON into the Lambda environment
variable :data:`CONFIG_ENV`; the local runner builds the same object from the offline plan. Each
action reads only the fields it needs. IAM policies are generated from :attr:`Action.iam_actions`
so a handler can never call more than its contract says.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

CONFIG_ENV = "RESKFLOW_STEP_CONFIG"
"""Lambda environment variable holding :meth:`StepConfig.to_json`."""

TrafficMode = Literal["arc", "signal"]
"""``arc``: Route 53 ARC routing controls; ``signal``: calculated health checks gated by a
CloudWatch signal that the surviving side sets (see docs/traffic-switch.md)."""


@dataclass(frozen=True)
class RegionFacts:
    """The data stores and fences of one region, by their deterministic identifiers."""

    region: str
    postgres_id: str
    """RDS instance identifier of the current generation in this region."""
    docdb_cluster_id: str
    """DocumentDB cluster identifier (a member of the global cluster)."""
    cache_group_id: str
    """ElastiCache replication group id (a member of the Global Datastore)."""
    fence_security_group_ids: dict[str, str] = field(default_factory=dict)
    """Store kind (``postgres``, ``docdb``, ``cache``) -> security group with no ingress."""
    routing_control_arn: str = ""
    """ARC mode: this region's routing control."""


@dataclass(frozen=True)
class ClusterEndpoint:
    """One of the ARC cluster's regional data-plane endpoints."""

    region: str
    endpoint: str


@dataclass(frozen=True)
class StepConfig:
    """Everything a step may need to know, for both regions."""

    account_id: str
    regions: dict[str, RegionFacts]
    docdb_global_id: str
    cache_global_id: str
    traffic_mode: TrafficMode = "arc"
    cluster_endpoints: tuple[ClusterEndpoint, ...] = ()
    signal_namespace: str = "ReskFlow/DR"
    signal_metric: str = "RegionActive"
    """Signal mode: metric (dimension ``Region``) that the gating alarms watch, published into
    the CloudWatch of each region listed in :attr:`signal_regions`."""
    signal_regions: tuple[str, ...] = ()
    partition: str = "aws"
    """ARN partition, for the DocumentDB cluster ARNs the global-cluster calls take."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> StepConfig:
        raw: dict[str, Any] = json.loads(text)
        return cls(
            account_id=raw["account_id"],
            regions={k: RegionFacts(**v) for k, v in raw["regions"].items()},
            docdb_global_id=raw["docdb_global_id"],
            cache_global_id=raw["cache_global_id"],
            traffic_mode=raw.get("traffic_mode", "arc"),
            cluster_endpoints=tuple(ClusterEndpoint(**e) for e in raw.get("cluster_endpoints", ())),
            signal_namespace=raw.get("signal_namespace", "ReskFlow/DR"),
            signal_metric=raw.get("signal_metric", "RegionActive"),
            signal_regions=tuple(raw.get("signal_regions", ())),
            partition=raw.get("partition", "aws"),
        )


@dataclass(frozen=True)
class Action:
    """A custom step: the Lambda handler that runs it and the AWS calls it may make."""

    name: str
    summary: str
    iam_actions: tuple[str, ...]

    @property
    def handler(self) -> str:
        """Lambda handler string (module path inside the deployment package)."""
        return f"failover_steps.lambda_entry.{self.name}"


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "fence_region",
            "attach the no-ingress fence security groups to a region's data stores",
            (
                "rds:DescribeDBInstances",
                "rds:ModifyDBInstance",
                "rds:DescribeDBClusters",
                "rds:ModifyDBCluster",
                "elasticache:DescribeReplicationGroups",
                "elasticache:DescribeCacheClusters",
                "elasticache:ModifyReplicationGroup",
            ),
        ),
        Action(
            "promote_postgres",
            "promote the region's PostgreSQL read replica to a standalone writer",
            ("rds:DescribeDBInstances", "rds:PromoteReadReplica"),
        ),
        Action(
            "failover_cache",
            "make the region's replication group the Global Datastore's primary",
            (
                "elasticache:DescribeGlobalReplicationGroups",
                "elasticache:DescribeReplicationGroups",
                "elasticache:FailoverGlobalReplicationGroup",
                "elasticache:DisassociateGlobalReplicationGroup",
                "arc-region-switch:GetPlanExecution",
            ),
        ),
        Action(
            "failover_docdb",
            "make the region's DocumentDB cluster the global cluster's writer",
            (
                "rds:DescribeGlobalClusters",
                "rds:FailoverGlobalCluster",
                "rds:SwitchoverGlobalCluster",
                "arc-region-switch:GetPlanExecution",
            ),
        ),
        Action(
            "verify_writable",
            "check that the region's stores accept writes and the peer's are fenced",
            (
                "rds:DescribeDBInstances",
                "rds:DescribeDBClusters",
                "rds:DescribeGlobalClusters",
                "elasticache:DescribeGlobalReplicationGroups",
                "elasticache:DescribeReplicationGroups",
                "elasticache:DescribeCacheClusters",
                "arc-region-switch:GetPlanExecution",
            ),
        ),
        Action(
            "set_traffic_signal",
            "signal mode: publish which region is active into the surviving region's CloudWatch",
            ("cloudwatch:PutMetricData", "arc-region-switch:GetPlanExecution"),
        ),
    )
}
