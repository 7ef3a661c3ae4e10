"""Network placement shared by the data stores: the security group in front of each store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class Placement:
    """Where a data store lives. The VPC and subnets belong to another program; this one only
    references them."""

    vpc_id: str
    """VPC of the data stores."""
    subnet_ids: Sequence[str]
    """Private subnets, in at least two Availability Zones."""
    allowed_security_group_ids: Sequence[str]
    """The only security groups (the applications') allowed to connect."""


@dataclass(frozen=True)
class StoreFirewallArgs:
    """Inputs of :class:`StoreFirewall`."""

    group_name: str
    """Security group name, unique in the VPC."""
    description: str
    """What the group guards (immutable in AWS: changing it replaces the group)."""
    placement: Placement
    """VPC and allowed sources."""
    port: int | None
    """TCP port opened to each allowed group; ``None`` opens nothing (a fence)."""


class StoreFirewall(pulumi.ComponentResource):
    """A security group with one ingress rule per allowed source group and no egress rule (the
    provider removes AWS's default allow-all egress): a data store answers, it never calls out."""

    security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: StoreFirewallArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:data:StoreFirewall", name, None, opts)
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=args.group_name,
            description=args.description,
            vpc_id=args.placement.vpc_id,
            tags={"Name": args.group_name},
            opts=pulumi.ResourceOptions(parent=self),
        )
        if args.port is not None:
            for source in args.placement.allowed_security_group_ids:
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-from-{source}",
                    security_group_id=group.id,
                    referenced_security_group_id=source,
                    ip_protocol="tcp",
                    from_port=args.port,
                    to_port=args.port,
                    description=f"{args.description}: from {source}",
                    opts=pulumi.ResourceOptions(parent=self),
                )
        self.security_group_id = group.id
        self.register_outputs({"security_group_id": self.security_group_id})
