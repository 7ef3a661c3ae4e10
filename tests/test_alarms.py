"""Alarms: encrypted topic, subscriptions, S3 replication, health check, Backup events, lag."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from infra.settings import RPO_SECONDS, AlarmSettings, ConfigError
from reskflow_dr.cli import main
from reskflow_dr.engine import Plan, run_program
from reskflow_dr.preview import ROOT, preview
from reskflow_dr.stackfiles import StackConfig, load_stack
from tests.conftest import ROLE_OVERRIDES, PlanOf, belongs_to_workloads, named, policy_doc

ACCOUNT = "123456789012"
REGION = {"prod": "us-east-1", "dr": "us-west-2"}
PEER = {"prod": "us-west-2", "dr": "us-east-1"}
STORES = ("uploads", "logs", "config", "backups", "blockchain")


def topic_arn(region: str) -> str:
    return f"arn:aws:sns:{region}:{ACCOUNT}:reskflow-dr-alerts"


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    return {stack: preview(stack) for stack in ("prod", "dr")}


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_topic_is_encrypted_with_the_regional_cmk(plans: dict[str, Plan], stack: str) -> None:
    topic = named(plans[stack], "alerts-topic")
    key_id = plans[stack].outputs["kmsKeyId"]
    assert topic.inputs == {
        "name": "reskflow-dr-alerts",
        "kmsMasterKeyId": f"arn:aws:kms:{REGION[stack]}:{ACCOUNT}:key/{key_id}",
    }
    assert plans[stack].outputs["alertsTopicArn"] == topic_arn(REGION[stack])


def test_topic_policy_lets_only_this_account_alarms_and_rules_publish(
    plans: dict[str, Plan],
) -> None:
    statements = {
        s["Sid"]: s for s in policy_doc(named(plans["dr"], "alerts-topic-policy"))["Statement"]
    }
    assert statements["CloudWatchAlarmsPublish"]["Principal"] == {
        "Service": "cloudwatch.amazonaws.com"
    }
    assert statements["CloudWatchAlarmsPublish"]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:us-west-2:{ACCOUNT}:alarm:*"},
    }
    assert statements["EventBridgeRulesPublish"]["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:events:us-west-2:{ACCOUNT}:rule/*"
    }
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    assert {s["Resource"] for s in statements.values()} == {topic_arn("us-west-2")}


def test_subscriptions_email_in_clear_webhook_only_as_secret() -> None:
    """The program gets the decrypted URL (as `pulumi up` does) and must keep it secret."""
    config = load_stack(ROOT, "prod")
    token_url = "https://events.example.com/integration/T0KEN-1234"
    values = {**config.values, "reskflow:alarmWebhookUrl": token_url}
    secret = config.secret_keys | {"reskflow:alarmWebhookUrl"}
    plan = run_program(replace(config, values=values, secret_keys=secret), ACCOUNT, "us-east-1")
    email, webhook = named(plan, "alerts-email-0"), named(plan, "alerts-webhook")
    assert email.inputs == {
        "topic": topic_arn("us-east-1"),
        "protocol": "email",
        "endpoint": "oncall@reskflow.example.com",
    }
    assert webhook.inputs == {
        "topic": topic_arn("us-east-1"),
        "protocol": "https",
        "endpoint": "[secret]",
        "endpointAutoConfirms": True,
    }
    assert "T0KEN" not in json.dumps(plan.to_json())


def test_no_webhook_subscription_when_unset(plan_of: PlanOf) -> None:
    plan = plan_of("dr", "reskflow:alarmWebhookUrl=", "reskflow:alarms={}")
    subscriptions = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscriptions == []


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_s3_replication_latency_and_failure_alarms_per_store(
    plans: dict[str, Plan], stack: str
) -> None:
    plan, region, peer = plans[stack], REGION[stack], PEER[stack]
    for store in STORES:
        dimensions = {
            "SourceBucket": f"reskflow-{ACCOUNT}-{store}-{region}",
            "DestinationBucket": f"reskflow-{ACCOUNT}-{store}-{peer}",
            "RuleId": f"to-{peer}",
        }
        latency = named(plan, f"alerts-s3-{store}-replication-latency").inputs
        failed = named(plan, f"alerts-s3-{store}-replication-failed").inputs
        expected = {
            "namespace": "AWS/S3",
            "dimensions": dimensions,
            "period": 300,
            "evaluationPeriods": 1,
            "treatMissingData": "notBreaching",
            "comparisonOperator": "GreaterThanThreshold",
            "alarmActions": [topic_arn(region)],
            "okActions": [topic_arn(region)],
            "actionsEnabled": True,
        }
        assert {k: latency[k] for k in expected} == expected
        assert {k: failed[k] for k in expected} == expected
        assert (latency["metricName"], latency["statistic"], latency["threshold"]) == (
            "ReplicationLatency",
            "Maximum",
            900,
        )
        assert (failed["metricName"], failed["statistic"], failed["threshold"]) == (
            "OperationsFailedReplication",
            "Sum",
            0,
        )


def test_no_replication_alarms_before_the_peer_exists(plan_of: PlanOf) -> None:
    plan = plan_of("prod", "reskflow:peerDeployed=false")
    alarms = {
        r.inputs.get("metricName")
        for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if not belongs_to_workloads(r)
    }
    # No S3 replication alarm (the monitoring tier's own alarms are in tests/test_monitoring.py);
    # the restore-test alarms watch the validation, not replication: present from the start.
    assert not alarms & {"ReplicationLatency", "OperationsFailedReplication"}
    assert {"HealthCheckStatus", "RestoreValidationFailed", "RestoreMinutes"} <= alarms


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_backup_copy_and_restore_failures_reach_the_topic(
    plans: dict[str, Plan], stack: str
) -> None:
    plan = plans[stack]
    patterns = {
        r.inputs["name"]: json.loads(r.inputs["eventPattern"])
        for r in plan.of_type("aws:cloudwatch/eventRule:EventRule")
        # The restore-test validation has its own rule (tests/test_restore_validation.py).
        if r.name != "restore-validation-rule"
    }
    assert patterns == {
        "reskflow-backup-job-failed": {
            "source": ["aws.backup"],
            "detail-type": ["Backup Job State Change"],
            "detail": {"state": ["ABORTED", "EXPIRED", "FAILED", "PARTIAL"]},
        },
        "reskflow-copy-job-failed": {
            "source": ["aws.backup"],
            "detail-type": ["Copy Job State Change"],
            "detail": {"state": ["FAILED", "PARTIAL"]},
        },
        "reskflow-restore-job-failed": {
            "source": ["aws.backup"],
            "detail-type": ["Restore Job State Change"],
            "detail": {"status": ["ABORTED", "FAILED"]},
        },
    }
    targets = {
        r.inputs["rule"]: r.inputs["arn"]
        for r in plan.of_type("aws:cloudwatch/eventTarget:EventTarget")
        if r.name != "restore-validation-target"
    }
    assert targets == dict.fromkeys(patterns, topic_arn(REGION[stack]))


def test_health_check_alarm_lives_in_us_east_1_only(plans: dict[str, Plan]) -> None:
    alarm = named(plans["prod"], "alerts-api-health-check").inputs
    assert {k: alarm[k] for k in alarm if k not in ("alarmActions", "okActions")} == {
        "name": "reskflow-api-health-check",
        "alarmDescription": "Route 53 health check of the API endpoint is unhealthy",
        "namespace": "AWS/Route53",
        "metricName": "HealthCheckStatus",
        "dimensions": {"HealthCheckId": plans["prod"].outputs["healthCheckId"]},
        "statistic": "Minimum",
        "comparisonOperator": "LessThanThreshold",
        "threshold": 1,
        "period": 60,
        "evaluationPeriods": 1,
        "treatMissingData": "breaching",
        "actionsEnabled": True,
    }
    dr_metrics = {
        r.inputs.get("metricName")
        for r in plans["dr"].of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    assert "HealthCheckStatus" not in dr_metrics


def test_drained_health_check_alarm_stays_silent(plan_of: PlanOf) -> None:
    alarm = named(plan_of("prod", *ROLE_OVERRIDES["prod", "passive"]), "alerts-api-health-check")
    assert alarm.inputs["actionsEnabled"] is False


def test_lag_threshold_is_derived_from_the_rpo() -> None:
    settings = AlarmSettings()
    spec = settings.lag_alarm(
        "rds-replica-lag", "AWS/RDS", "ReplicaLag", {"DBInstanceIdentifier": "db"}
    )
    assert (spec.threshold, spec.period_seconds, spec.evaluation_periods) == (60, 60, 3)
    assert (spec.statistic, spec.comparison) == ("Maximum", "GreaterThanThreshold")
    # A stalled replica's lag grows 1 s per s: it is at most threshold + 3 periods when the alarm
    # fires, which must leave room inside the RPO.
    assert spec.threshold + spec.period_seconds * spec.evaluation_periods <= RPO_SECONDS
    millis = settings.lag_alarm(
        "docdb-lag", "AWS/DocDB", "GlobalClusterReplicationLag", {}, milliseconds=True
    )
    assert millis.threshold == 60_000


PROGRAM = """
import pulumi
import pulumi_aws as aws
from components.alarms import Alerts, AlertsArgs
from infra.settings import AlarmSettings

provider = aws.Provider("aws-us-west-2", region="us-west-2")
lag = AlarmSettings().lag_alarm(
    "rds-replica-lag", "AWS/RDS", "ReplicaLag", {"DBInstanceIdentifier": "reskflow-db-g2"}
)
Alerts(
    "alerts",
    AlertsArgs(
        region="us-west-2",
        account_id="123456789012",
        kms_key_arn="arn:aws:kms:us-west-2:123456789012:key/mrk-0",
        alarms=[lag],
    ),
    opts=pulumi.ResourceOptions(providers=[provider]),
)
"""


def test_a_lag_spec_from_the_data_tier_becomes_an_alarm(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text(PROGRAM)
    config = StackConfig(project="reskflow", stack="dr", program_dir=tmp_path, values={})
    plan = run_program(config, ACCOUNT, "us-west-2")
    alarm = named(plan, "alerts-rds-replica-lag").inputs
    assert alarm["name"] == "reskflow-rds-replica-lag"
    assert (alarm["namespace"], alarm["metricName"]) == ("AWS/RDS", "ReplicaLag")
    assert alarm["dimensions"] == {"DBInstanceIdentifier": "reskflow-db-g2"}
    assert (alarm["threshold"], alarm["period"], alarm["evaluationPeriods"]) == (60, 60, 3)
    assert alarm["alarmActions"] == [topic_arn("us-west-2")]


BAD_ALARM_CONFIG = [
    (
        "reskflow:alarms={lagThresholdSeconds: 180}",
        "lagThresholdSeconds = 180",
        "exceeds the 300 s RPO",
    ),
    ("reskflow:alarms={lagPeriodSeconds: 90}", "lagPeriodSeconds = 90", "multiple of 60"),
    ("reskflow:alarms={lagEvaluationPeriods: 0}", "lagEvaluationPeriods = 0", "from 1 to 5"),
    ("reskflow:alarms={emails: [not-an-address]}", 'emails = ["not-an-address"]', "email"),
    ("reskflow:alarmWebhookUrl=https://hooks.example.com/T0KEN", "alarmWebhookUrl", "--secret"),
]


@pytest.mark.parametrize(("override", "named_value", "allowed"), BAD_ALARM_CONFIG)
def test_bad_alarm_config_is_one_config_error(
    override: str, named_value: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as err:
        preview("dr", [override])
    message = str(err.value)
    assert "\n" not in message
    assert named_value in message
    assert allowed in message
    assert "T0KEN" not in message


def test_plain_webhook_exits_2_without_echoing_it(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["preview", "dr", "--set", "reskflow:alarmWebhookUrl=https://h.example.com/T0KEN"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "T0KEN" not in err
