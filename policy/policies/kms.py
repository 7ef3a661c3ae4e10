"""KMS: key rotation, and every key reference in the region of the resource using it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .common import (
    BACKUP_VAULT,
    BUCKET_SSE,
    CACHE_GROUP,
    DOCDB_CLUSTER,
    KMS_KEY,
    LOG_GROUP,
    RDS_BACKUPS_REPLICATION,
    RDS_INSTANCE,
    SNS_TOPIC,
    UNKNOWN,
    Findings,
    Flag,
    Meta,
    Res,
    arn_region,
    check_flags,
    get,
    kind_of,
    resource_policy,
)

_SYMMETRIC = (None, "SYMMETRIC_DEFAULT")


def _check_rotation(key: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    spec = key.get("customerMasterKeySpec")
    if spec is UNKNOWN or spec not in _SYMMETRIC:
        return  # only symmetric encryption keys rotate
    check_flags(key, [Flag(("enableKeyRotation",), "enableKeyRotation must be true")], out)


#: Inputs holding a KMS key reference, per resource type.
KEY_INPUTS: dict[str, tuple[str, ...]] = {
    RDS_INSTANCE: ("kmsKeyId", "performanceInsightsKmsKeyId", "masterUserSecretKmsKeyId"),
    RDS_BACKUPS_REPLICATION: ("kmsKeyId",),
    DOCDB_CLUSTER: ("kmsKeyId",),
    CACHE_GROUP: ("kmsKeyId",),
    BACKUP_VAULT: ("kmsKeyArn",),
    SNS_TOPIC: ("kmsMasterKeyId",),
    LOG_GROUP: ("kmsKeyId",),
}


def key_references(res: Res) -> list[tuple[str, Any]]:
    """(input path, value) of every KMS key the resource names."""
    if res.type == BUCKET_SSE:
        rules = res.items("rules")
        if rules is UNKNOWN:
            return [("rules", UNKNOWN)]
        return [
            (
                f"rules[{i}].kmsMasterKeyId",
                get(r, "applyServerSideEncryptionByDefault", "kmsMasterKeyId"),
            )
            for i, r in enumerate(rules)
        ]
    return [(name, res.get(name)) for name in KEY_INPUTS.get(res.type, ())]


def _check_key_region(res: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    region = res.region
    for path, value in key_references(res):
        if value is None:
            continue
        if value is UNKNOWN or region is UNKNOWN:
            out.unknown(res, f"region of the key in {path}")
            continue
        key_region = arn_region(value)
        if key_region is not None and key_region != region:
            out.fail(
                f"{kind_of(res)} {res.name}: {path} is a key in {key_region}, "
                f"but the resource is in {region}"
            )


POLICIES = [
    resource_policy(
        Meta(
            "reskflow-kms-rotation",
            "Customer managed KMS keys rotate their key material yearly.",
            "Set enableKeyRotation: true on the aws.kms.Key (a multi-Region replica key follows "
            "its primary's rotation, so set it on the primary).",
            "encryption",
        ),
        [KMS_KEY],
        _check_rotation,
    ),
    resource_policy(
        Meta(
            "reskflow-kms-key-region",
            "Every KMS key a resource names is in that resource's own region.",
            "Use the key (or the multi-Region replica key) created in the resource's region: "
            "a cross-region replica or copy must name a key of its destination region.",
            "encryption",
        ),
        set(KEY_INPUTS) | {BUCKET_SSE},
        _check_key_region,
    ),
]
