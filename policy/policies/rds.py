"""RDS: encryption at rest and in transit, and what AWS requires of read replicas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    RDS_INSTANCE,
    RDS_PARAMETER_GROUP,
    UNKNOWN,
    Findings,
    Flag,
    Meta,
    Res,
    Stack,
    TlsRule,
    arn_region,
    check_cmk,
    check_flags,
    check_tls_parameter,
    num,
    present,
    resource_policy,
    stack_policy,
)


def is_replica(db: Res) -> bool:
    return present(db.props, "replicateSourceDb")


def _check_encryption(db: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    if is_replica(db):
        # A replica inherits encryption; a cross-region one must name its own key (see below).
        if db.get("kmsKeyId") is not None:
            check_cmk(db, ("kmsKeyId",), out)
        return
    check_flags(db, [Flag(("storageEncrypted",), "storageEncrypted must be true")], out)
    check_cmk(db, ("kmsKeyId",), out)


def _check_cross_region_kms(db: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    source = db.get("replicateSourceDb")
    region = db.region
    if source is None:
        return
    if source is UNKNOWN or region is UNKNOWN:
        out.unknown(db, "whether replicateSourceDb is in another region")
        return
    source_region = arn_region(source)
    if source_region is not None and source_region != region and not present(db.props, "kmsKeyId"):
        out.fail(
            f"Instance {db.name}: encrypted cross-region replica of a {source_region} database "
            f"has no kmsKeyId (a key in {region} is required)"
        )


_CREDENTIALS = ("username", "password", "passwordWo", "manageMasterUserPassword")


def _check_replica_credentials(db: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    if not is_replica(db):
        return
    set_inputs = [name for name in _CREDENTIALS if present(db.props, name)]
    if set_inputs:
        out.fail(
            f"Instance {db.name}: a read replica takes its credentials from the source; "
            f"remove {', '.join(set_inputs)}"
        )


def _tls_parameter(db: Res) -> tuple[str, str] | None:
    engine = db.get("engine")
    if not isinstance(engine, str):
        return None
    if "postgres" in engine:
        return ("rds.force_ssl", "1")
    if engine in ("mysql", "mariadb"):
        return ("require_secure_transport", "1")
    return None


def _tls_default_on(db: Res) -> bool:
    """PostgreSQL 15 and later default rds.force_ssl to 1."""
    version = db.get("engineVersion")
    major = num(str(version).split(".")[0]) if isinstance(version, (str, int, float)) else None
    return bool(_tls_parameter(db) == ("rds.force_ssl", "1") and major and major >= 15)


RDS_TLS = TlsRule("parameterGroupName", RDS_PARAMETER_GROUP, _tls_parameter, _tls_default_on)


def _check_tls(stack: Stack, _cfg: Mapping[str, Any], out: Findings) -> None:
    check_tls_parameter(stack, RDS_INSTANCE, RDS_TLS, out)


POLICIES = [
    resource_policy(
        Meta(
            "reskflow-rds-encryption-cmk",
            "RDS instances are encrypted at rest with a customer managed KMS key.",
            "Set storageEncrypted: true and kmsKeyId to the region's CMK ARN.",
            "encryption",
        ),
        [RDS_INSTANCE],
        _check_encryption,
    ),
    stack_policy(
        Meta(
            "reskflow-rds-tls",
            "RDS instances refuse unencrypted connections.",
            "Use a parameter group with rds.force_ssl=1 (PostgreSQL; the default from version "
            "15) or require_secure_transport=1 (MySQL, MariaDB).",
            "encryption",
        ),
        _check_tls,
    ),
    resource_policy(
        Meta(
            "reskflow-rds-cross-region-replica-kms",
            "An encrypted cross-region RDS read replica names a KMS key in its own region.",
            "Set kmsKeyId on the replica to the ARN of the (replica) key in the replica's region; "
            "AWS rejects an encrypted cross-region replica without one.",
            "deployability",
            severity=Severity.MEDIUM,
        ),
        [RDS_INSTANCE],
        _check_cross_region_kms,
    ),
    resource_policy(
        Meta(
            "reskflow-rds-replica-credentials",
            "An RDS read replica sets no master username or password.",
            "Remove username, password and manageMasterUserPassword from the replica; it uses "
            "the source's credentials.",
            "deployability",
            severity=Severity.MEDIUM,
        ),
        [RDS_INSTANCE],
        _check_replica_credentials,
    ),
]
