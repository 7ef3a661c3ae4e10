"""``reskflow-dr restore`` against moto: the restore call, the new identifier, the validation and
the printed config change.

moto has no DocumentDB engine: the DocumentDB restore goes through botocore's Stubber, which
asserts the exact calls (restore, the instance that makes it answer, the wait, the checks).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from reskflow_dr import restore
from reskflow_dr.cli import main
from reskflow_dr.preview import ROOT, validated

REGION = "us-east-1"
KEY = "arn:aws:kms:us-east-1:123456789012:key/mrk-1"
UPLOADS = "reskflow-123456789012-uploads-us-east-1"


def _source() -> None:
    boto3.client("rds", region_name=REGION).create_db_instance(
        DBInstanceIdentifier="reskflow-postgres-g1",
        Engine="postgres",
        DBInstanceClass="db.r6g.large",
        MasterUsername="reskflow_admin",
        MasterUserPassword="password1",
        AllocatedStorage=100,
        StorageEncrypted=True,
        KmsKeyId=KEY,
        BackupRetentionPeriod=7,
    )


def test_postgres_restore_into_the_next_generation(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _source()
    out = tmp_path / "restore.json"
    code = main(["restore", "postgres", "prod", "--wait-minutes", "1", "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    (db,) = boto3.client("rds", region_name=REGION).describe_db_instances(
        DBInstanceIdentifier="reskflow-postgres-g3"
    )["DBInstances"]
    assert (db["StorageEncrypted"], db["KmsKeyId"]) == (True, KEY)
    assert db.get("PubliclyAccessible") is not True
    assert db["DeletionProtection"] is True
    tags = {t["Key"]: t["Value"] for t in db["TagList"]}
    assert tags == {
        "reskflow:backup": "dr",
        "reskflow:store": "postgres",
        "reskflow:generation": "3",
    }
    assert "Restored postgres reskflow-postgres-g1 -> reskflow-postgres-g3 in us-east-1" in printed
    assert "  $ pulumi config set reskflow:dbGeneration 3 -s prod" in printed
    assert "  $ pulumi config set reskflow:retainedDbGenerations '[1]' -s prod" in printed
    assert "pulumi import aws:rds/instance:Instance postgres-g3 reskflow-postgres-g3" in printed
    report = json.loads(out.read_text())
    assert report["target"] == "reskflow-postgres-g3"
    assert report["valid"] is True
    assert report["restoreTime"] == "latest"


def test_a_time_after_the_latest_restorable_time_is_refused(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _source()
    code = main(["restore", "postgres", "prod", "--to", "2099-01-01T00:00:00Z"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "after the latest restorable time of reskflow-postgres-g1" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "yesterday"], "expected an ISO 8601 time"),
        (["--to", "2026-12-04T09:30:00"], "give a zone"),
        (["--generation", "2"], "must be above every generation in use (next free: 3)"),
    ],
)
def test_bad_restore_options_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["restore", "postgres", "prod", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert message in err


def test_a_passive_stack_has_no_database_to_restore(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["restore", "postgres", "dr"]) == 2
    assert "is passive: its instance is a replica" in capsys.readouterr().err


def test_an_aws_refusal_is_one_line_exit_1(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    # No source instance in this account: RDS refuses.
    code = main(["restore", "postgres", "prod", "--wait-minutes", "1"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("reskflow-dr: restore failed: reskflow-postgres-g1: ")
    assert out.count("\n") == 1


def test_s3_object_from_an_earlier_version(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=UPLOADS)
    s3.put_bucket_versioning(Bucket=UPLOADS, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=UPLOADS, Key="menus/1.json", Body=b"good")["VersionId"]
    s3.put_object(Bucket=UPLOADS, Key="menus/1.json", Body=b"corrupt")
    argv = ["restore", "s3", "prod", "--bucket-store", "uploads", "--key", "menus/1.json"]
    assert main([*argv, "--version-id", first]) == 0
    assert s3.get_object(Bucket=UPLOADS, Key="menus/1.json")["Body"].read() == b"good"
    versions = s3.list_object_versions(Bucket=UPLOADS, Prefix="menus/1.json")["Versions"]
    assert len(versions) == 3  # the corrupt version is kept, the good one copied on top
    assert f"s3://{UPLOADS}/menus/1.json?versionId={first}" in capsys.readouterr().out


def test_s3_newest_version_before_a_time(aws: None) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=UPLOADS)
    s3.put_bucket_versioning(Bucket=UPLOADS, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=UPLOADS, Key="k", Body=b"v1")
    settings = validated(ROOT, "prod")
    client = restore.clients(REGION)
    past = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(restore.UsageError, match="no version written before 2000-01-01"):
        restore.restore_s3_object(settings, client, "uploads", "k", None, past)
    with pytest.raises(restore.UsageError, match="allowed values are uploads, logs"):
        restore.restore_s3_object(settings, client, "photos", "k", None, None)


def test_docdb_restore_through_the_stubber(capsys: pytest.CaptureFixture[str]) -> None:
    settings = validated(ROOT, "prod")
    docdb = boto3.client(
        "docdb", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    source = "reskflow-docdb-us-east-1"
    cluster: dict[str, Any] = {
        "DBClusterIdentifier": source,
        "Status": "available",
        "DBSubnetGroup": "reskflow-docdb",
        "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-1", "Status": "active"}],
        "KmsKeyId": KEY,
        "StorageEncrypted": True,
        "Endpoint": "src.docdb.amazonaws.com",
        "LatestRestorableTime": dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC),
    }
    when = dt.datetime(2026, 12, 4, 8, 30, tzinfo=dt.UTC)
    with Stubber(docdb) as stub:
        stub.add_response(
            "describe_db_clusters", {"DBClusters": [cluster]}, {"DBClusterIdentifier": source}
        )
        stub.add_response(
            "restore_db_cluster_to_point_in_time",
            {"DBCluster": {"DBClusterIdentifier": "sessions-restored"}},
            {
                "DBClusterIdentifier": "sessions-restored",
                "SourceDBClusterIdentifier": source,
                "RestoreToTime": when,
                "DBSubnetGroupName": "reskflow-docdb",
                "VpcSecurityGroupIds": ["sg-1"],
                "KmsKeyId": KEY,
                "DeletionProtection": True,
                "Tags": [
                    {"Key": "reskflow:backup", "Value": "dr"},
                    {"Key": "reskflow:store", "Value": "docdb"},
                ],
            },
        )
        stub.add_response(
            "create_db_instance",
            {"DBInstance": {"DBInstanceIdentifier": "sessions-restored-1"}},
            {
                "DBInstanceIdentifier": "sessions-restored-1",
                "DBInstanceClass": "db.r6g.large",
                "Engine": "docdb",
                "DBClusterIdentifier": "sessions-restored",
            },
        )
        stub.add_response(
            "describe_db_instances",
            {
                "DBInstances": [
                    {"DBInstanceIdentifier": "sessions-restored-1", "DBInstanceStatus": "available"}
                ]
            },
            {"DBInstanceIdentifier": "sessions-restored-1"},
        )
        restored = {**cluster, "DBClusterIdentifier": "sessions-restored",
                    "Endpoint": "restored.docdb.amazonaws.com"}  # fmt: skip
        stub.add_response(
            "describe_db_clusters",
            {"DBClusters": [restored]},
            {"DBClusterIdentifier": "sessions-restored"},
        )
        result = restore.restore_docdb(settings, lambda _: docdb, when, 5, "sessions-restored")
        stub.assert_no_pending_responses()
    assert result.verdict is not None and result.verdict.ok
    assert result.to_json()["restoreTime"] == "2026-12-04T08:30:00+00:00"
    assert "not managed by the stack" in restore.render(result)
