"""The scheduled readiness probe (readiness_probe/probe.py) and its declaration.

The DocumentDB global-cluster, ElastiCache global-replication-group, ECR and EKS calls are
answered by botocore's Stubber (moto lacks DocumentDB global clusters and ElastiCache Global
Datastores); CloudWatch's put_metric_data is asserted through the Stubber too, so the exact
metric payload is checked.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from readiness_probe import probe
from tests.conftest import ROLE_OVERRIDES, named, policy_doc

REGION = "us-west-2"
CLUSTER_ARN = f"arn:aws:rds:{REGION}:123456789012:cluster:reskflow-docdb-{REGION}"


class Session:
    """A boto3 session stand-in handing out stubbed clients."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.stubs: dict[str, Stubber] = {}

    def client(self, service: str) -> Any:
        if service not in self.clients:
            client = boto3.client(
                service,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            self.clients[service] = client
            self.stubs[service] = Stubber(client)
            self.stubs[service].activate()
        return self.clients[service]

    def stub(self, service: str) -> Stubber:
        self.client(service)
        return self.stubs[service]


TARGETS = {
    "docdbGlobalCluster": "reskflow-docdb",
    "docdbCluster": f"reskflow-docdb-{REGION}",
    "redisGlobalDatastore": "uvxag-reskflow-redis",
    "redisGroup": f"reskflow-redis-{REGION}",
}


def stub_docdb(session: Session, status: str, member: str) -> None:
    session.stub("docdb").add_response(
        "describe_global_clusters",
        {
            "GlobalClusters": [
                {"Status": status, "GlobalClusterMembers": [{"DBClusterArn": member}]}
            ]
        },
        {"GlobalClusterIdentifier": "reskflow-docdb"},
    )


def stub_redis(session: Session, status: str) -> None:
    session.stub("elasticache").add_response(
        "describe_global_replication_groups",
        {
            "GlobalReplicationGroups": [
                {"Members": [{"ReplicationGroupId": f"reskflow-redis-{REGION}", "Status": status}]}
            ]
        },
        {"GlobalReplicationGroupId": "uvxag-reskflow-redis", "ShowMemberInfo": True},
    )


def test_members_ready_pass_and_publish_one_metric_per_check() -> None:
    session = Session()
    stub_docdb(session, "available", CLUSTER_ARN)
    stub_redis(session, "associated")
    results = probe.run(session, TARGETS)
    assert results == {"docdb-global-member": True, "redis-global-member": True}
    session.stub("cloudwatch").add_response(
        "put_metric_data",
        {},
        {
            "Namespace": "ReskFlow/Readiness",
            "MetricData": [
                {
                    "MetricName": "CheckPassed",
                    "Dimensions": [{"Name": "Check", "Value": name}],
                    "Value": 1.0,
                    "Unit": "Count",
                }
                for name in ("docdb-global-member", "redis-global-member")
            ],
        },
    )
    probe.publish(session, results)
    session.stub("cloudwatch").assert_no_pending_responses()


def test_detached_members_fail() -> None:
    session = Session()
    stub_docdb(session, "available", CLUSTER_ARN.replace(REGION, "eu-west-1"))
    stub_redis(session, "disassociated")
    assert probe.run(session, TARGETS) == {
        "docdb-global-member": False,
        "redis-global-member": False,
    }


def test_an_aws_error_is_a_failure() -> None:
    session = Session()
    session.stub("docdb").add_client_error("describe_global_clusters", "GlobalClusterNotFoundFault")
    assert probe.run(session, {k: TARGETS[k] for k in ("docdbGlobalCluster", "docdbCluster")}) == {
        "docdb-global-member": False
    }


def test_images_secrets_and_capacity() -> None:
    session = Session()
    session.stub("ecr").add_response(
        "describe_images",
        {"imageDetails": []},
        {"repositoryName": "orders", "imageIds": [{"imageTag": "1.2.3"}]},
    )
    session.stub("secretsmanager").add_response(
        "describe_secret", {"Name": "app/db"}, {"SecretId": "app/db"}
    )
    session.stub("eks").add_response(
        "describe_nodegroup",
        {"nodegroup": {"scalingConfig": {"maxSize": 6}}},
        {"clusterName": "reskflow", "nodegroupName": "apps"},
    )
    targets = {
        "images": [{"repository": "orders", "tag": "1.2.3"}],
        "secrets": ["app/db"],
        "capacity": {"cluster": "reskflow", "nodegroup": "apps", "minMaxSize": 10},
    }
    assert probe.run(session, targets) == {
        "secrets-present": True,
        "images-present": False,
        "cluster-capacity": False,
    }


def test_nothing_declared_publishes_nothing() -> None:
    session = Session()
    assert probe.run(session, {}) == {}
    probe.publish(session, {})
    assert session.clients == {}


@pytest.mark.parametrize(("stack", "role"), sorted(ROLE_OVERRIDES))
def test_scheduled_readiness_is_declared_in_each_region(stack: str, role: str) -> None:
    from reskflow_dr.preview import preview

    plan = preview(stack, list(ROLE_OVERRIDES[(stack, role)]))
    region = {"prod": "us-east-1", "dr": "us-west-2"}[stack]
    schedule = named(plan, "readiness-schedule").inputs
    assert schedule["scheduleExpression"] == "rate(5 minutes)"
    assert schedule["flexibleTimeWindow"] == {"mode": "OFF"}
    function = named(plan, "readiness-function").inputs
    assert (function["handler"], function["runtime"]) == (
        "readiness_probe.probe.handler",
        "python3.12",
    )
    actions = {
        a
        for s in policy_doc(named(plan, "readiness-policy"))["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    expected = {
        "cloudwatch:PutMetricData",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "rds:DescribeGlobalClusters",
    }
    alarms = {
        str(r.inputs["name"]): r.inputs
        for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if str(r.inputs["name"]).startswith("reskflow-readiness-")
    }
    # The Global Datastore id is configured where the stack joined it (dr); prod created it.
    has_redis = stack == "dr"
    if has_redis:
        expected.add("elasticache:DescribeGlobalReplicationGroups")
    assert actions == expected
    assert set(alarms) == {"reskflow-readiness-docdb-global-member"} | (
        {"reskflow-readiness-redis-global-member"} if has_redis else set()
    )
    for a in alarms.values():
        assert (a["namespace"], a["metricName"], a["statistic"], a["threshold"]) == (
            "ReskFlow/Readiness",
            "CheckPassed",
            "Minimum",
            1,
        )
        assert (a["treatMissingData"], a["alarmActions"]) == (
            "breaching",
            [f"arn:aws:sns:{region}:123456789012:reskflow-dr-alerts"],
        )
