"""Validation step of AWS Backup restore testing: runs on a restore job's completion event,
checks the restored resource (:mod:`restore_checks.checks`), measures the restore against the
RTO target, reports the verdict with PutRestoreValidationResult and publishes two metrics the
alarms watch (a failed validation, the restore's duration).

https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_PutRestoreValidationResult.html
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import boto3

from restore_checks.checks import (
    Check,
    Verdict,
    check_docdb_cluster,
    check_rds_instance,
    check_s3_bucket,
    resource_of,
)

METRIC_NAMESPACE = "ReskFlow/Backups"
FAILED_METRIC = "RestoreValidationFailed"
MINUTES_METRIC = "RestoreMinutes"
RTO_ENV = "RESTORE_TIME_TARGET_MINUTES"
#: PutRestoreValidationResult's ValidationStatusMessage is free text; keep it short.
MESSAGE_LIMIT = 1000

ClientFactory = Callable[[str], Any]


def _clients(region: str) -> ClientFactory:
    return lambda service: boto3.client(service, region_name=region)


def validate(job: Mapping[str, Any], client: ClientFactory, rto_minutes: float) -> Verdict:
    """The verdict on one completed restore job: the resource's checks plus the restore time."""
    kind, identifier = resource_of(str(job["CreatedResourceArn"]))
    if kind == "db":
        verdict = check_rds_instance(client("rds"), identifier)
    elif kind == "cluster":
        verdict = check_docdb_cluster(client("docdb"), identifier)
    else:
        verdict = check_s3_bucket(client("s3"), identifier)
    minutes = restore_minutes(job)
    verdict.checks.append(
        Check(
            "restore time",
            minutes <= rto_minutes,
            f"{minutes:.1f} min (target {rto_minutes:g} min)",
        )
    )
    return verdict


def restore_minutes(job: Mapping[str, Any]) -> float:
    return float((job["CompletionDate"] - job["CreationDate"]).total_seconds() / 60)


def handle(event: Mapping[str, Any], client: ClientFactory, rto_minutes: float) -> dict[str, Any]:
    detail = event.get("detail") or {}
    job_id = detail.get("restoreJobId")
    if not job_id or detail.get("status") != "COMPLETED":
        return {"skipped": "not a completed restore job"}
    backup = client("backup")
    job = backup.describe_restore_job(RestoreJobId=job_id)
    if not (job.get("CreatedBy") or {}).get("RestoreTestingPlanArn"):
        # Only restore-testing jobs take a validation result.
        return {"skipped": f"restore job {job_id} was not started by restore testing"}
    verdict = validate(job, client, rto_minutes)
    status = "SUCCESSFUL" if verdict.ok else "FAILED"
    backup.put_restore_validation_result(
        RestoreJobId=job_id,
        ValidationStatus=status,
        ValidationStatusMessage=verdict.message[:MESSAGE_LIMIT],
    )
    # One series per metric, no dimensions: one alarm each covers every store type.
    client("cloudwatch").put_metric_data(
        Namespace=METRIC_NAMESPACE,
        MetricData=[
            {
                "MetricName": FAILED_METRIC,
                "Value": 0.0 if verdict.ok else 1.0,
                "Unit": "Count",
            },
            {
                "MetricName": MINUTES_METRIC,
                "Value": restore_minutes(job),
                "Unit": "None",
            },
        ],
    )
    return {"restoreJobId": job_id, "validationStatus": status, "message": verdict.message}


def handler(event: Mapping[str, Any], _context: Any) -> dict[str, Any]:
    region = os.environ["AWS_REGION"]
    return handle(event, _clients(region), float(os.environ[RTO_ENV]))
