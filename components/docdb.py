"""Amazon DocumentDB in a global cluster: one regional cluster per stack.

As with the Redis Global Datastore, membership is fixed at creation: the *home* stack creates
the global cluster and its cluster joins first (the primary); the other stack's cluster joins as
a secondary and never names master credentials. Which region is the global primary changes only
through the DocumentDB API (``SwitchoverGlobalCluster`` when both regions are healthy,
``FailoverGlobalCluster --allow-data-loss`` or ``RemoveFromGlobalCluster`` when the primary
region is gone). Neither declaration depends on the stack's role, and each cluster ignores
``globalClusterIdentifier``, which AWS clears when it detaches a member.

DocumentDB cannot manage the master password of a global cluster member in Secrets Manager, so
the home cluster takes it from a Pulumi secret.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.common import BACKUP_TAG_KEY, BACKUP_TAG_VALUE, data_bearing
from components.datanet import Placement, StoreFirewall, StoreFirewallArgs

DOCDB_PORT = 27017


@dataclass(frozen=True)
class DocumentClusterArgs:
    """Inputs of :class:`DocumentCluster`."""

    cluster_identifier: str
    """This region's cluster identifier; instances are ``<identifier>-<n>``."""
    home: bool
    """True: create the global cluster and join it first (primary); False: join as secondary."""
    global_cluster_identifier: str
    """The global cluster's identifier, chosen by us, so both stacks know it."""
    engine_version: str
    """DocumentDB engine version of the global cluster (``4.0.0`` or ``5.0.0``)."""
    parameter_group_family: str
    """Cluster parameter group family matching the version (``docdb5.0``)."""
    instance_class: str
    """Instance class (global clusters need R5 or R6G)."""
    instances: int
    """Instances in this region's cluster."""
    backup_retention_days: int
    """Automated backups kept this many days."""
    kms_key_arn: pulumi.Input[str]
    """This region's CMK for storage encryption."""
    master_username: str | None
    """Master user of the home cluster; ``None`` for the secondary."""
    master_password: pulumi.Input[str] | None
    """Master password (a secret) of the home cluster; ``None`` for the secondary."""
    placement: Placement
    """Subnets and the groups allowed in."""
    backup_window: str = "06:00-07:00"
    """Daily backup window (UTC)."""
    maintenance_window: str = "sun:07:30-sun:08:30"
    """Weekly maintenance window (UTC)."""
    fenced: bool = False
    """Attach only the no-ingress fence group (a returning region, until reconciled)."""


class DocumentCluster(pulumi.ComponentResource):
    """The region's DocumentDB cluster (and, in the home stack, the global cluster): encrypted
    with the CMK, TLS enforced by its cluster parameter group, deletion-protected, audit and
    profiler logs exported, protected and retained."""

    arn: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    fence_security_group_id: pulumi.Output[str]
    """The no-ingress group the cluster carries while fenced (and ``fence_region`` attaches)."""

    def __init__(
        self, name: str, args: DocumentClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:data:DocumentCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        subnets = aws.docdb.SubnetGroup(
            f"{name}-subnets",
            name=args.cluster_identifier,
            description="ReskFlow DocumentDB private subnets",
            subnet_ids=list(args.placement.subnet_ids),
            opts=child,
        )
        parameters = aws.docdb.ClusterParameterGroup(
            f"{name}-tls",
            name=f"{args.cluster_identifier}-tls-{args.parameter_group_family.replace('.', '-')}",
            family=args.parameter_group_family,
            description="ReskFlow DocumentDB: TLS only",
            parameters=[aws.docdb.ClusterParameterGroupParameterArgs(name="tls", value="enabled")],
            opts=child,
        )
        firewall = StoreFirewall(
            f"{name}-firewall",
            StoreFirewallArgs(
                args.cluster_identifier, "ReskFlow DocumentDB", args.placement, DOCDB_PORT
            ),
            opts=child,
        )
        fence = StoreFirewall(
            f"{name}-fence",
            StoreFirewallArgs(
                f"{args.cluster_identifier}-fenced",
                "ReskFlow DocumentDB fenced (no access)",
                args.placement,
                None,
            ),
            opts=child,
        )
        guard = fence if args.fenced else firewall
        global_id: pulumi.Input[str] = args.global_cluster_identifier
        if args.home:
            global_id = aws.docdb.GlobalCluster(
                f"{name}-global",
                global_cluster_identifier=args.global_cluster_identifier,
                engine="docdb",
                engine_version=args.engine_version,
                storage_encrypted=True,
                deletion_protection=True,
                opts=data_bearing(self),
            ).id
        cluster = aws.docdb.Cluster(
            f"{name}-cluster",
            cluster_identifier=args.cluster_identifier,
            global_cluster_identifier=global_id,
            engine="docdb",
            engine_version=args.engine_version,
            master_username=args.master_username,
            master_password=args.master_password,
            storage_encrypted=True,
            kms_key_id=args.kms_key_arn,
            db_cluster_parameter_group_name=parameters.name,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[guard.security_group_id],
            port=DOCDB_PORT,
            backup_retention_period=args.backup_retention_days,
            preferred_backup_window=args.backup_window,
            preferred_maintenance_window=args.maintenance_window,
            enabled_cloudwatch_logs_exports=["audit", "profiler"],
            deletion_protection=True,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{args.cluster_identifier}-final",
            tags={BACKUP_TAG_KEY: BACKUP_TAG_VALUE, "reskflow:store": "docdb"},
            opts=data_bearing(self, ignore_changes=["globalClusterIdentifier"]),
        )
        for n in range(1, args.instances + 1):
            aws.docdb.ClusterInstance(
                f"{name}-instance-{n}",
                identifier=f"{args.cluster_identifier}-{n}",
                cluster_identifier=cluster.id,
                engine="docdb",
                instance_class=args.instance_class,
                ca_cert_identifier="rds-ca-rsa2048-g1",
                promotion_tier=n - 1,
                preferred_maintenance_window=args.maintenance_window,
                opts=child,
            )
        self.arn = cluster.arn
        self.endpoint = cluster.endpoint
        self.reader_endpoint = cluster.reader_endpoint
        self.fence_security_group_id = fence.security_group_id
        self.register_outputs(
            {"arn": self.arn, "endpoint": self.endpoint, "reader_endpoint": self.reader_endpoint}
        )
