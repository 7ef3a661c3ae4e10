"""The drill diff and its data-safety verdict, on hand-built plans (the replica promotion and
failback generation shapes, unsafe changes) and on the real stacks."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from reskflow_dr.diff import ABSENT, TABLE_PATH, diff_plans, load_table, render_diff, verdict
from tests.conftest import ROLE_OVERRIDES, PlanOf, belongs_to_workloads
from tests.synthetic import db_arn, plan, postgres, provider, res

BUCKET = "aws:s3/bucket:Bucket"


def _one(changes: Any) -> Any:
    (only,) = changes
    return only


def test_promotion_removes_replicate_source_db_in_place() -> None:
    source = db_arn("us-east-1", 1)
    current = plan("dr", provider("dr"), postgres("dr", 2, source))
    target = plan("dr", provider("dr"), postgres("dr", 2))
    d = diff_plans(current, target)
    r = _one(d.resources)
    assert (r.name, r.action, r.data_bearing) == ("postgres-g2", "update", True)
    change = _one(r.changes)
    assert (change.path, change.before, change.after, change.effect) == (
        "replicateSourceDb",
        source,
        ABSENT,
        "update",
    )
    assert verdict([d]).safe


def test_failback_adds_a_generation_and_keeps_the_old_one() -> None:
    current = plan("dr", provider("dr"), postgres("dr", 2))
    target = plan(
        "dr", provider("dr"), postgres("dr", 2), postgres("dr", 3, db_arn("us-east-1", 2))
    )
    d = diff_plans(current, target)
    assert [(r.name, r.action) for r in d.resources] == [("postgres-g3", "create")]
    assert d.unchanged == 2
    assert verdict([d]).safe


def test_dropping_the_old_generation_is_caught() -> None:
    current = plan("dr", postgres("dr", 2))
    target = plan("dr", postgres("dr", 3, db_arn("us-east-1", 2)))
    v = verdict([diff_plans(current, target)])
    assert not v.safe
    assert [f.line() for f in v.findings] == [
        "dr: aws:rds/instance:Instance postgres-g2: removed while protected: pulumi up stops "
        "with an error (keep it declared)"
    ]


def test_deleting_an_unretained_data_store_is_caught() -> None:
    vault = res("dr", "aws:backup/vault:Vault", "vault", {"name": "reskflow-dr-us-west-2"})
    v = verdict([diff_plans(plan("dr", vault), plan("dr"))])
    assert [(f.name, f.problem) for f in v.findings] == [
        ("vault", "deleted from AWS (not retainOnDelete)")
    ]


def test_retained_unprotected_resource_may_leave_the_stack() -> None:
    kept = res("dr", BUCKET, "old", {"bucket": "old"})
    kept.options["retainOnDelete"] = True
    v = verdict([diff_plans(plan("dr", kept), plan("dr"))])
    assert v.safe and v.notes == ("dr: aws:s3/bucket:Bucket old leaves the stack, kept in AWS",)


def test_renaming_a_bucket_replaces_a_protected_bucket() -> None:
    before = res("dr", BUCKET, "s3-uploads", {"bucket": "reskflow-1-uploads"}, data=True)
    after = res("dr", BUCKET, "s3-uploads", {"bucket": "other-uploads"}, data=True)
    d = diff_plans(plan("dr", before), plan("dr", after))
    assert _one(d.resources).action == "replace"
    (finding,) = verdict([d]).findings
    assert (finding.name, finding.problem, finding.properties) == (
        "s3-uploads",
        "replaced: a new, empty resource",
        ("bucket",),
    )


def test_changing_a_database_key_replaces_it() -> None:
    before = postgres("dr", 2)
    after = postgres("dr", 2, kmsKeyId="arn:aws:kms:us-west-2:123456789012:key/other")
    d = diff_plans(plan("dr", before), plan("dr", after))
    change = _one(_one(d.resources).changes)
    assert (change.path, change.effect) == ("kmsKeyId", "replace")
    assert "internal/service/rds/instance.go" in change.reason
    (finding,) = verdict([d]).findings
    assert finding.properties == ("kmsKeyId",)


def test_a_property_outside_the_table_is_never_assumed_safe() -> None:
    before = postgres("dr", 2)
    after = postgres("dr", 2, dedicatedLogVolume=True)
    d = diff_plans(plan("dr", before), plan("dr", after))
    r = _one(d.resources)
    assert r.action == "unknown"
    (finding,) = verdict([d]).findings
    assert finding.problem.startswith("replacement unknown")
    assert finding.properties == ("dedicatedLogVolume",)


def test_conditional_replacement_is_unknown() -> None:
    token = "aws:elasticache/replicationGroup:ReplicationGroup"
    before = res("dr", token, "cache", {"engineVersion": "7.1"}, data=True)
    after = res("dr", token, "cache", {"engineVersion": "7.0"}, data=True)
    change = _one(_one(diff_plans(plan("dr", before), plan("dr", after)).resources).changes)
    assert change.effect == "unknown" and "downgrade forces a new resource" in change.reason


def test_protected_resource_of_an_unlisted_type_is_data_bearing() -> None:
    token = "aws:dynamodb/table:Table"
    before = res("dr", token, "orders", {"billingMode": "PAY_PER_REQUEST"}, data=True)
    after = res("dr", token, "orders", {"billingMode": "PROVISIONED"}, data=True)
    (finding,) = verdict([diff_plans(plan("dr", before), plan("dr", after))]).findings
    assert finding.problem.startswith("replacement unknown")


def test_unknown_change_on_a_stateless_resource_is_reported_not_unsafe() -> None:
    before = res("dr", "aws:iam/role:Role", "role", {"description": "a"})
    after = res("dr", "aws:iam/role:Role", "role", {"description": "b"})
    d = diff_plans(plan("dr", before), plan("dr", after))
    assert _one(d.resources).action == "unknown"
    assert verdict([d]).safe


def test_moving_the_provider_replaces_everything_it_manages() -> None:
    bucket = res("dr", BUCKET, "s3-logs", {"bucket": "logs"}, data=True)
    current = plan("dr", provider("dr"), bucket)
    target = plan("dr", provider("dr", region="eu-west-1"), bucket)
    d = diff_plans(current, target)
    assert {r.name: r.action for r in d.resources} == {
        "aws-us-west-2": "replace",
        "s3-logs": "replace",
    }
    (finding,) = verdict([d]).findings
    assert finding.properties == ("(provider)",)


def test_removing_protection_is_caught() -> None:
    before = postgres("dr", 2)
    after = postgres("dr", 2)
    after.options["protect"] = False
    d = diff_plans(plan("dr", before), plan("dr", after))
    (finding,) = verdict([d]).findings
    assert (finding.problem, finding.properties) == ("protection removed", ("protect",))
    assert "option protect: True -> False" in render_diff(d)


def test_nested_paths_are_reported_and_classified() -> None:
    token = "aws:s3/bucket:Bucket"
    before = res(
        "dr", token, "b", {"bucket": "b", "objectLockConfiguration": {"rule": {"days": 1}}}
    )
    after = res("dr", token, "b", {"bucket": "b", "objectLockConfiguration": {"rule": {"days": 2}}})
    change = _one(_one(diff_plans(plan("dr", before), plan("dr", after)).resources).changes)
    assert (change.path, change.effect) == ("objectLockConfiguration.rule.days", "update")
    table = load_table()
    assert table.classify(token, "objectLockConfiguration.objectLockEnabled")[0] == "replace"
    assert table.classify(token, "lifecycleRules[3].expiration.days")[0] == "update"
    assert table.classify(token, "region")[0] == "replace"


# --------------------------------------------------------------------------------------------
# The table itself
# --------------------------------------------------------------------------------------------

DATA_BEARING = {
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:kms/replicaKey:ReplicaKey",
    "aws:rds/instance:Instance",
    "aws:docdb/cluster:Cluster",
    "aws:docdb/globalCluster:GlobalCluster",
    "aws:docdb/clusterInstance:ClusterInstance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
    "aws:backup/vault:Vault",
}


def _engine_inputs(token: str) -> set[str]:
    """The engine (camelCase) names of a pulumi-aws resource's inputs."""
    module, cls = token.split(":")[1].split("/")[0], token.rsplit(":", 1)[1]
    args = getattr(importlib.import_module(f"pulumi_aws.{module}"), f"{cls}Args")
    return {
        m.fget._pulumi_name  # type: ignore[attr-defined]
        for m in vars(args).values()
        if isinstance(m, property) and hasattr(m.fget, "_pulumi_name")
    }


def test_table_covers_the_data_bearing_types_with_sources() -> None:
    doc = json.loads(TABLE_PATH.read_text())
    types = doc["types"]
    assert {t for t, spec in types.items() if spec["dataBearing"]} >= DATA_BEARING
    for token, spec in types.items():
        assert "ForceNew" in spec["source"] or token.startswith("pulumi:"), token
    assert "forceNewIfRegionChanges" in doc["all"]["replace"]["region"]


@pytest.mark.parametrize(
    "token",
    sorted(
        DATA_BEARING
        | {"aws:route53/healthCheck:HealthCheck", "aws:cloudfront/distribution:Distribution"}
    ),
)
def test_table_matches_the_installed_pulumi_aws(token: str) -> None:
    """Every listed property is a real input; every input is classified or listed unclassified."""
    spec = json.loads(TABLE_PATH.read_text())["types"][token]
    listed = [*spec["replace"], *spec["update"], *spec["conditional"]]
    tops = {p.split(".")[0] for p in listed}
    inputs = _engine_inputs(token)
    assert tops <= inputs, tops - inputs
    assert tops.isdisjoint(spec["unclassified"])
    assert tops | set(spec["unclassified"]) | ({"region"} & inputs) == inputs


# --------------------------------------------------------------------------------------------
# The real stacks
# --------------------------------------------------------------------------------------------


def test_promoting_the_real_dr_stack_updates_the_replica_in_place(plan_of: PlanOf) -> None:
    current = plan_of("dr")
    target = plan_of("dr", *ROLE_OVERRIDES["dr", "active"])
    d = diff_plans(current, target)
    workloads = {r.urn for r in (*current.resources, *target.resources) if belongs_to_workloads(r)}
    assert sorted((r.action, r.name) for r in d.resources if r.urn not in workloads) == [
        ("delete", "alerts-docdb-replication-lag"),  # no longer a replica: no lag to watch
        ("delete", "alerts-postgres-not-replicating"),
        ("delete", "alerts-postgres-replica-lag"),
        ("delete", "alerts-redis-global-lag"),
        # monitoring: the order-volume alarm is armed in the active role, the dashboards drop the
        # lag graphs
        ("unknown", "alerts-business-low-order-volume"),
        ("unknown", "dashboards-executive-us-west-2"),
        ("unknown", "dashboards-operations-us-west-2"),
        ("unknown", "dashboards-sla-us-west-2"),
        ("update", "postgres-g2"),
    ]
    # the workloads scale up and re-arm their jobs (tests/test_workloads.py); none is data
    assert workloads and all(not r.data_bearing for r in d.resources if r.urn in workloads)
    (replica,) = [r for r in d.resources if r.name == "postgres-g2"]
    changes = {c.path: c for c in replica.changes}
    assert changes["replicateSourceDb"].after is ABSENT
    assert "identifier" not in changes
    v = verdict([d])
    # five buckets, the replica key, the vault, PostgreSQL, Redis and DocumentDB resources
    assert v.safe and v.checked == 14  # + the air-gapped vault and the Object Lock configuration


def test_renaming_every_bucket_on_todays_stack_is_unsafe(plan_of: PlanOf) -> None:
    d = diff_plans(plan_of("prod"), plan_of("prod", "reskflow:bucketPrefix=other"))
    v = verdict([d])
    replaced = sorted(f.name for f in v.findings if f.problem.startswith("replaced"))
    # The five stores, and the edge's access-log bucket (docs/edge.md).
    assert replaced == [
        f"s3-{s}"
        for s in sorted(("uploads", "logs", "config", "backups", "blockchain", "edge-logs"))
    ]
    assert all(f.properties == ("bucket",) for f in v.findings if f.problem.startswith("replaced"))


def test_depends_on_order_is_not_a_change() -> None:
    """The engine records dependsOn in registration order, which varies between runs."""
    before = res("dr", "aws:s3/bucketPolicy:BucketPolicy", "p", {"bucket": "b"})
    after = res("dr", "aws:s3/bucketPolicy:BucketPolicy", "p", {"bucket": "b"})
    before.options["dependsOn"] = ["urn:a", "urn:b"]
    after.options["dependsOn"] = ["urn:b", "urn:a"]
    d = diff_plans(plan("dr", before), plan("dr", after))
    assert d.resources == () and d.unchanged == 1
