"""Data safety: protected data-bearing resources, deletion protection, allowed regions.

``retainOnDelete`` is not part of the analyzer protocol (``AnalyzerResourceOptions`` carries
``protect`` but no retain flag), so no policy can see it; see docs/policies.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    ALLOWED_REGIONS_SCHEMA,
    AWS_PROVIDER,
    BACKUP_VAULT,
    BUCKET,
    DATA_BEARING_TYPES,
    DOCDB_CLUSTER,
    DOCDB_GLOBAL_CLUSTER,
    RDS_INSTANCE,
    UNKNOWN,
    Findings,
    Flag,
    Meta,
    Res,
    check_flags,
    kind_of,
    not_true,
    resource_policy,
)


def _check_protected(res: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    if not res.protect:
        out.fail(f"{kind_of(res)} {res.name} is not protected (protect=True)")


_KEEP_FINAL_SNAPSHOT = Flag(("skipFinalSnapshot",), "skipFinalSnapshot must not be true", not_true)
_DELETION_PROTECTION = Flag(("deletionProtection",), "deletionProtection must be true")
_NO_FORCE_DESTROY = Flag(("forceDestroy",), "forceDestroy must not be true", not_true)

#: What each data-bearing type must set so that AWS refuses to delete it.
DELETION_FLAGS: dict[str, tuple[Flag, ...]] = {
    BUCKET: (_NO_FORCE_DESTROY,),
    BACKUP_VAULT: (_NO_FORCE_DESTROY,),
    RDS_INSTANCE: (_DELETION_PROTECTION, _KEEP_FINAL_SNAPSHOT),
    DOCDB_CLUSTER: (_DELETION_PROTECTION, _KEEP_FINAL_SNAPSHOT),
    DOCDB_GLOBAL_CLUSTER: (_DELETION_PROTECTION,),
}


def _check_deletion_protection(res: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    flags = DELETION_FLAGS[res.type]
    if res.type == RDS_INSTANCE and res.get("replicateSourceDb") is not None:
        flags = (_DELETION_PROTECTION,)  # a read replica has no final snapshot
    check_flags(res, flags, out)


def _is_regional(resource_type: str) -> bool:
    return resource_type.startswith("aws:") or resource_type == AWS_PROVIDER


def _check_region(res: Res, cfg: Mapping[str, Any], out: Findings) -> None:
    region = res.region
    allowed = list(cfg.get("allowedRegions", []))
    if region is UNKNOWN:
        out.unknown(res, "region")
    elif region is None:
        out.fail(f"{kind_of(res)} {res.name} has no region (no explicit regional provider)")
    elif region not in allowed:
        out.fail(f"{kind_of(res)} {res.name} is in {region}; allowed: {', '.join(allowed)}")


POLICIES = [
    resource_policy(
        Meta(
            "reskflow-data-protected",
            "Every data-bearing resource is protected against deletion by Pulumi.",
            "Create the resource with ResourceOptions(protect=True, retain_on_delete=True).",
            "data-safety",
            severity=Severity.CRITICAL,
        ),
        DATA_BEARING_TYPES,
        _check_protected,
    ),
    resource_policy(
        Meta(
            "reskflow-data-deletion-protection",
            "Data-bearing resources have AWS-side deletion protection where AWS offers it.",
            "Set deletionProtection: true (RDS, DocumentDB), keep skipFinalSnapshot false, and "
            "never set forceDestroy on buckets or backup vaults.",
            "data-safety",
            severity=Severity.CRITICAL,
        ),
        set(DELETION_FLAGS),
        _check_deletion_protection,
    ),
    resource_policy(
        Meta(
            "reskflow-allowed-regions",
            "Every AWS resource is in one of the program's regions.",
            "Create the resource with the stack's regional provider (providers=[...]); the "
            "program supports only the regions in allowedRegions.",
            "deployability",
            schema=ALLOWED_REGIONS_SCHEMA,
        ),
        _is_regional,
        _check_region,
    ),
]
