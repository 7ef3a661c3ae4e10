"""Restore-test validation: the boto3-only checks and the Lambda handler against moto, the
declared function, rule and alarms.

moto has no DocumentDB engine and no AWS Backup restore-job API (DescribeRestoreJob,
PutRestoreValidationResult): those calls go through botocore's Stubber, which also asserts the
exact parameters the handler sends.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from components.restore_validation import EVENT_PATTERN, restore_alarms
from restore_checks.checks import (
    check_docdb_cluster,
    check_rds_instance,
    check_s3_bucket,
    resource_of,
)
from restore_checks.lambda_entry import handle
from tests.conftest import named, policy_doc

REGION = "us-east-1"
ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"
JOB = "job-1"
START = dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC)


def _postgres(identifier: str, encrypted: bool = True) -> None:
    boto3.client("rds", region_name=REGION).create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin1",
        MasterUserPassword="password1",
        AllocatedStorage=20,
        StorageEncrypted=encrypted,
        **({"KmsKeyId": KEY} if encrypted else {}),
    )


def test_a_restored_encrypted_private_instance_passes(aws: None) -> None:
    _postgres("restored")
    verdict = check_rds_instance(boto3.client("rds", region_name=REGION), "restored", KEY)
    assert verdict.ok
    assert [(c.name, c.ok) for c in verdict.checks] == [
        ("answers", True),
        ("encrypted", True),
        ("key", True),
        ("private", True),
    ]
    assert verdict.message.startswith("SUCCESSFUL: restored: answers: available at restored.")


def test_an_unencrypted_or_missing_instance_fails(aws: None) -> None:
    _postgres("plain", encrypted=False)
    rds = boto3.client("rds", region_name=REGION)
    verdict = check_rds_instance(rds, "plain")
    assert not verdict.ok
    assert {c.name for c in verdict.checks if not c.ok} == {"encrypted", "key"}
    missing = check_rds_instance(rds, "nothing")
    assert not missing.ok
    assert missing.message == "FAILED: nothing: answers: DBInstanceNotFound"


def test_a_restored_bucket_must_hold_kms_encrypted_objects(aws: None) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    for name in ("full", "empty"):
        s3.create_bucket(Bucket=name)
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": KEY,
                        }
                    }
                ]
            },
        )
    s3.put_object(Bucket="full", Key="daily/postgres/x.dump", Body=b"x")
    assert check_s3_bucket(s3, "full").ok
    empty = check_s3_bucket(s3, "empty")
    assert [(c.name, c.ok) for c in empty.checks] == [("answers", False), ("encrypted", True)]


def test_a_restored_docdb_cluster_through_the_stubber() -> None:
    docdb = boto3.client(
        "docdb", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(docdb) as stub:
        stub.add_response(
            "describe_db_clusters",
            {
                "DBClusters": [
                    {
                        "DBClusterIdentifier": "restored-docdb",
                        "Status": "available",
                        "Endpoint": "restored-docdb.cluster-x.docdb.amazonaws.com",
                        "StorageEncrypted": True,
                        "KmsKeyId": KEY,
                    }
                ]
            },
            {"DBClusterIdentifier": "restored-docdb"},
        )
        verdict = check_docdb_cluster(docdb, "restored-docdb", KEY)
    assert verdict.ok
    assert [c.name for c in verdict.checks] == ["answers", "encrypted", "key"]


def test_resource_of_restored_arns() -> None:
    assert resource_of(f"arn:aws:rds:{REGION}:{ACCOUNT}:db:r1") == ("db", "r1")
    assert resource_of(f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:c1") == ("cluster", "c1")
    assert resource_of("arn:aws:s3:::restored-bucket") == ("bucket", "restored-bucket")
    with pytest.raises(ValueError, match="not a restorable resource ARN"):
        resource_of(f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t")


def _job(minutes: int, tested: bool = True) -> dict[str, Any]:
    job: dict[str, Any] = {
        "RestoreJobId": JOB,
        "Status": "COMPLETED",
        "ResourceType": "RDS",
        "CreatedResourceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:restored",
        "CreationDate": START,
        "CompletionDate": START + dt.timedelta(minutes=minutes),
    }
    if tested:
        job["CreatedBy"] = {
            "RestoreTestingPlanArn": f"arn:aws:backup:{REGION}:{ACCOUNT}:restore-testing-plan:p"
        }
    return job


def _run(minutes: int, expected_status: str | None, tested: bool = True) -> dict[str, Any]:
    backup = boto3.client("backup", region_name=REGION)
    clients = {"backup": backup}
    with Stubber(backup) as stub:
        stub.add_response("describe_restore_job", _job(minutes, tested), {"RestoreJobId": JOB})
        if expected_status is not None:
            stub.add_response(
                "put_restore_validation_result",
                {},
                {
                    "RestoreJobId": JOB,
                    "ValidationStatus": expected_status,
                    "ValidationStatusMessage": ANY,
                },
            )
        event = {"detail": {"restoreJobId": JOB, "status": "COMPLETED"}}
        result = handle(
            event, lambda s: clients.get(s) or boto3.client(s, region_name=REGION), 15.0
        )
        stub.assert_no_pending_responses()
    return result


def _metrics() -> dict[str, float]:
    cw = boto3.client("cloudwatch", region_name=REGION)
    found = {}
    for name in ("RestoreValidationFailed", "RestoreMinutes"):
        stats = cw.get_metric_statistics(
            Namespace="ReskFlow/Backups",
            MetricName=name,
            StartTime=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
            EndTime=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
            Period=3600,
            Statistics=["Maximum"],
        )["Datapoints"]
        found[name] = stats[0]["Maximum"]
    return found


def test_handler_reports_success_and_publishes_metrics(aws: None) -> None:
    _postgres("restored")
    result = _run(12, "SUCCESSFUL")
    assert result["validationStatus"] == "SUCCESSFUL"
    assert "restore time: 12.0 min (target 15 min)" in result["message"]
    assert _metrics() == {"RestoreValidationFailed": 0.0, "RestoreMinutes": 12.0}


def test_a_restore_slower_than_the_rto_fails_validation(aws: None) -> None:
    _postgres("restored")
    result = _run(40, "FAILED")
    assert result["message"] == ("FAILED: restored: restore time: 40.0 min (target 15 min)")
    assert _metrics() == {"RestoreValidationFailed": 1.0, "RestoreMinutes": 40.0}


def test_jobs_not_started_by_restore_testing_are_left_alone(aws: None) -> None:
    result = _run(5, None, tested=False)
    assert result == {"skipped": f"restore job {JOB} was not started by restore testing"}


def test_restore_alarms_watch_failures_and_the_rto() -> None:
    failed, slow = restore_alarms(15)
    assert (failed.name, failed.metric_name, failed.comparison, failed.threshold) == (
        "restore-validation-failed",
        "RestoreValidationFailed",
        "GreaterThanOrEqualToThreshold",
        1.0,
    )
    assert (slow.name, slow.metric_name, slow.comparison, slow.threshold) == (
        "restore-slower-than-rto",
        "RestoreMinutes",
        "GreaterThanThreshold",
        15.0,
    )
    assert failed.namespace == slow.namespace == "ReskFlow/Backups"


def test_the_validation_function_rule_and_permission_are_declared(plan_of: Any) -> None:
    plan = plan_of("prod", "reskflow:backup={restoreTimeTargetMinutes: 20}")
    function = named(plan, "restore-validation-function")
    assert function.inputs["handler"] == "restore_checks.lambda_entry.handler"
    assert function.inputs["runtime"] == "python3.12"
    assert function.inputs["environment"] == {"variables": {"RESTORE_TIME_TARGET_MINUTES": "20"}}
    rule = named(plan, "restore-validation-rule")
    assert json.loads(rule.inputs["eventPattern"]) == EVENT_PATTERN
    permission = named(plan, "restore-validation-permission")
    assert permission.inputs["principal"] == "events.amazonaws.com"
    statements = {
        s["Sid"]: s for s in policy_doc(named(plan, "restore-validation-policy"))["Statement"]
    }
    assert statements["ReadAndReportRestoreJobs"]["Action"] == [
        "backup:DescribeRestoreJob",
        "backup:PutRestoreValidationResult",
    ]
    alarms = {
        r.inputs["metricName"]: r.inputs["threshold"]
        for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if r.inputs.get("namespace") == "ReskFlow/Backups" and "Restore" in r.inputs["metricName"]
    }
    assert alarms == {"RestoreValidationFailed": 1.0, "RestoreMinutes": 20.0}
