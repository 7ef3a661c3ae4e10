"""The multi-Region KMS key: the primary in us-east-1, a replica elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.kms import RegionalKey, RegionalKeyArgs
from infra.settings import KMS_PRIMARY_REGION, StackSettings


@dataclass(frozen=True)
class Encryption:
    key: RegionalKey
    """This region's member of the multi-Region key."""
    peer_key_arn: pulumi.Output[str]
    """The same key's ARN in the peer region (all replicas share the key id)."""


def build_encryption(
    settings: StackSettings,
    regional: pulumi.ResourceOptions,
    extra_statements: pulumi.Input[list[dict[str, Any]]] | None = None,
) -> Encryption:
    key = RegionalKey(
        "kms",
        RegionalKeyArgs(
            region=settings.region,
            account_id=settings.account_id,
            alias="reskflow-dr",
            primary_key_arn=None
            if settings.holds_kms_primary
            else settings.kms_key_arn(KMS_PRIMARY_REGION, str(settings.kms_primary_key_id)),
            extra_statements=extra_statements,
        ),
        opts=regional,
    )
    peer_key_arn = key.key_id.apply(
        lambda key_id: settings.kms_key_arn(settings.peer_region, key_id)
    )
    return Encryption(key, peer_key_arn)
