"""The S3 stores and the KMS key, as each stack declares them (real program, fresh mocks)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reskflow_dr.engine import Plan
from tests.conftest import ROLE_OVERRIDES, PlanOf, named, policy_doc

STORES = ("uploads", "logs", "config", "backups", "blockchain")
REGION = {"prod": "us-east-1", "dr": "us-west-2"}
PEER = {"prod": "us-west-2", "dr": "us-east-1"}
ACCOUNT = "123456789012"
#: Resources whose AWS API is the destination region's: copying RDS automated backups is
#: started in the region that receives them (pulumi-aws v7 per-resource `region`).
REMOTE_REGION_TYPES = {
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
}


@pytest.fixture(params=["prod", "dr"])
def stack_plan(request: pytest.FixtureRequest, plan_of: PlanOf) -> tuple[str, Plan]:
    return request.param, plan_of(request.param)


def bucket(stack: str, store: str, region: str | None = None) -> str:
    return f"reskflow-{ACCOUNT}-{store}-{region or REGION[stack]}"


def test_every_resource_is_in_the_stack_region(stack_plan: tuple[str, Plan]) -> None:
    stack, plan = stack_plan
    providers = plan.of_type("pulumi:providers:aws")
    assert [p.inputs["region"] for p in providers] == [REGION[stack]]
    assert json.loads(providers[0].inputs["allowedAccountIds"]) == [ACCOUNT]
    provider_ref = providers[0].urn
    for r in plan.resources:
        if r.type in REMOTE_REGION_TYPES:
            # Managed through the stack's provider, but its API lives in the peer region.
            assert r.inputs["region"] == r.region == PEER[stack], r.urn
            continue
        assert r.region == REGION[stack], r.urn
        if r.custom and r.type.startswith("aws:"):
            assert r.provider.startswith(provider_ref + "::"), r.urn


def test_buckets_are_protected_versioned_and_private(stack_plan: tuple[str, Plan]) -> None:
    stack, plan = stack_plan
    buckets = {r.inputs["bucket"]: r for r in plan.of_type("aws:s3/bucket:Bucket")}
    # The prod stack also owns the edge's access-log bucket (docs/edge.md).
    edge_logs = {bucket(stack, "edge-logs")} if stack == "prod" else set()
    assert set(buckets) == {bucket(stack, s) for s in STORES} | edge_logs
    for store in STORES:
        b = named(plan, f"s3-{store}")
        assert b.options["protect"] is True and b.options["retainOnDelete"] is True
        assert b.inputs["forceDestroy"] is False
        assert b.inputs["tags"] == {"reskflow:store": store, "reskflow:backup": "dr"}
        versioning = named(plan, f"s3-{store}-versioning")
        assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
        pab = named(plan, f"s3-{store}-public-access").inputs
        assert all(
            pab[k] is True
            for k in (
                "blockPublicAcls",
                "blockPublicPolicy",
                "ignorePublicAcls",
                "restrictPublicBuckets",
            )
        )
        ownership = named(plan, f"s3-{store}-ownership").inputs
        assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_buckets_use_the_regional_cmk_with_bucket_keys(stack_plan: tuple[str, Plan]) -> None:
    stack, plan = stack_plan
    key_arn = plan.outputs["kmsKeyArn"]
    assert key_arn.startswith(f"arn:aws:kms:{REGION[stack]}:{ACCOUNT}:key/mrk-")
    for store in STORES:
        rules = named(plan, f"s3-{store}-encryption").inputs["rules"]
        assert rules == [
            {
                "applyServerSideEncryptionByDefault": {
                    "sseAlgorithm": "aws:kms",
                    "kmsMasterKeyId": key_arn,
                },
                "bucketKeyEnabled": True,
            }
        ]


def _statement(doc: dict[str, Any], sid: str) -> dict[str, Any]:
    (found,) = [s for s in doc["Statement"] if s["Sid"] == sid]
    return found


def test_bucket_policies_deny_plain_http_and_other_encryptions(
    stack_plan: tuple[str, Plan],
) -> None:
    stack, plan = stack_plan
    for store in STORES:
        arn = f"arn:aws:s3:::{bucket(stack, store)}"
        doc = policy_doc(named(plan, f"s3-{store}-policy"))
        tls = _statement(doc, "DenyInsecureTransport")
        assert tls["Effect"] == "Deny" and tls["Action"] == "s3:*"
        assert tls["Resource"] == [arn, f"{arn}/*"]
        assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        header = _statement(doc, "DenyIncorrectEncryptionHeader")
        assert header["Condition"] == {
            "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
            # only requests naming an encryption: multipart parts carry none (see storage.py)
            "Null": {"s3:x-amz-server-side-encryption": "false"},
        }
        sids = [s["Sid"] for s in doc["Statement"]]
        assert "DenyUnencryptedObjectUploads" not in sids  # would refuse every UploadPart


def test_backup_tiers_are_enforced_at_upload(plan_of: PlanOf) -> None:
    plan = plan_of("prod")
    arn = f"arn:aws:s3:::{bucket('prod', 'backups')}"
    doc = policy_doc(named(plan, "s3-backups-policy"))
    daily = _statement(doc, "DenyWrongTierDailyIncrementals")
    weekly = _statement(doc, "DenyWrongTierWeeklyFulls")
    assert daily["Resource"] == f"{arn}/daily/*"
    assert daily["Condition"] == {
        "StringNotEquals": {"s3:x-amz-storage-class": "STANDARD_IA"},
        "Null": {"s3:x-amz-storage-class": "false"},
    }
    assert weekly["Resource"] == f"{arn}/weekly/*"
    assert weekly["Condition"] == {
        "StringNotEquals": {"s3:x-amz-storage-class": "GLACIER_IR"},
        "Null": {"s3:x-amz-storage-class": "false"},
    }
    other = policy_doc(named(plan, "s3-uploads-policy"))
    assert not [s for s in other["Statement"] if s["Sid"].startswith("DenyWrongTier")]


def _rules(plan: Plan, store: str) -> dict[str, dict[str, Any]]:
    lifecycle = named(plan, f"s3-{store}-lifecycle")
    return {rule["id"]: rule for rule in lifecycle.inputs["rules"]}


HOUSEKEEPING = {
    "id": "housekeeping",
    "status": "Enabled",
    "filter": {},
    "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
    "expiration": {"expiredObjectDeleteMarker": True},
}


def test_lifecycle_matches_the_seed_and_never_transitions(stack_plan: tuple[str, Plan]) -> None:
    _, plan = stack_plan
    expected = {
        "uploads": {"expire-uploads": ("", 90, 30)},
        "logs": {"expire-logs": ("", 30, 30)},
        "config": {},
        # A deleted dump stays recoverable (as a noncurrent version) for 30 days.
        "backups": {"daily-incrementals": ("daily/", 7, 30), "weekly-fulls": ("weekly/", 28, 30)},
        "blockchain": {"expire-noncurrent": ("", None, 30)},
    }
    for store, rules in expected.items():
        declared = _rules(plan, store)
        assert declared.pop("housekeeping") == HOUSEKEEPING
        assert set(declared) == set(rules)
        for rule_id, (prefix, days, noncurrent) in rules.items():
            rule = declared[rule_id]
            assert rule["filter"] == ({"prefix": prefix} if prefix else {})
            assert rule.get("expiration") == ({"days": days} if days else None)
            assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": noncurrent}
            assert "transitions" not in rule and "noncurrentVersionTransitions" not in rule
        lifecycle = named(plan, f"s3-{store}-lifecycle")
        assert lifecycle.options["dependsOn"] == [
            u.urn for u in plan.resources if u.name == f"s3-{store}-versioning"
        ]


def test_retention_config_flows_into_lifecycle(plan_of: PlanOf) -> None:
    plan = plan_of("prod", 'reskflow:retention={"uploadsDays": 120, "dailyBackupsDays": 10}')
    assert _rules(plan, "uploads")["expire-uploads"]["expiration"] == {"days": 120}
    assert _rules(plan, "backups")["daily-incrementals"]["expiration"] == {"days": 10}


def test_replication_goes_to_the_peer_region_with_rtc(stack_plan: tuple[str, Plan]) -> None:
    stack, plan = stack_plan
    peer_key = f"arn:aws:kms:{PEER[stack]}:{ACCOUNT}:key/{plan.outputs['kmsKeyId']}"
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/reskflow-s3-replication-{REGION[stack]}"
    configs = plan.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert len(configs) == len(STORES)
    for store in STORES:
        cfg = named(plan, f"s3-replication-{store}")
        assert cfg.inputs["bucket"] == bucket(stack, store)
        assert cfg.inputs["role"] == role_arn
        (rule,) = cfg.inputs["rules"]
        assert rule == {
            "id": f"to-{PEER[stack]}",
            "status": "Enabled",
            "priority": 1,
            "filter": {"prefix": ""},
            "deleteMarkerReplication": {"status": "Enabled"},
            "sourceSelectionCriteria": {
                "replicaModifications": {"status": "Enabled"},
                "sseKmsEncryptedObjects": {"status": "Enabled"},
            },
            "destination": {
                "bucket": f"arn:aws:s3:::{bucket(stack, store, PEER[stack])}",
                "encryptionConfiguration": {"replicaKmsKeyId": peer_key},
                "metrics": {"status": "Enabled", "eventThreshold": {"minutes": 15}},
                "replicationTime": {"status": "Enabled", "time": {"minutes": 15}},
            },
        }
        versioning = named(plan, f"s3-{store}-versioning").urn
        assert versioning in cfg.options["dependsOn"]


def test_replication_role_is_least_privilege(stack_plan: tuple[str, Plan]) -> None:
    stack, plan = stack_plan
    role = named(plan, "s3-replication-role")
    trust = policy_doc(role, "assumeRolePolicy")["Statement"][0]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    doc = policy_doc(named(plan, "s3-replication-policy"))
    sources = [f"arn:aws:s3:::{bucket(stack, s)}" for s in STORES]
    destinations = [f"arn:aws:s3:::{bucket(stack, s, PEER[stack])}" for s in STORES]
    for statement in doc["Statement"]:
        actions = statement["Action"]
        assert all("*" not in a for a in actions), statement
        resources = statement["Resource"]
        assert all(r != "*" for r in resources), statement
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["ReadReplicationConfiguration"]["Resource"] == sources
    assert by_sid["WriteReplicas"]["Resource"] == [f"{d}/*" for d in destinations]
    decrypt = by_sid["DecryptSourceObjects"]
    assert decrypt["Resource"] == [plan.outputs["kmsKeyArn"]]
    assert decrypt["Condition"]["StringEquals"] == {
        "kms:ViaService": f"s3.{REGION[stack]}.amazonaws.com"
    }
    encrypt = by_sid["EncryptReplicas"]
    assert encrypt["Resource"] == [
        f"arn:aws:kms:{PEER[stack]}:{ACCOUNT}:key/{plan.outputs['kmsKeyId']}"
    ]


def test_first_bring_up_declares_no_replication(plan_of: PlanOf) -> None:
    plan = plan_of("prod", "reskflow:peerDeployed=false")
    assert plan.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig") == []
    assert [r for r in plan.of_type("aws:iam/role:Role") if "replication" in r.name] == []
    assert len(plan.of_type("aws:s3/bucket:Bucket")) == len(STORES) + 1  # and the edge-logs bucket


def test_kms_primary_in_prod_and_replica_in_dr(plan_of: PlanOf) -> None:
    prod, dr = plan_of("prod"), plan_of("dr")
    (primary,) = prod.of_type("aws:kms/key:Key")
    assert prod.of_type("aws:kms/replicaKey:ReplicaKey") == []
    assert primary.inputs["multiRegion"] is True
    assert primary.inputs["enableKeyRotation"] is True
    assert primary.inputs["deletionWindowInDays"] == 30
    assert primary.options == {
        "protect": True,
        "retainOnDelete": True,
        "dependsOn": [],
        "ignoreChanges": [],
    }
    (replica,) = dr.of_type("aws:kms/replicaKey:ReplicaKey")
    assert dr.of_type("aws:kms/key:Key") == []
    assert replica.inputs["primaryKeyArn"] == (
        f"arn:aws:kms:us-east-1:{ACCOUNT}:key/mrk-8f1c2a7e5b9d4c3fa0e6b1d2c3f4a5b6"
    )
    assert replica.options["protect"] is True and replica.options["retainOnDelete"] is True
    assert dr.outputs["kmsKeyArn"] == (
        f"arn:aws:kms:us-west-2:{ACCOUNT}:key/mrk-8f1c2a7e5b9d4c3fa0e6b1d2c3f4a5b6"
    )
    for plan, region in ((prod, "us-east-1"), (dr, "us-west-2")):
        alias = named(plan, "kms-alias")
        assert alias.inputs["name"] == "alias/reskflow-dr"
        key_doc = policy_doc(named(plan, "kms-key"))
        sids = {s["Sid"]: s for s in key_doc["Statement"]}
        assert sids["CloudWatchLogsEncryptsLogGroups"]["Principal"] == {
            "Service": f"logs.{region}.amazonaws.com"
        }
        assert sids["AccountAdministersThroughIam"]["Principal"] == {
            "AWS": f"arn:aws:iam::{ACCOUNT}:root"
        }


def test_role_switch_changes_no_storage_input(plan_of: PlanOf) -> None:
    """A drill switches roles, never regions: storage and keys are identical under both roles."""

    def inputs(plan: Plan) -> dict[str, Any]:
        return {
            r.urn: (r.inputs, r.options)
            for r in plan.resources
            if r.custom and r.type.startswith(("aws:s3/", "aws:kms/"))
        }

    assert inputs(plan_of("dr")) == inputs(plan_of("dr", *ROLE_OVERRIDES["dr", "active"]))
