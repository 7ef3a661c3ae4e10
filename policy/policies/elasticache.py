"""ElastiCache: encryption at rest with a CMK and in transit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .common import (
    CACHE_GROUP,
    Findings,
    Flag,
    Meta,
    Res,
    check_cmk,
    check_flags,
    present,
    resource_policy,
)

_FLAGS = (
    Flag(("atRestEncryptionEnabled",), "atRestEncryptionEnabled must be true"),
    Flag(("transitEncryptionEnabled",), "transitEncryptionEnabled must be true"),
)


def _check_encryption(group: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    if present(group.props, "globalReplicationGroupId"):
        return  # a global secondary inherits encryption from the global datastore's primary
    check_flags(group, _FLAGS, out)
    check_cmk(group, ("kmsKeyId",), out)


POLICIES = [
    resource_policy(
        Meta(
            "reskflow-elasticache-encryption",
            "ElastiCache replication groups are encrypted at rest with a CMK and in transit.",
            "Set atRestEncryptionEnabled: true, kmsKeyId to the region's CMK ARN and "
            "transitEncryptionEnabled: true.",
            "encryption",
        ),
        [CACHE_GROUP],
        _check_encryption,
    ),
]
