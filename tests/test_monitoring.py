"""Monitoring that survives the loss of either region: which alarms exist in which region for
both stacks and both roles, their metrics, dimensions, statistics, thresholds, missing-data
handling and actions; canaries; dashboards; cost guard rails; bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.alert_rules import APP_NAMESPACE, CONTRACT
from components.dashboards import EXTRA_METRICS, graphed_metrics
from infra.settings import ConfigError
from reskflow_dr.engine import Plan, PlannedResource
from reskflow_dr.preview import ROOT
from reskflow_dr.stackfiles import load_stack
from tests.conftest import ROLE_OVERRIDES, PlanOf, named, policy_doc

ACCOUNT = "123456789012"
REGION = {"prod": "us-east-1", "dr": "us-west-2"}
PEER = {"prod": "us-west-2", "dr": "us-east-1"}
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LAG = {"ReplicaLag", "GlobalClusterReplicationLag", "GlobalDatastoreReplicationLag"}


def critical(region: str) -> list[str]:
    return [f"arn:aws:sns:{region}:{ACCOUNT}:reskflow-dr-alerts"]


def warning(region: str) -> list[str]:
    return [f"arn:aws:sns:{region}:{ACCOUNT}:reskflow-dr-warnings"]


def alarms(plan: Plan) -> dict[str, PlannedResource]:
    return {str(r.inputs["name"]): r for r in plan.of_type(ALARM)}


def shape(alarm: PlannedResource) -> tuple[Any, ...]:
    """What an alarm watches and how: metric, dimensions, statistic, comparison, threshold,
    period x periods, missing data, actions (topic), enabled."""
    i = alarm.inputs
    return (
        i.get("namespace"),
        i.get("metricName"),
        i.get("dimensions"),
        i.get("statistic"),
        i["comparisonOperator"],
        i["threshold"],
        i.get("period"),
        i["evaluationPeriods"],
        i["treatMissingData"],
        i["alarmActions"],
        i["actionsEnabled"],
    )


@pytest.fixture(scope="module", params=sorted(ROLE_OVERRIDES))
def case(request: pytest.FixtureRequest) -> tuple[str, str, Plan]:
    from reskflow_dr.preview import preview

    stack, role = request.param
    return stack, role, preview(stack, list(ROLE_OVERRIDES[(stack, role)]))


def test_each_region_watches_every_public_endpoint(case: tuple[str, str, Plan]) -> None:
    stack, _role, plan = case
    region = REGION[stack]
    canaries = {
        str(r.inputs["name"]): r.inputs for r in plan.of_type("aws:synthetics/canary:Canary")
    }
    urls = {n: c["runConfig"]["environmentVariables"]["TARGET_URL"] for n, c in canaries.items()}
    assert urls == {
        "reskflow-api": "https://api.reskflow.example.com/health",
        "reskflow-us-east-1": "https://api-us-east-1.reskflow.example.com/health",
        "reskflow-us-west-2": "https://api-us-west-2.reskflow.example.com/health",
    }
    logs = f"reskflow-{ACCOUNT}-logs-{region}"
    for c in canaries.values():
        assert c["runtimeVersion"] == "syn-python-selenium-7.0"
        assert c["handler"] == "endpoint_check.handler"
        assert c["schedule"] == {"expression": "rate(5 minutes)"}
        assert c["artifactS3Location"] == f"s3://{logs}/synthetics/runs/"
        assert c["artifactConfig"]["s3Encryption"]["encryptionMode"] == "SSE_KMS"
        assert c["artifactConfig"]["s3Encryption"]["kmsKeyArn"].startswith(
            f"arn:aws:kms:{region}:{ACCOUNT}:key/"
        )
        assert (c["s3Bucket"], c["s3Key"]) == (logs, "synthetics/scripts/endpoint_check.zip")
    found = alarms(plan)
    for name in canaries:
        label = name.removeprefix("reskflow-")
        assert shape(found[f"reskflow-canary-{label}"]) == (
            "CloudWatchSynthetics",
            "SuccessPercent",
            {"CanaryName": name},
            "Average",
            "LessThanThreshold",
            100,
            300,
            2,
            "breaching",
            critical(region),
            True,
        )


def test_canary_role_is_least_privilege(case: tuple[str, str, Plan]) -> None:
    stack, _role, plan = case
    region = REGION[stack]
    statements = policy_doc(named(plan, "canaries-role-policy"))["Statement"]
    resources = {(json.dumps(s["Action"]), json.dumps(s["Resource"])) for s in statements}
    logs = f"arn:aws:s3:::reskflow-{ACCOUNT}-logs-{region}"
    assert (json.dumps(["s3:PutObject", "s3:GetObject"]), json.dumps(f"{logs}/synthetics/*")) in (
        resources
    )
    metric = next(s for s in statements if s["Action"] == "cloudwatch:PutMetricData")
    assert metric["Condition"] == {"StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}}
    assert not any(s["Action"] == "*" or s["Action"] == "s3:*" for s in statements)


def test_replication_alarms_cannot_stay_silent(case: tuple[str, str, Plan]) -> None:
    stack, role, plan = case
    region = REGION[stack]
    found = alarms(plan)
    replica = (stack == "dr" and role == "passive") or (stack == "prod" and role == "passive")
    if replica:
        lag = found["reskflow-postgres-replica-lag"].inputs
        assert (lag["statistic"], lag["threshold"], lag["treatMissingData"]) == (
            "Maximum",
            60,
            "breaching",
        )
        stopped = found["reskflow-postgres-not-replicating"].inputs
        assert (
            stopped["metricName"],
            stopped["statistic"],
            stopped["comparisonOperator"],
            stopped["threshold"],
            stopped["treatMissingData"],
            stopped["alarmActions"],
        ) == ("ReplicaLag", "Minimum", "LessThanThreshold", 0, "breaching", critical(region))
    else:
        assert "reskflow-postgres-not-replicating" not in found
    cache_secondary = (stack, role) in {("dr", "passive"), ("prod", "passive")}
    if cache_secondary:
        redis = found["reskflow-redis-global-lag"].inputs
        group = f"reskflow-redis-{region}"
        queries = redis["metricQueries"]
        assert [q["metric"]["dimensions"] for q in queries[:-1]] == [
            {"CacheClusterId": f"{group}-001"},
            {"CacheClusterId": f"{group}-002"},
        ]
        assert {q["metric"]["metricName"] for q in queries[:-1]} == {
            "GlobalDatastoreReplicationLag"
        }
        assert {q["metric"]["namespace"] for q in queries[:-1]} == {"AWS/ElastiCache"}
        assert queries[-1] == {
            "id": "lag",
            "expression": "MAX([m1, m2])",
            "label": "max lag over the members (s)",
            "returnData": True,
        }
        assert (redis["threshold"], redis["evaluationPeriods"], redis["treatMissingData"]) == (
            60,
            3,
            "breaching",
        )
    else:
        assert "reskflow-redis-global-lag" not in found


def test_seed_rules_with_threshold_duration_severity(case: tuple[str, str, Plan]) -> None:
    stack, role, plan = case
    region = REGION[stack]
    found = alarms(plan)
    rules = {
        "reskflow-app-high-error-rate": ("GreaterThanThreshold", 5, 2, critical(region)),
        "reskflow-app-slow-response": ("GreaterThanThreshold", 2000, 5, warning(region)),
        "reskflow-app-payment-failures": ("GreaterThanThreshold", 2, 1, critical(region)),
        "reskflow-business-low-order-volume": ("LessThanThreshold", 10, 15, warning(region)),
        "reskflow-business-high-cancellation": ("GreaterThanThreshold", 10, 30, warning(region)),
        "reskflow-postgres-high-cpu": ("GreaterThanThreshold", 80, 5, warning(region)),
        "reskflow-postgres-disk-space": (
            "LessThanThreshold",
            round(100 * 2**30 * 0.1),
            1,
            critical(region),
        ),
        "reskflow-docdb-high-cpu": ("GreaterThanThreshold", 80, 5, warning(region)),
        f"reskflow-redis-reskflow-redis-{region}-001-memory": (
            "GreaterThanThreshold",
            85,
            10,
            warning(region),
        ),
    }
    for name, expected in rules.items():
        i = found[name].inputs
        assert (
            i["comparisonOperator"],
            i["threshold"],
            i["evaluationPeriods"],
            i["alarmActions"],
        ) == (expected), name
    error = found["reskflow-app-high-error-rate"].inputs
    assert "degraded mode" in error["alarmDescription"]
    assert "reskflow:degradedLevel to ORANGE" in error["alarmDescription"]
    assert [q.get("expression") for q in error["metricQueries"]] == [None, None, "100 * num / den"]
    assert {q["metric"]["namespace"] for q in error["metricQueries"][:2]} == {APP_NAMESPACE}
    low = found["reskflow-business-low-order-volume"].inputs
    assert low["metricQueries"][2]["expression"] == (
        "IF(DAY(filled) < 6 AND HOUR(filled) >= 9 AND HOUR(filled) < 21, filled, 10)"
    )
    assert low["actionsEnabled"] is (role == "active")


def test_dashboards_are_valid_json_and_graph_only_emitted_metrics(
    case: tuple[str, str, Plan],
) -> None:
    stack, _role, plan = case
    region = REGION[stack]
    boards = {
        str(r.inputs["dashboardName"]): r
        for r in plan.of_type("aws:cloudwatch/dashboard:Dashboard")
    }
    assert set(boards) == {
        f"reskflow-executive-{region}",
        f"reskflow-operations-{region}",
        f"reskflow-sla-{region}",
    }
    alarmed: set[tuple[str, str]] = set()
    for a in plan.of_type(ALARM):
        if a.inputs.get("metricName"):
            alarmed.add((a.inputs["namespace"], a.inputs["metricName"]))
        for q in a.inputs.get("metricQueries") or []:
            if "metric" in q:
                alarmed.add((q["metric"]["namespace"], q["metric"]["metricName"]))
    types = {r.type for r in plan.resources}
    emitted = (
        alarmed
        | {m for m, t in EXTRA_METRICS.items() if t in types}
        | {(APP_NAMESPACE, m) for m in CONTRACT}
    )
    names = {str(a.inputs["name"]) for a in plan.of_type(ALARM)}
    for board in boards.values():
        body = json.loads(board.inputs["dashboardBody"])
        graphed = graphed_metrics(body)
        assert graphed - emitted == set()
        # DR state: every replication lag the stack alarms on is graphed, per store.
        assert {m for m in alarmed if m[1] in LAG} <= graphed
        assert ("CloudWatchSynthetics", "SuccessPercent") in graphed
        for widget in body["widgets"]:
            for arn in widget["properties"].get("alarms", []):
                assert arn.startswith(f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:")
                assert arn.rsplit(":", 1)[1] in names


def test_budget_and_anomaly_monitor_per_stack(case: tuple[str, str, Plan]) -> None:
    stack, _role, plan = case
    budget = named(plan, "costs-budget").inputs
    assert (budget["limitAmount"], budget["limitUnit"], budget["timeUnit"]) == (
        "20000.00",
        "USD",
        "MONTHLY",
    )
    assert budget["costFilters"] == [{"name": "TagKeyValue", "values": [f"user:stack${stack}"]}]
    assert [(n["notificationType"], n["threshold"]) for n in budget["notifications"]] == [
        ("ACTUAL", 80),
        ("ACTUAL", 100),
        ("FORECASTED", 100),
    ]
    monitor = named(plan, "costs-anomaly-monitor").inputs
    assert json.loads(monitor["monitorSpecification"]) == {
        "Tags": {"Key": "stack", "Values": [stack]}
    }
    sub = named(plan, "costs-anomaly-subscription").inputs
    assert sub["frequency"] == "DAILY"
    assert sub["thresholdExpression"]["dimension"]["values"] == ["100"]


def test_paging_endpoint_subscribes_to_the_critical_topic_only(plan_of: PlanOf) -> None:
    plan = plan_of("dr")
    subs = [r for r in plan.of_type("aws:sns/topicSubscription:TopicSubscription")]
    https = [s for s in subs if s.inputs["protocol"] == "https"]
    assert https == []  # no paging URL in the committed files
    emails = sorted(s.name for s in subs if s.inputs["protocol"] == "email")
    assert emails == ["alerts-email-0", "alerts-warning-email-0"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("canaryRateMinutes", 0, "reskflow:alarms.canaryRateMinutes"),
        ("canaryRateMinutes", 61, "reskflow:alarms.canaryRateMinutes"),
        ("budgetAlertPercents", [], "reskflow:alarms.budgetAlertPercents"),
        ("peerEndpoint", "https://x.example.com", "reskflow:alarms.peerEndpoint"),
        ("healthPath", "health", "reskflow:alarms.healthPath"),
    ],
)
def test_bad_monitoring_input_names_the_key(field: str, value: Any, message: str) -> None:
    from infra.settings.alarms import parse_alarms

    raw: dict[str, Any] = {"budgetMonthlyUsd": 100, "budgetAlertPercents": [80], field: value}
    with pytest.raises(ConfigError) as err:
        parse_alarms(json.dumps(raw), None, False)
    assert str(err.value).startswith(f"config error: {message} = ")


def test_budget_alerts_without_an_amount_are_refused() -> None:
    from infra.settings.alarms import parse_alarms

    with pytest.raises(ConfigError) as err:
        parse_alarms(json.dumps({"budgetAlertPercents": [80]}), None, False)
    assert str(err.value).startswith("config error: reskflow:alarms.budgetMonthlyUsd = (not set)")


def test_window_over_cloudwatch_limit_is_refused() -> None:
    from infra.settings.alarms import window_problem

    assert window_problem(60, 1440) is None
    assert window_problem(60, 1441) == (
        "period x evaluation periods = 86460 s exceeds CloudWatch's 86400 s limit"
    )
    assert window_problem(3600, 168) is None
    assert window_problem(3600, 169) is not None


def test_stack_files_parse() -> None:
    for stack in ("prod", "dr"):
        config = load_stack(ROOT, stack)
        assert config is not None
