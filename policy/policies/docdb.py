"""DocumentDB: encryption at rest with a CMK and TLS in transit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .common import (
    DOCDB_CLUSTER,
    DOCDB_PARAMETER_GROUP,
    Findings,
    Flag,
    Meta,
    Res,
    Stack,
    TlsRule,
    check_cmk,
    check_flags,
    check_tls_parameter,
    resource_policy,
    stack_policy,
)


def _check_encryption(cluster: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    check_flags(cluster, [Flag(("storageEncrypted",), "storageEncrypted must be true")], out)
    check_cmk(cluster, ("kmsKeyId",), out)


DOCDB_TLS = TlsRule(
    "dbClusterParameterGroupName",
    DOCDB_PARAMETER_GROUP,
    lambda _cluster: ("tls", "enabled"),
    lambda _cluster: True,  # the default cluster parameter group has tls enabled
)


def _check_tls(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    check_tls_parameter(stack, DOCDB_CLUSTER, DOCDB_TLS, out)


POLICIES = [
    resource_policy(
        Meta(
            "reskflow-docdb-encryption-cmk",
            "DocumentDB clusters are encrypted at rest with a customer managed KMS key.",
            "Set storageEncrypted: true and kmsKeyId to the region's CMK ARN (a global "
            "secondary cluster needs a key in its own region).",
            "encryption",
        ),
        [DOCDB_CLUSTER],
        _check_encryption,
    ),
    stack_policy(
        Meta(
            "reskflow-docdb-tls",
            "DocumentDB clusters refuse unencrypted connections.",
            "Keep tls=enabled in the cluster parameter group (the default), or drop the custom "
            "parameter group that disables it.",
            "encryption",
        ),
        _check_tls,
    ),
]
