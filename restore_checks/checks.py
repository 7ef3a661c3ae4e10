"""What a restore must show before it counts: the restored store answers (available, with an
endpoint), is encrypted (with the expected key when one is named), is not publicly reachable,
and, for a bucket, holds objects encrypted with SSE-KMS.

Tables and row counts (the seed's "Backup Validation") need a database driver and a network path
into the VPC; these checks stop at what the control plane proves, and say so in their report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Verdict:
    """The checks of one restored resource."""

    resource: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def message(self) -> str:
        failed = [c for c in self.checks if not c.ok]
        shown = failed or self.checks
        head = "FAILED" if failed else "SUCCESSFUL"
        return f"{head}: {self.resource}: " + "; ".join(f"{c.name}: {c.detail}" for c in shown)


def _key_check(actual: str | None, expected: str | None) -> Check:
    if expected is None:
        return Check("key", actual is not None, actual or "no KMS key")
    return Check("key", actual == expected, f"{actual} (expected {expected})")


def check_rds_instance(rds: Any, identifier: str, kms_key_arn: str | None = None) -> Verdict:
    """A restored RDS instance: available with an endpoint, encrypted, not public."""
    try:
        (db,) = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    except ClientError as err:
        return Verdict(identifier, [Check("answers", False, err.response["Error"]["Code"])])
    status = db.get("DBInstanceStatus")
    endpoint = (db.get("Endpoint") or {}).get("Address")
    return Verdict(
        identifier,
        [
            Check("answers", status == "available" and bool(endpoint), f"{status} at {endpoint}"),
            Check("encrypted", db.get("StorageEncrypted") is True, "storage encrypted"),
            _key_check(db.get("KmsKeyId"), kms_key_arn),
            Check("private", db.get("PubliclyAccessible") is not True, "not publicly accessible"),
        ],
    )


def check_docdb_cluster(docdb: Any, identifier: str, kms_key_arn: str | None = None) -> Verdict:
    """A restored DocumentDB cluster: available with an endpoint, encrypted."""
    try:
        (cluster,) = docdb.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"]
    except ClientError as err:
        return Verdict(identifier, [Check("answers", False, err.response["Error"]["Code"])])
    status, endpoint = cluster.get("Status"), cluster.get("Endpoint")
    return Verdict(
        identifier,
        [
            Check("answers", status == "available" and bool(endpoint), f"{status} at {endpoint}"),
            Check("encrypted", cluster.get("StorageEncrypted") is True, "storage encrypted"),
            _key_check(cluster.get("KmsKeyId"), kms_key_arn),
        ],
    )


def check_s3_bucket(s3: Any, bucket: str) -> Verdict:
    """A restored bucket: holds objects, encrypted by default with SSE-KMS."""
    checks = []
    try:
        count = s3.list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount", 0)
        checks.append(Check("answers", count > 0, f"{count} object(s) listed"))
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        algorithms = [
            r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules["Rules"]
        ]
        checks.append(Check("encrypted", "aws:kms" in algorithms, ", ".join(algorithms)))
    except ClientError as err:
        checks.append(Check("answers", False, err.response["Error"]["Code"]))
    return Verdict(bucket, checks)


def resource_of(arn: str) -> tuple[str, str]:
    """(kind, identifier) of a restored resource's ARN: ``db``, ``cluster`` or ``bucket``."""
    parts = arn.split(":")
    if len(parts) >= 6 and parts[2] == "s3":
        return "bucket", parts[5]
    if len(parts) >= 7 and parts[2] == "rds" and parts[5] in ("db", "cluster"):
        return parts[5], parts[6]
    raise ValueError(f"not a restorable resource ARN: {arn}")
