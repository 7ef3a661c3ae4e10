"""The backup copy that survives a compromised account: an AWS Backup logically air-gapped vault.

A logically air-gapped vault is locked in compliance mode by AWS and its recovery points belong
to the AWS Backup service, not to the account: whoever holds this account's keys can neither
delete them nor shorten their retention, and the vault can be shared (AWS RAM, multi-party
approval) with a recovery account that restores from it while this account is lost.
https://docs.aws.amazon.com/aws-backup/latest/devguide/logicallyairgappedvault.html

Its recovery points are encrypted with an AWS owned key (the default): a customer managed key
lives in the account the vault must survive, and scheduling its deletion would make every copy
unreadable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.backup import vault_access_policy
from components.common import data_bearing


@dataclass(frozen=True)
class AirGappedVaultArgs:
    """Inputs of :class:`AirGappedVault`."""

    vault_name: str
    """Deterministic name (2-50 letters, digits, hyphens, underscores)."""
    min_retention_days: int
    """Copies with a shorter retention are refused by the vault."""
    max_retention_days: int
    """Copies with a longer retention are refused by the vault."""
    tags: dict[str, str] = field(default_factory=dict)


class AirGappedVault(pulumi.ComponentResource):
    """The logically air-gapped vault (protected, retained) and its access policy denying the
    deletion of recovery points to every principal."""

    vault_arn: pulumi.Output[str]
    vault_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: AirGappedVaultArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:backup:AirGappedVault", name, None, opts)
        vault = aws.backup.LogicallyAirGappedVault(
            name,
            name=args.vault_name,
            min_retention_days=args.min_retention_days,
            max_retention_days=args.max_retention_days,
            tags=args.tags,
            opts=data_bearing(self),
        )
        aws.backup.VaultPolicy(
            f"{name}-policy",
            backup_vault_name=vault.name,
            policy=vault.arn.apply(vault_access_policy),
            opts=pulumi.ResourceOptions(
                parent=self, delete_before_replace=True, replace_on_changes=["policy"]
            ),
        )
        self.vault_arn = vault.arn
        self.vault_name = vault.name
        self.register_outputs({"vault_arn": self.vault_arn, "vault_name": self.vault_name})
