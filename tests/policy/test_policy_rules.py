"""Every policy through the analyzer interface: compliant and non-compliant fixtures.

Each non-compliant case mutates one input of the compliant reference plan and asserts the
exact set of resources the policy flags and the exact message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from reskflow_dr.policy_runner import PolicyPackSession, has_mandatory_violation

from .backup_safety_cases import CASES as BACKUP_SAFETY_CASES
from .builders import key_arn, reference_plan, remove, resource
from .conftest import Evaluate, flagged
from .test_policy_edge import CASES as EDGE_CASES

Plan = dict[str, Any]


def inputs(plan: Plan, name: str) -> dict[str, Any]:
    return resource(plan, name)["inputs"]  # type: ignore[no-any-return]


def first_rule(plan: Plan, name: str) -> dict[str, Any]:
    return inputs(plan, name)["rules"][0]  # type: ignore[no-any-return]


def backup_rule(plan: Plan, rule_name: str) -> dict[str, Any]:
    rules = inputs(plan, "backup-plan")["rules"]
    return next(r for r in rules if r["ruleName"] == rule_name)  # type: ignore[no-any-return]


def drop_tls_statement(plan: Plan) -> None:
    doc = json.loads(inputs(plan, "uploads-policy")["policy"])
    doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != "DenyInsecureTransport"]
    inputs(plan, "uploads-policy")["policy"] = json.dumps(doc)


def second_primary(plan: Plan) -> None:
    twin = json.loads(json.dumps(resource(plan, "api-primary")))
    twin["name"] = "api-primary-2"
    twin["urn"] += "-2"
    twin["inputs"]["setIdentifier"] = "primary-2"
    plan["resources"].append(twin)


def stray_topic(plan: Plan) -> None:
    topic = json.loads(json.dumps(resource(plan, "alerts")))
    topic.update(name="stray", urn=topic["urn"].replace("alerts", "stray"))
    topic["inputs"] = {"region": "eu-west-1"}
    plan["resources"].append(topic)


def no_copies(plan: Plan) -> None:
    for rule in inputs(plan, "backup-plan")["rules"]:
        rule.pop("copyActions", None)


def offsite_missing(
    store: str, service: str, snapshots: str, production: str = "", own: str = "automated backups"
) -> str:
    """The 3-2-1 message for a store with local backups but no peer-region copy."""
    vault = "vault reskflow-us-east-1 (AWS Backup recovery points, us-east-1)"
    legs = [
        f"production ({production or service + ' storage'}, us-east-1)",
        f"{own} ({snapshots}, us-east-1)",
        vault,
        vault,
        vault,
    ]
    return (
        f"{store}: 3-2-1 not met (offsite 0/1); missing leg: a copy in the peer-region vault "
        f"(Plan rule copyActions); has: {', '.join(legs)}"
    )


@dataclass(frozen=True)
class Case:
    policy: str
    mutate: Callable[[Plan], None]
    expected: dict[str, list[str]]
    stack: str = "prod"
    config: dict[str, Any] | None = None


REPLICATION_RULE = "replication-uploads rule to-us-west-2: "

CASES: dict[str, Case] = {
    "sse-algorithm": Case(
        "reskflow-s3-sse-kms-cmk",
        lambda p: first_rule(p, "uploads-encryption")["applyServerSideEncryptionByDefault"].update(
            sseAlgorithm="AES256"
        ),
        {"uploads": ["bucket uploads: uploads-encryption uses sseAlgorithm AES256, not aws:kms"]},
    ),
    "sse-missing": Case(
        "reskflow-s3-sse-kms-cmk",
        lambda p: remove(p, "backups-encryption"),
        {"backups": ["bucket backups: no server-side encryption configuration"]},
    ),
    "sse-managed-key": Case(
        "reskflow-s3-sse-kms-cmk",
        lambda p: first_rule(p, "uploads-encryption")["applyServerSideEncryptionByDefault"].update(
            kmsMasterKeyId="alias/aws/s3"
        ),
        {
            "uploads": [
                "bucket uploads: uploads-encryption uses alias/aws/s3, an AWS managed key, "
                "not a CMK"
            ]
        },
    ),
    "tls": Case(
        "reskflow-s3-tls-only",
        drop_tls_statement,
        {
            "uploads": [
                "bucket uploads: uploads-policy has no statement denying s3:* when "
                "aws:SecureTransport is false"
            ]
        },
    ),
    "public-access": Case(
        "reskflow-s3-public-access-block",
        lambda p: inputs(p, "uploads-public-access").update(ignorePublicAcls=False),
        {"uploads": ["bucket uploads: uploads-public-access leaves ignorePublicAcls off"]},
    ),
    "versioning": Case(
        "reskflow-s3-versioning",
        lambda p: inputs(p, "uploads-versioning").update(
            versioningConfiguration={"status": "Suspended"}
        ),
        {"uploads": ["bucket uploads: uploads-versioning sets versioning to Suspended"]},
    ),
    "replication-versioning": Case(
        "reskflow-s3-replication-versioning",
        lambda p: remove(p, "uploads-versioning"),
        {
            "uploads": [
                "replication-uploads: source bucket uploads is not versioned; S3 "
                "replication needs versioning at both ends"
            ]
        },
    ),
    "rtc": Case(
        "reskflow-s3-replication-rtc",
        lambda p: first_rule(p, "replication-uploads")["destination"].pop("replicationTime"),
        {
            "replication-uploads": [
                REPLICATION_RULE + "Replication Time Control is not enabled at 15 minutes"
            ]
        },
    ),
    "delete-markers": Case(
        "reskflow-s3-replication-delete-markers",
        lambda p: first_rule(p, "replication-uploads").update(
            deleteMarkerReplication={"status": "Disabled"}
        ),
        {"replication-uploads": [REPLICATION_RULE + "delete markers are not replicated"]},
    ),
    "replica-sync": Case(
        "reskflow-s3-replication-replica-sync",
        lambda p: first_rule(p, "replication-uploads")["sourceSelectionCriteria"].pop(
            "replicaModifications"
        ),
        {"replication-uploads": [REPLICATION_RULE + "replica modification sync is not enabled"]},
    ),
    "replica-key-region": Case(
        "reskflow-s3-replication-kms",
        lambda p: first_rule(p, "replication-uploads")["destination"].update(
            encryptionConfiguration={"replicaKmsKeyId": key_arn("us-east-1")}
        ),
        {
            "replication-uploads": [
                REPLICATION_RULE + "replicaKmsKeyId is in us-east-1, the source "
                "region; the replica key must be in the destination region"
            ]
        },
    ),
    "lifecycle-transition": Case(
        "reskflow-s3-lifecycle-limits",
        lambda p: inputs(p, "uploads-lifecycle")["rules"].append(
            {
                "id": "archive",
                "status": "Enabled",
                "filter": {},
                "transitions": [{"days": 7, "storageClass": "STANDARD_IA"}],
                "expiration": {"days": 90},
            }
        ),
        {
            "uploads-lifecycle": [
                "uploads-lifecycle rule archive: objects move to STANDARD_IA "
                "after 7 days (S3 needs at least 30)"
            ]
        },
    ),
    "kms-rotation": Case(
        "reskflow-kms-rotation",
        lambda p: inputs(p, "kms-key").update(enableKeyRotation=False),
        {"kms-key": ["Key kms-key: enableKeyRotation must be true (is false)"]},
    ),
    "kms-key-region": Case(
        "reskflow-kms-key-region",
        lambda p: inputs(p, "orders-db").update(kmsKeyId=key_arn("us-west-2")),
        {
            "orders-db": [
                "Instance orders-db: kmsKeyId is a key in us-west-2, but the resource is "
                "in us-east-1"
            ]
        },
    ),
    "rds-encryption": Case(
        "reskflow-rds-encryption-cmk",
        lambda p: inputs(p, "orders-db").update(storageEncrypted=False),
        {"orders-db": ["Instance orders-db: storageEncrypted must be true (is false)"]},
    ),
    "rds-tls": Case(
        "reskflow-rds-tls",
        lambda p: inputs(p, "orders-params").update(
            parameters=[{"name": "rds.force_ssl", "value": "0"}]
        ),
        {
            "orders-db": [
                "Instance orders-db: parameter group orders-params leaves rds.force_ssl 0; "
                "set it to 1 to refuse unencrypted connections"
            ]
        },
    ),
    "replica-kms": Case(
        "reskflow-rds-cross-region-replica-kms",
        lambda p: inputs(p, "orders-replica").pop("kmsKeyId"),
        {
            "orders-replica": [
                "Instance orders-replica: encrypted cross-region replica of a "
                "us-east-1 database has no kmsKeyId (a key in us-west-2 is required)"
            ]
        },
        stack="dr",
    ),
    "replica-credentials": Case(
        "reskflow-rds-replica-credentials",
        lambda p: inputs(p, "orders-replica").update(username="reskflow", password="[secret]"),
        {
            "orders-replica": [
                "Instance orders-replica: a read replica takes its credentials from "
                "the source; remove username, password"
            ]
        },
        stack="dr",
    ),
    "docdb-encryption": Case(
        "reskflow-docdb-encryption-cmk",
        lambda p: inputs(p, "sessions-docdb").update(kmsKeyId="alias/aws/rds"),
        {
            "sessions-docdb": [
                "Cluster sessions-docdb: kmsKeyId alias/aws/rds is an AWS managed key, not a CMK"
            ]
        },
    ),
    "docdb-tls": Case(
        "reskflow-docdb-tls",
        lambda p: inputs(p, "sessions-params").update(
            parameters=[{"name": "tls", "value": "disabled"}]
        ),
        {
            "sessions-docdb": [
                "Cluster sessions-docdb: parameter group sessions-params leaves tls "
                "disabled; set it to enabled to refuse unencrypted connections"
            ]
        },
    ),
    "elasticache": Case(
        "reskflow-elasticache-encryption",
        lambda p: inputs(p, "cache").update(transitEncryptionEnabled=False),
        {"cache": ["ReplicationGroup cache: transitEncryptionEnabled must be true (is false)"]},
    ),
    "vault-cmk": Case(
        "reskflow-backup-vault-cmk",
        lambda p: inputs(p, "vault").pop("kmsKeyArn"),
        {"vault": ["Vault vault: no customer managed KMS key (kmsKeyArn not set)"]},
    ),
    "vault-lock-missing": Case(
        "reskflow-backup-vault-lock",
        lambda p: remove(p, "vault-lock"),
        {"vault": ["Vault vault has no vault lock"]},
    ),
    "vault-lock-governance": Case(
        "reskflow-backup-vault-lock",
        lambda p: inputs(p, "vault-lock").pop("changeableForDays"),
        {
            "vault": [
                "Vault vault: lock vault-lock is in governance mode (no changeableForDays); "
                "compliance mode makes recovery points undeletable"
            ]
        },
        config={"reskflow-backup-vault-lock": {"requiredMode": "compliance"}},
    ),
    "retention": Case(
        "reskflow-backup-retention",
        lambda p: backup_rule(p, "daily").update(lifecycle={"deleteAfter": 3}),
        {
            "backup-plan": [
                "Plan backup-plan rule daily (daily): recovery points are kept 3 days, "
                "below the 7-day minimum"
            ]
        },
    ),
    "copy-region": Case(
        "reskflow-backup-copy-peer-region",
        lambda p: backup_rule(p, "daily").pop("copyActions"),
        {"backup-plan": ["Plan backup-plan rule daily: no copy action to a vault in us-west-2"]},
    ),
    "cold-storage": Case(
        "reskflow-backup-lifecycle-limits",
        lambda p: backup_rule(p, "weekly").update(
            lifecycle={"coldStorageAfter": 30, "deleteAfter": 60}
        ),
        {
            "backup-plan": [
                "Plan backup-plan rule weekly: recovery points are deleted after 60 "
                "days, less than 90 days after moving to cold storage at day 30"
            ]
        },
    ),
    "sns": Case(
        "reskflow-sns-cmk",
        lambda p: inputs(p, "alerts").pop("kmsMasterKeyId"),
        {"alerts": ["Topic alerts: no customer managed KMS key (kmsMasterKeyId not set)"]},
    ),
    "logs": Case(
        "reskflow-logs-cmk",
        lambda p: inputs(p, "app-logs").pop("kmsKeyId"),
        {"app-logs": ["LogGroup app-logs: no customer managed KMS key (kmsKeyId not set)"]},
    ),
    "lag-alarm-silent": Case(
        "reskflow-lag-alarm-breaching",
        lambda p: inputs(p, "replica-lag").update(treatMissingData="notBreaching"),
        {
            "replica-lag": [
                "MetricAlarm replica-lag: ReplicaLag alarm treats missing data as notBreaching: "
                "a replica that stopped replicating stays silent"
            ]
        },
    ),
    "lag-alarm-default": Case(
        "reskflow-lag-alarm-breaching",
        lambda p: inputs(p, "replica-lag").pop("treatMissingData"),
        {
            "replica-lag": [
                "MetricAlarm replica-lag: ReplicaLag alarm treats missing data as missing (the "
                "default): a replica that stopped replicating stays silent"
            ]
        },
    ),
    "failover-ttl": Case(
        "reskflow-route53-failover-record",
        lambda p: inputs(p, "api-primary").update(ttl=300),
        {"api-primary": ["Record api-primary (PRIMARY): ttl 300 s is above 60 s"]},
    ),
    "failover-health-check": Case(
        "reskflow-route53-failover-record",
        lambda p: inputs(p, "api-primary").pop("healthCheckId"),
        {
            "api-primary": [
                "Record api-primary (PRIMARY): no healthCheckId, so Route 53 never fails over"
            ]
        },
    ),
    "failover-pairing": Case(
        "reskflow-route53-failover-pairing",
        second_primary,
        {
            "api-primary-2": [
                "Record api-primary-2: second PRIMARY for api.reskflow.example CNAME "
                "(first: api-primary)"
            ]
        },
    ),
    "health-check": Case(
        "reskflow-route53-health-check",
        lambda p: inputs(p, "api-health").update(requestInterval=15),
        {"api-health": ["HealthCheck api-health: requestInterval 15 is not 10 or 30"]},
    ),
    "protect": Case(
        "reskflow-data-protected",
        lambda p: resource(p, "uploads")["options"].update(protect=False),
        {"uploads": ["Bucket uploads is not protected (protect=True)"]},
    ),
    "deletion-protection": Case(
        "reskflow-data-deletion-protection",
        lambda p: inputs(p, "orders-db").update(deletionProtection=False),
        {"orders-db": ["Instance orders-db: deletionProtection must be true (is false)"]},
    ),
    "force-destroy": Case(
        "reskflow-data-deletion-protection",
        lambda p: inputs(p, "backups").update(forceDestroy=True),
        {"backups": ["Bucket backups: forceDestroy must not be true (is true)"]},
    ),
    "region": Case(
        "reskflow-allowed-regions",
        stray_topic,
        {"stray": ["Topic stray is in eu-west-1; allowed: us-east-1, us-west-2"]},
    ),
    "3-2-1-offsite": Case(
        "reskflow-3-2-1",
        no_copies,
        {
            "orders-db": [offsite_missing("RDS instance orders-db", "RDS", "RDS snapshots")],
            "sessions-docdb": [
                offsite_missing(
                    "DocumentDB cluster sessions-docdb", "DocumentDB", "DocumentDB snapshots"
                )
            ],
            "cache": [
                offsite_missing(
                    "ElastiCache group cache",
                    "ElastiCache",
                    "ElastiCache snapshots",
                    production="ElastiCache nodes",
                    own="snapshots",
                )
            ],
        },
    ),
}

CASES.update({k: Case(*v) for k, v in BACKUP_SAFETY_CASES.items()})

MANDATORY_POLICIES = sorted({c.policy for c in CASES.values()})


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_non_compliant_fixture_flags_exactly(evaluate: Evaluate, case_id: str) -> None:
    case = CASES[case_id]
    plan = reference_plan(case.stack)
    case.mutate(plan)
    verdicts = evaluate(plan, case.config)
    assert flagged(verdicts, case.policy) == case.expected
    assert all(v.enforcement == "mandatory" for v in verdicts if v.policy == case.policy)
    assert has_mandatory_violation(verdicts)


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_compliant_reference_plans_pass_every_mandatory_policy(
    evaluate: Evaluate, stack: str
) -> None:
    verdicts = evaluate(reference_plan(stack))
    assert [v for v in verdicts if v.enforcement == "mandatory"] == []
    assert not has_mandatory_violation(verdicts)
    assert [v for v in verdicts if v.not_checkable] == []


def test_governance_lock_passes_unless_compliance_is_required(evaluate: Evaluate) -> None:
    plan = reference_plan("prod")
    inputs(plan, "vault-lock").pop("changeableForDays")
    assert flagged(evaluate(plan), "reskflow-backup-vault-lock") == {}


def test_every_policy_of_the_pack_has_a_non_compliant_case(pack: PolicyPackSession) -> None:
    advisory = {"reskflow-cost-minimum-storage-duration", "reskflow-rpo-note"}
    edge = {policy for policy, _edit, _expected in EDGE_CASES.values()}  # test_policy_edge.py
    covered = set(MANDATORY_POLICIES) | advisory | {"reskflow-3-2-1"} | edge
    assert {p.name for p in pack.policies} == covered


def test_3_2_1_without_backups_names_every_store_and_the_missing_legs(
    evaluate: Evaluate,
) -> None:
    plan = reference_plan("prod")
    remove(plan, "backup-selection")
    found = flagged(evaluate(plan), "reskflow-3-2-1")
    assert set(found) == {"uploads", "backups", "orders-db", "sessions-docdb", "cache"}
    assert found["uploads"] == [
        "bucket uploads: 3-2-1 not met (copies 2/3, media 1/2); missing leg: recovery points in "
        "a local AWS Backup vault (Selection + Plan rule); a copy in the peer-region vault (Plan "
        "rule copyActions); has: production (S3 objects, us-east-1), replica "
        "arn:aws:s3:::reskflow-123456789012-uploads-us-west-2 (S3 objects, us-west-2)"
    ]


def test_cost_note_gives_the_minimum_billable_multiplier(evaluate: Evaluate) -> None:
    verdicts = evaluate(reference_plan("prod"))
    found = flagged(verdicts, "reskflow-cost-minimum-storage-duration")
    assert found == {
        "backups": [
            "bucket backups: objects under daily/ are written as STANDARD_IA and expire after 7 "
            "days, but STANDARD_IA bills at least 30 days (30/7 = 4.29x)",
            "bucket backups: objects under weekly/ are written as GLACIER_IR and expire after 28 "
            "days, but GLACIER_IR bills at least 90 days (90/28 = 3.21x)",
        ]
    }
    assert {v.enforcement for v in verdicts if v.resource == "backups"} == {"advisory"}


def test_cost_note_for_a_lifecycle_transition(evaluate: Evaluate) -> None:
    plan = reference_plan("prod")
    inputs(plan, "uploads-lifecycle")["rules"].append(
        {
            "id": "to-glacier",
            "status": "Enabled",
            "filter": {"prefix": "tmp/"},
            "transitions": [{"days": 0, "storageClass": "GLACIER"}],
            "expiration": {"days": 45},
        }
    )
    found = flagged(evaluate(plan), "reskflow-cost-minimum-storage-duration")
    assert found["uploads"] == [
        "bucket uploads: rule to-glacier moves objects to GLACIER at day 0 and expires them at "
        "day 45, but GLACIER bills at least 90 days (90/45 = 2.00x)"
    ]


def test_rpo_note_names_stores_without_a_fast_offsite_leg(evaluate: Evaluate) -> None:
    prod = flagged(evaluate(reference_plan("prod")), "reskflow-rpo-note")
    assert set(prod) == {"uploads", "backups", "orders-db", "sessions-docdb", "cache"}
    assert prod["orders-db"] == [
        "RDS instance orders-db: best cross-region recovery point is 1440 minutes (copy in "
        "backup-vault:reskflow-us-west-2), above the 5-minute RPO"
    ]
    # The dr replica's source is a continuously replicating leg: no note for it.
    dr = flagged(evaluate(reference_plan("dr")), "reskflow-rpo-note")
    assert set(dr) == {"uploads", "backups"}
