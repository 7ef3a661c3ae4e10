"""Backup CronJobs: schedules, commands, the bucket policy they must satisfy, IRSA, alerting; and
the job scripts themselves, run with stub tools."""

from __future__ import annotations

import fnmatch
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROLE_OVERRIDES, named, policy_doc
from tests.workload_plans import (
    JOB_NAMES,
    WITH_REDIS,
    containers,
    env_of,
    job_names,
    manifest,
    manifests,
    plan,
)

#: All four jobs (redis-daily is off by default).
ALL = ("prod", WITH_REDIS)
OIDC_ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"


def job_pod(p: Any, job: str) -> dict[str, Any]:
    cron = manifest(p, "CronJob", f"backup-{job}")
    return cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def step(p: Any, job: str, name: str) -> dict[str, Any]:
    return next(c for c in containers(job_pod(p, job)) if c["name"] == name)


def plain_env(container: dict[str, Any]) -> dict[str, str]:
    return {n: e["value"] for n, e in env_of(container).items() if "value" in e}


# --------------------------------------------------------------------------------------------
# CronJob objects
# --------------------------------------------------------------------------------------------


def test_default_schedules_run_at_night_utc_and_the_full_dump_weekly() -> None:
    crons = manifests(plan(*ALL), "CronJob")
    schedules = {name: m["spec"]["schedule"] for name, m in crons.items()}
    assert schedules == {
        "backup-postgres-daily": "0 2 * * *",
        "backup-postgres-weekly": "0 3 * * 0",
        "backup-mongodb-daily": "30 2 * * *",
        "backup-redis-daily": "0 4 * * *",
    }
    assert {m["spec"]["timeZone"] for m in crons.values()} == {"Etc/UTC"}


def test_the_redis_job_is_off_unless_configured() -> None:
    assert sorted(job_names(plan("prod"))) == sorted(set(JOB_NAMES) - {"redis-daily"})
    assert not [r for r in plan("prod").resources if "redis-daily" in r.name]


def test_cronjobs_never_overlap_give_up_late_runs_and_keep_little_history() -> None:
    for name, m in manifests(plan(*ALL), "CronJob").items():
        spec = m["spec"]
        assert spec["concurrencyPolicy"] == "Forbid", name
        assert 0 < spec["startingDeadlineSeconds"] <= 3600, name
        assert spec["successfulJobsHistoryLimit"] == 3, name
        assert spec["failedJobsHistoryLimit"] == 3, name
        job = spec["jobTemplate"]["spec"]
        assert 0 < job["activeDeadlineSeconds"] <= 6 * 3600, name
        assert job["backoffLimit"] == 1, name
        pod = job["template"]["spec"]
        assert pod["restartPolicy"] == "Never", name
        assert pod["serviceAccountName"] == name, name


def test_jobs_run_in_the_active_role_and_are_suspended_in_the_passive_one() -> None:
    passive = ("prod", *ROLE_OVERRIDES["prod", "passive"], WITH_REDIS)
    for args, suspended in ((ALL, False), (("dr", WITH_REDIS), True), (passive, True)):
        crons = manifests(plan(*args), "CronJob")
        assert len(crons) == len(JOB_NAMES)
        assert {m["spec"]["suspend"] for m in crons.values()} == {suspended}, args


def test_schedules_come_from_config_and_a_job_can_be_left_out() -> None:
    p = plan("prod", "reskflow:backupJobs={mongodb-daily: false, postgres-daily: '15 1 * * *'}")
    crons = manifests(p, "CronJob")
    assert "backup-mongodb-daily" not in crons
    assert crons["backup-postgres-daily"]["spec"]["schedule"] == "15 1 * * *"
    assert not [r for r in p.resources if "mongodb-daily" in r.name]


@pytest.mark.parametrize(
    ("job", "words"),
    [
        ("postgres-daily", ["pg_dump", "-Fc", "-f /backup/out/reskflow.dump"]),
        ("postgres-weekly", ["pg_dump", "-Fc", "pg_dumpall --globals-only --no-role-passwords"]),
        ("mongodb-daily", ["mongodump", "--gzip", "--archive=/backup/out/", "--config="]),
        ("redis-daily", ["redis-cli", "--tls", "--rdb /backup/out/dump.rdb"]),
    ],
)
def test_dump_commands_follow_the_seed_scripts(job: str, words: list[str]) -> None:
    dump = step(plan(*ALL), job, "dump")
    assert dump["command"][:2] == ["/bin/sh", "-c"]
    for word in words:
        assert word in dump["command"][2], word


def test_uploads_carry_the_storage_class_and_kms_headers() -> None:
    upload = step(plan(*ALL), "postgres-daily", "upload")
    script = upload["command"][2]
    assert '--storage-class "$STORAGE_CLASS"' in script
    assert "--sse aws:kms" in script
    assert '--sse-kms-key-id "$KMS_KEY_ARN"' in script


def backups_bucket_tiers(p: Any) -> dict[str, str]:
    """Resource pattern -> storage class required by the backups bucket's policy."""
    doc = policy_doc(named(p, "s3-backups-policy"))
    return {
        s["Resource"]: s["Condition"]["StringNotEquals"]["s3:x-amz-storage-class"]
        for s in doc["Statement"]
        if "s3:x-amz-storage-class" in s.get("Condition", {}).get("StringNotEquals", {})
    }


@pytest.mark.parametrize(
    ("args", "weekly_class"),
    [
        (("prod",), "GLACIER_IR"),
        (("dr",), "GLACIER_IR"),
    ],
)
def test_every_upload_satisfies_the_backups_bucket_policy(
    args: tuple[str, ...], weekly_class: str
) -> None:
    p = plan(*args)
    tiers = backups_bucket_tiers(p)
    for job in job_names(p):
        env = plain_env(step(p, job, "upload"))
        assert env["BACKUP_BUCKET"] == p.outputs["buckets"]["backups"]
        assert env["KMS_KEY_ARN"] == p.outputs["kmsKeyArn"]
        key = f"arn:aws:s3:::{env['BACKUP_BUCKET']}/{env['BACKUP_PREFIX']}/20250101T020000Z/x"
        required = [cls for pattern, cls in tiers.items() if fnmatch.fnmatch(key, pattern)]
        assert required == [env["STORAGE_CLASS"]], job
        expected = weekly_class if job.endswith("weekly") else "STANDARD_IA"
        assert env["STORAGE_CLASS"] == expected, job
        assert env["BACKUP_PREFIX"] == "/".join(reversed(job.split("-"))), job


def test_jobs_connect_to_the_regions_databases_with_secret_credentials() -> None:
    p = plan("dr", WITH_REDIS)
    pg = env_of(step(p, "postgres-daily", "dump"))
    # The region's own instance (the replica while passive, promoted in place on failover).
    assert f"{pg['PGHOST']['value']}:5432" == p.outputs["postgres"]["endpoint"]
    assert pg["PGDATABASE"]["value"] == "reskflow"
    mongo = env_of(step(p, "mongodb-daily", "dump"))
    assert mongo["MONGODB_HOST"]["value"] == p.outputs["docdb"]["endpoint"]
    assert pg["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "reskflow-postgres",
        "key": "password",
        "optional": False,
    }
    assert pg["PGSSLMODE"]["value"] == "require"
    redis = env_of(step(p, "redis-daily", "dump"))
    assert redis["REDIS_HOST"]["value"] == p.outputs["redis"]["primaryEndpoint"]
    assert redis["REDISCLI_AUTH"]["valueFrom"]["secretKeyRef"]["name"] == "reskflow-redis"


# --------------------------------------------------------------------------------------------
# IRSA
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("job", JOB_NAMES)
def test_each_job_assumes_its_own_role_through_the_clusters_oidc_provider(job: str) -> None:
    p = plan(*ALL)
    role = named(p, f"backup-jobs-{job}-role")
    assert role.inputs["name"] == f"reskflow-backup-{job}-us-east-1"
    (statement,) = policy_doc(role, "assumeRolePolicy")["Statement"]
    assert statement["Principal"] == {
        "Federated": f"arn:aws:iam::123456789012:oidc-provider/{OIDC_ISSUER}"
    }
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{OIDC_ISSUER}:sub": f"system:serviceaccount:reskflow:backup-{job}",
            f"{OIDC_ISSUER}:aud": "sts.amazonaws.com",
        }
    }
    account = manifest(p, "ServiceAccount", f"backup-{job}")
    annotations = account["metadata"]["annotations"]
    assert annotations["eks.amazonaws.com/role-arn"] == (
        f"arn:aws:iam::123456789012:role/reskflow-backup-{job}-us-east-1"
    )
    assert annotations["eks.amazonaws.com/sts-regional-endpoints"] == "true"
    assert account["automountServiceAccountToken"] is False


@pytest.mark.parametrize("job", JOB_NAMES)
def test_each_role_writes_only_its_own_prefix_with_the_regional_key(job: str) -> None:
    p = plan(*ALL)
    prefix = "/".join(reversed(job.split("-")))
    statements = {
        s["Sid"]: s for s in policy_doc(named(p, f"backup-jobs-{job}-policy"))["Statement"]
    }
    write = statements["WriteOwnPrefix"]
    assert write["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload"]
    assert write["Resource"] == f"arn:aws:s3:::reskflow-123456789012-backups-us-east-1/{prefix}/*"
    kms = statements["EncryptWithRegionalKey"]
    assert kms["Resource"] == p.outputs["kmsKeyArn"]
    assert kms["Condition"]["StringEquals"] == {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    if job.endswith("weekly"):
        assert statements["LockOwnUploads"] == {
            "Sid": "LockOwnUploads",
            "Effect": "Allow",
            "Action": "s3:PutObjectRetention",
            "Resource": f"arn:aws:s3:::reskflow-123456789012-backups-us-east-1/{prefix}/*",
        }
    else:
        assert "LockOwnUploads" not in statements
    metric = statements["RecordSuccess"]
    assert metric["Condition"] == {"StringEquals": {"cloudwatch:namespace": "ReskFlow/Backups"}}
    for s in statements.values():
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        assert not [a for a in actions if "*" in a], s["Sid"]
        assert s["Effect"] == "Allow"
        assert s["Resource"] != "*" or s["Sid"] == "RecordSuccess", s["Sid"]


# --------------------------------------------------------------------------------------------
# Alerting
# --------------------------------------------------------------------------------------------


def backup_alarms(p: Any) -> dict[str, dict[str, Any]]:
    found = p.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    return {r.inputs["name"]: r.inputs for r in found if r.name.startswith("alerts-backup-")}


def test_daily_jobs_alarm_when_no_run_succeeded_for_26_hours() -> None:
    p = plan(*ALL)
    alarms = backup_alarms(p)
    assert set(alarms) == {f"reskflow-backup-{j}-stale" for j in JOB_NAMES if j.endswith("daily")}
    for name, a in alarms.items():
        assert a["namespace"] == "ReskFlow/Backups" and a["metricName"] == "BackupSucceeded"
        assert a["period"] * a["evaluationPeriods"] == 26 * 3600, name
        assert "datapointsToAlarm" not in a, name  # defaults to every period: all must miss
        assert (a["comparisonOperator"], a["threshold"]) == ("LessThanThreshold", 1), name
        assert a["treatMissingData"] == "breaching" and a["actionsEnabled"] is True, name
        assert a["alarmActions"] == [p.outputs["alertsTopicArn"]], name
        job = name.removeprefix("reskflow-").removesuffix("-stale")
        assert a["dimensions"] == {"Job": job}


def test_jobs_alert_the_alarm_tiers_topic() -> None:
    p = plan(*ALL)
    topic = p.outputs["alertsTopicArn"]
    assert topic.startswith("arn:aws:sns:us-east-1:123456789012:")
    for job in JOB_NAMES:
        assert plain_env(step(p, job, "upload"))["ALERT_TOPIC_ARN"] == topic
        doc = policy_doc(named(p, f"backup-jobs-{job}-policy"))
        (publish,) = [s for s in doc["Statement"] if s["Sid"] == "PublishFailures"]
        assert publish["Resource"] == topic


def test_passive_alarms_stay_quiet() -> None:
    alarms = backup_alarms(plan("dr", WITH_REDIS))
    assert len(alarms) == 3
    for a in alarms.values():
        assert a["treatMissingData"] == "notBreaching"
        assert a["actionsEnabled"] is False


# --------------------------------------------------------------------------------------------
# The scripts, run with stub tools
# --------------------------------------------------------------------------------------------

STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> "$STUB_LOG"
case " $* " in *" $STUB_FAIL "*) exit 3 ;; esac
exit 0
"""


@pytest.fixture
def sandbox(tmp_path: Path) -> dict[str, Any]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("aws", "pg_dump", "pg_dumpall", "mongodump", "redis-cli"):
        path = bin_dir / tool
        path.write_text(STUB)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    work = tmp_path / "backup"
    work.mkdir()
    return {"bin": bin_dir, "work": work, "log": tmp_path / "calls.log"}


def run_step(sandbox: dict[str, Any], job: str, name: str, fail: str = "") -> tuple[int, list[str]]:
    container = step(plan(*ALL), job, name)
    script = container["command"][2].replace("/backup", str(sandbox["work"]))
    env = {
        **plain_env(container),
        "PATH": f"{sandbox['bin']}:{os.environ['PATH']}",
        "STUB_LOG": str(sandbox["log"]),
        "STUB_FAIL": fail or "never-matches",
        "MONGODB_PASSWORD": "S3cretSentinel",
        "MONGODB_USERNAME": "u",
        "HOME": str(sandbox["work"]),
    }
    done = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, check=False)
    log = sandbox["log"].read_text().splitlines() if sandbox["log"].exists() else []
    return done.returncode, log


@pytest.mark.parametrize("job", JOB_NAMES)
def test_a_good_run_uploads_with_the_required_headers_and_records_success(
    sandbox: dict[str, Any], job: str
) -> None:
    assert run_step(sandbox, job, "dump")[0] == 0
    assert (sandbox["work"] / "status").read_text() == "ok\n"
    out = sandbox["work"] / "out"
    out.mkdir(exist_ok=True)
    for name in ("reskflow.dump", "globals.sql"):  # the stub tools write nothing
        (out / name).write_text("x")
    code, calls = run_step(sandbox, job, "upload")
    assert code == 0, calls
    env = plain_env(step(plan(*ALL), job, "upload"))
    stamp = (sandbox["work"] / "stamp").read_text().strip()
    copy = next(c for c in calls if c.startswith("aws s3 cp"))
    assert copy == (
        f"aws s3 cp {sandbox['work']}/out/ s3://{env['BACKUP_BUCKET']}/{env['BACKUP_PREFIX']}/"
        f"{stamp}/ --recursive --only-show-errors --storage-class {env['STORAGE_CLASS']} "
        f"--sse aws:kms --sse-kms-key-id {env['KMS_KEY_ARN']} --checksum-algorithm SHA256"
    )
    locks = [c for c in calls if c.startswith("aws s3api put-object-retention")]
    if job.endswith("weekly"):
        # The weekly fulls outlast the bucket's 7-day default: 28 days, set per uploaded file.
        assert (env["LOCK_DAYS"], env["LOCK_MODE"]) == ("28", "GOVERNANCE")
        prefix = f"--bucket {env['BACKUP_BUCKET']} --key {env['BACKUP_PREFIX']}/{stamp}"
        assert [c.split(" --retention ")[0] for c in locks] == [
            f"aws s3api put-object-retention {prefix}/globals.sql",
            f"aws s3api put-object-retention {prefix}/reskflow.dump",
        ]
        for call in locks:
            assert " --retention Mode=GOVERNANCE,RetainUntilDate=20" in call
    else:
        assert "LOCK_DAYS" not in env
        assert locks == []
    assert any(c.startswith("aws cloudwatch put-metric-data") and job in c for c in calls)
    assert not [c for c in calls if "sns publish" in c]


def test_a_failed_dump_alerts_and_fails_the_pod(sandbox: dict[str, Any]) -> None:
    assert run_step(sandbox, "postgres-daily", "dump", fail="-Fc")[0] == 0
    assert (sandbox["work"] / "status").read_text() == "exit code 3\n"
    code, calls = run_step(sandbox, "postgres-daily", "upload")
    assert code == 1
    (alert,) = [c for c in calls if c.startswith("aws sns publish")]
    assert f"--topic-arn {plan('prod').outputs['alertsTopicArn']}" in alert
    assert "dump step failed (exit code 3)" in alert
    assert not [c for c in calls if c.startswith("aws s3")]


def test_a_failed_upload_alerts_and_records_no_success(sandbox: dict[str, Any]) -> None:
    run_step(sandbox, "mongodb-daily", "dump")
    code, calls = run_step(sandbox, "mongodb-daily", "upload", fail="cp")
    assert code == 1
    assert any(c.startswith("aws sns publish") and "upload to s3://" in c for c in calls)
    assert not [c for c in calls if "put-metric-data" in c]


def test_a_dump_that_never_finished_alerts(sandbox: dict[str, Any]) -> None:
    code, calls = run_step(sandbox, "redis-daily", "upload")
    assert code == 1
    assert any("no status: the dump step did not finish" in c for c in calls)


def test_the_mongodb_password_never_reaches_a_command_line(sandbox: dict[str, Any]) -> None:
    run_step(sandbox, "mongodb-daily", "dump")
    (call,) = [c for c in sandbox["log"].read_text().splitlines() if c.startswith("mongodump")]
    assert "--config=/tmp/mongodump.yaml" in call
    assert "S3cretSentinel" not in call
