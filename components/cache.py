"""Redis OSS on ElastiCache in a Global Datastore: one replication group per region.

How a group joined the Global Datastore is fixed for its lifetime: the *home* stack creates its
group as a plain (primary) group and the Global Datastore around it; the other stack creates its
group as a secondary with ``global_replication_group_id``. Which region is the global primary
*now* is a different matter: it changes only through the ElastiCache API
(``FailoverGlobalReplicationGroup``, or ``DisassociateGlobalReplicationGroup`` when the primary
region is gone), never through this program. So neither declaration depends on the stack's role,
and the properties AWS rewrites when membership changes are ignored: the Global Datastore's
``primaryReplicationGroupId`` and a secondary's ``globalReplicationGroupId`` (both force a
replacement otherwise). After the home group joined, node type and engine version belong to the
Global Datastore, which declares them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.common import BACKUP_TAG_KEY, BACKUP_TAG_VALUE, data_bearing
from components.datanet import Placement, StoreFirewall, StoreFirewallArgs

REDIS_PORT = 6379


@dataclass(frozen=True)
class GlobalCacheArgs:
    """Inputs of :class:`GlobalCache`."""

    replication_group_id: str
    """This region's replication group id (lowercase, at most 40 characters)."""
    home: bool
    """True: create the group and the Global Datastore; False: join it as a secondary."""
    global_datastore_suffix: str
    """Suffix of the Global Datastore id (AWS prefixes it per region); used by the home stack."""
    global_datastore_id: str | None
    """Full Global Datastore id the secondary joins; ``None`` in the home stack."""
    node_type: str
    """Node type of every member (a Global Datastore needs M5/R5 or newer)."""
    engine_version: str
    """Redis OSS version of the Global Datastore."""
    nodes: int
    """Nodes in this region's group (at least 2: Multi-AZ with automatic failover)."""
    snapshot_retention_days: int
    """Daily snapshots kept this many days."""
    kms_key_arn: pulumi.Input[str]
    """This region's CMK for encryption at rest."""
    auth_token: pulumi.Input[str] | None
    """AUTH token (a secret) of the home group; the secondary inherits AUTH."""
    placement: Placement
    """Subnets and the groups allowed in."""
    snapshot_window: str = "05:00-06:00"
    """Daily snapshot window (UTC)."""
    maintenance_window: str = "sun:06:30-sun:07:30"
    """Weekly maintenance window (UTC)."""
    fenced: bool = False
    """Attach only the no-ingress fence group (a returning region, until reconciled)."""


class GlobalCache(pulumi.ComponentResource):
    """The region's member of the Redis Global Datastore (and, in the home stack, the Global
    Datastore itself), encrypted at rest with the CMK and in transit, Multi-AZ with automatic
    failover, protected and retained."""

    arn: pulumi.Output[str]
    primary_endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    global_datastore_id: pulumi.Output[str]
    fence_security_group_id: pulumi.Output[str]
    """The no-ingress group the group carries while fenced (and ``fence_region`` attaches)."""

    def __init__(
        self, name: str, args: GlobalCacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:data:GlobalCache", name, None, opts)
        subnets = aws.elasticache.SubnetGroup(
            f"{name}-subnets",
            name=args.replication_group_id,
            description="ReskFlow Redis private subnets",
            subnet_ids=list(args.placement.subnet_ids),
            opts=pulumi.ResourceOptions(parent=self),
        )
        firewall = StoreFirewall(
            f"{name}-firewall",
            StoreFirewallArgs(
                args.replication_group_id, "ReskFlow Redis", args.placement, REDIS_PORT
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        fence = StoreFirewall(
            f"{name}-fence",
            StoreFirewallArgs(
                f"{args.replication_group_id}-fenced",
                "ReskFlow Redis fenced (no access)",
                args.placement,
                None,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        guard = fence if args.fenced else firewall
        group = aws.elasticache.ReplicationGroup(
            f"{name}-group",
            group_spec(args, subnets.name, guard.security_group_id),
            opts=data_bearing(
                self,
                ignore_changes=["engineVersion", "nodeType"]
                if args.home
                else ["globalReplicationGroupId"],
            ),
        )
        if args.home:
            datastore = aws.elasticache.GlobalReplicationGroup(
                f"{name}-global",
                global_replication_group_id_suffix=args.global_datastore_suffix,
                global_replication_group_description="ReskFlow Redis across regions",
                primary_replication_group_id=group.id,
                cache_node_type=args.node_type,
                engine_version=args.engine_version,
                opts=data_bearing(self, ignore_changes=["primaryReplicationGroupId"]),
            )
            self.global_datastore_id = datastore.global_replication_group_id
        else:
            self.global_datastore_id = pulumi.Output.from_input(str(args.global_datastore_id))
        self.arn = group.arn
        self.primary_endpoint = group.primary_endpoint_address
        self.reader_endpoint = group.reader_endpoint_address
        self.fence_security_group_id = fence.security_group_id
        self.register_outputs(
            {
                "arn": self.arn,
                "primary_endpoint": self.primary_endpoint,
                "reader_endpoint": self.reader_endpoint,
                "global_datastore_id": self.global_datastore_id,
            }
        )


def group_spec(
    args: GlobalCacheArgs, subnet_group: pulumi.Input[str], security_group_id: pulumi.Input[str]
) -> aws.elasticache.ReplicationGroupArgs:
    """One declaration for both members. A secondary must not name the engine, its version, the
    node type or the encryption flags: it inherits them from the Global Datastore (and AUTH with
    them); it still names a CMK, because keys are regional."""
    home = args.home
    return aws.elasticache.ReplicationGroupArgs(
        replication_group_id=args.replication_group_id,
        description="ReskFlow Redis (Global Datastore member)",
        global_replication_group_id=None if home else args.global_datastore_id,
        engine="redis" if home else None,
        engine_version=args.engine_version if home else None,
        node_type=args.node_type if home else None,
        at_rest_encryption_enabled=True if home else None,
        transit_encryption_enabled=True if home else None,
        auth_token=args.auth_token if home else None,
        kms_key_id=args.kms_key_arn,
        num_cache_clusters=args.nodes,
        automatic_failover_enabled=True,
        multi_az_enabled=True,
        port=REDIS_PORT,
        subnet_group_name=subnet_group,
        security_group_ids=[security_group_id],
        snapshot_retention_limit=args.snapshot_retention_days,
        snapshot_window=args.snapshot_window,
        maintenance_window=args.maintenance_window,
        final_snapshot_identifier=f"{args.replication_group_id}-final",
        tags={BACKUP_TAG_KEY: BACKUP_TAG_VALUE, "reskflow:store": "redis"},
    )
