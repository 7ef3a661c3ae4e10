"""The custom-action Lambdas of the Region switch plan: one function and one role per action of the
step contract, in the stack's region, with the StepConfig in the environment and each role
allowed exactly its contract's calls on exactly the stores it acts on."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.step_functions import (
    PACKAGE_DIR,
    RESOURCE_TYPES,
    SCOPE,
    StepFunctions,
    StepFunctionsArgs,
)
from failover_steps.contract import ACTIONS, CONFIG_ENV, RegionFacts, StepConfig
from reskflow_dr.engine import Plan
from reskflow_dr.mocks import DERIVATIONS, ResourceContext
from tests.component_plan import ACCOUNT, of_type, provider, run_components

EAST, WEST = "us-east-1", "us-west-2"
GEN = {EAST: "reskflow-postgres-g1", WEST: "reskflow-postgres-g2"}


def config(fence_sg: str = "") -> StepConfig:
    return StepConfig(
        account_id=ACCOUNT,
        regions={
            r: RegionFacts(
                region=r,
                postgres_id=GEN[r],
                docdb_cluster_id=f"reskflow-docdb-{r}",
                cache_group_id=f"reskflow-redis-{r}",
                fence_security_group_ids={"postgres": fence_sg} if fence_sg else {},
            )
            for r in (EAST, WEST)
        },
        docdb_global_id="reskflow-docdb",
        cache_global_id="xyzab-reskflow-redis",
        traffic_mode="signal",
        signal_regions=(WEST,),
    )


def functions_in(region: str, log_key: str | None = None) -> Plan:
    """The component in ``region``, its StepConfig built from another resource's output (as the
    stacks do with the fence security groups)."""

    def build() -> None:
        p = provider(region)
        fence = aws.ec2.SecurityGroup("fence", opts=pulumi.ResourceOptions(provider=p))
        StepFunctions(
            "steps",
            StepFunctionsArgs(
                region=region, step_config=fence.id.apply(config), log_kms_key_arn=log_key
            ),
            pulumi.ResourceOptions(provider=p),
        )

    return run_components(build, region=region)


def fence_id(region: str) -> str:
    ctx = ResourceContext("fence", {}, region, ACCOUNT)
    return str(DERIVATIONS["aws:ec2/securityGroup:SecurityGroup"](ctx)["id"])


DASHED = {a: a.replace("_", "-") for a in ACTIONS}


@pytest.mark.parametrize("region", [EAST, WEST])
def test_one_function_and_role_per_action(region: str) -> None:
    plan = functions_in(region)
    functions = of_type(plan, "aws:lambda/function:Function")
    roles = of_type(plan, "aws:iam/role:Role")
    policies = of_type(plan, "aws:iam/rolePolicy:RolePolicy")
    assert set(functions) == {f"steps-{d}" for d in DASHED.values()}
    for action, dashed in DASHED.items():
        f = functions[f"steps-{dashed}"]
        role_name = f"reskflow-dr-{dashed}-{region}"
        assert {k: v for k, v in f.inputs.items() if k != "code"} == {
            "name": f"reskflow-dr-{dashed}",
            "description": ACTIONS[action].summary,
            "role": f"arn:aws:iam::{ACCOUNT}:role/{role_name}",
            "runtime": "python3.12",
            "handler": f"failover_steps.lambda_entry.{action}",
            "timeout": 120,
            "memorySize": 256,
            "environment": {"variables": {CONFIG_ENV: config(fence_id(region)).to_json()}},
        }
        assert f.inputs["code"] == {"assets": {"failover_steps": {"path": "failover_steps"}}}
        assert f.options["dependsOn"] == [policies[f"steps-{dashed}-policy"].urn]
        assert f.region == region
        assert roles[f"steps-{dashed}-role"].inputs["name"] == role_name
        assert json.loads(roles[f"steps-{dashed}-role"].inputs["assumeRolePolicy"]) == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }


def test_the_environment_round_trips_to_the_step_config() -> None:
    plan = functions_in(WEST)
    env = of_type(plan, "aws:lambda/function:Function")["steps-promote-postgres"].inputs
    text = env["environment"]["variables"][CONFIG_ENV]
    assert StepConfig.from_json(text) == config(fence_id(WEST))


def test_package_is_the_step_package() -> None:
    assert PACKAGE_DIR.name == "failover_steps"
    assert {"__init__.py", "contract.py", "workflows.py"} <= {p.name for p in PACKAGE_DIR.iterdir()}


def test_every_contract_call_has_a_resource_scope() -> None:
    assert set(SCOPE) == set(ACTIONS)
    assert {c for a in ACTIONS.values() for c in a.iam_actions} <= set(RESOURCE_TYPES)


def arn(kind: str, region: str) -> str:
    return {
        "db": f"arn:aws:rds:{region}:{ACCOUNT}:db:{GEN.get(region, '')}",
        "cluster": f"arn:aws:rds:{region}:{ACCOUNT}:cluster:reskflow-docdb-{region}",
        "rg": f"arn:aws:elasticache:{region}:{ACCOUNT}:replicationgroup:reskflow-redis-{region}",
        "gc": f"arn:aws:rds::{ACCOUNT}:global-cluster:reskflow-docdb",
        "nodes": f"arn:aws:elasticache:{region}:{ACCOUNT}:cluster:reskflow-redis-{region}-*",
        "plan": f"arn:aws:arc-region-switch::{ACCOUNT}:plan/*",
        "grg": f"arn:aws:elasticache::{ACCOUNT}:globalreplicationgroup:xyzab-reskflow-redis",
    }[kind]


def allow(call: str, *resources: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": call, "Resource": sorted(resources)}


def logs(region: str, action: str) -> dict[str, Any]:
    group = f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/lambda/reskflow-dr-{DASHED[action]}"
    return {
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [group, f"{group}:*"],
    }


def expected_statements(action: str, me: str, peer: str) -> list[dict[str, Any]]:
    both = (me, peer)
    table: dict[str, list[dict[str, Any]]] = {
        "fence_region": [
            allow("rds:DescribeDBInstances", arn("db", peer)),
            allow("rds:ModifyDBInstance", arn("db", peer)),
            allow("rds:DescribeDBClusters", arn("cluster", peer)),
            allow("rds:ModifyDBCluster", arn("cluster", peer)),
            allow("elasticache:DescribeReplicationGroups", arn("rg", peer)),
            allow("elasticache:DescribeCacheClusters", arn("nodes", peer)),
            allow("elasticache:ModifyReplicationGroup", arn("rg", peer)),
        ],
        "promote_postgres": [
            allow("rds:DescribeDBInstances", arn("db", me)),
            allow("rds:PromoteReadReplica", arn("db", me)),
        ],
        "failover_cache": [
            allow("elasticache:DescribeGlobalReplicationGroups", arn("grg", me)),
            allow("elasticache:DescribeReplicationGroups", *(arn("rg", r) for r in both)),
            allow(
                "elasticache:FailoverGlobalReplicationGroup",
                arn("grg", me),
                *(arn("rg", r) for r in both),
            ),
            allow(
                "elasticache:DisassociateGlobalReplicationGroup",
                arn("grg", me),
                *(arn("rg", r) for r in both),
            ),
            allow("arc-region-switch:GetPlanExecution", arn("plan", me)),
        ],
        "failover_docdb": [
            allow("rds:DescribeGlobalClusters", arn("gc", me)),
            allow("rds:FailoverGlobalCluster", arn("gc", me), *(arn("cluster", r) for r in both)),
            allow("rds:SwitchoverGlobalCluster", arn("gc", me), *(arn("cluster", r) for r in both)),
            allow("arc-region-switch:GetPlanExecution", arn("plan", me)),
        ],
        "verify_writable": [
            allow("rds:DescribeDBInstances", *(arn("db", r) for r in both)),
            allow("rds:DescribeDBClusters", *(arn("cluster", r) for r in both)),
            allow("rds:DescribeGlobalClusters", arn("gc", me)),
            allow("elasticache:DescribeGlobalReplicationGroups", arn("grg", me)),
            allow("elasticache:DescribeReplicationGroups", *(arn("rg", r) for r in both)),
            allow("elasticache:DescribeCacheClusters", *(arn("nodes", r) for r in both)),
            allow("arc-region-switch:GetPlanExecution", arn("plan", me)),
        ],
        "set_traffic_signal": [
            {
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": "ReskFlow/DR"}},
            },
            allow("arc-region-switch:GetPlanExecution", arn("plan", me)),
        ],
    }
    return [*table[action], logs(me, action)]


@pytest.mark.parametrize(("me", "peer"), [(EAST, WEST), (WEST, EAST)])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_role_may_make_exactly_its_contract_calls(action: str, me: str, peer: str) -> None:
    plan = functions_in(me)
    policy = of_type(plan, "aws:iam/rolePolicy:RolePolicy")[f"steps-{DASHED[action]}-policy"]
    assert policy.inputs["name"] == action
    assert policy.inputs["role"] == f"reskflow-dr-{DASHED[action]}-{me}"
    document = json.loads(policy.inputs["policy"])
    assert document == {
        "Version": "2012-10-17",
        "Statement": expected_statements(action, me, peer),
    }
    calls = [s["Action"] for s in document["Statement"][:-1]]
    assert calls == list(ACTIONS[action].iam_actions)


KEY = f"arn:aws:kms:{WEST}:{ACCOUNT}:key/mrk-0123"


def test_with_the_regional_key_each_log_group_is_declared_encrypted() -> None:
    plan = functions_in(WEST, log_key=KEY)
    groups = of_type(plan, "aws:cloudwatch/logGroup:LogGroup")
    assert {n: g.inputs for n, g in groups.items()} == {
        f"steps-{d}-logs": {
            "name": f"/aws/lambda/reskflow-dr-{d}",
            "kmsKeyId": KEY,
            "retentionInDays": 90,
        }
        for d in DASHED.values()
    }
    functions = of_type(plan, "aws:lambda/function:Function")
    policies = of_type(plan, "aws:iam/rolePolicy:RolePolicy")
    for action, d in DASHED.items():
        assert functions[f"steps-{d}"].options["dependsOn"] == sorted(
            [policies[f"steps-{d}-policy"].urn, groups[f"steps-{d}-logs"].urn]
        )
        statements = json.loads(policies[f"steps-{d}-policy"].inputs["policy"])["Statement"]
        assert statements[:-1] == expected_statements(action, WEST, EAST)[:-1]
        assert statements[-1]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]


def test_without_a_key_no_log_group_is_declared() -> None:
    plan = functions_in(WEST)
    assert of_type(plan, "aws:cloudwatch/logGroup:LogGroup") == {}
