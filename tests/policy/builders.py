"""Hand-built plans in the ``reskflow-dr preview --json`` format, for the policy tests.

:func:`reference_plan` is a complete, compliant stack (buckets, KMS, AWS Backup, RDS, DocumentDB,
ElastiCache, SNS, logs, Route 53) shaped like the program's real plan; tests mutate one input of
it and assert which policy fires on which resources.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any

ACCOUNT = "123456789012"
KEY_ID = "mrk-c1f1dbfaf02faa943b341fcbb8a59694"
PEER = {"us-east-1": "us-west-2", "us-west-2": "us-east-1"}


def key_arn(region: str) -> str:
    return f"arn:aws:kms:{region}:{ACCOUNT}:key/{KEY_ID}"


def vault_arn(region: str) -> str:
    return f"arn:aws:backup:{region}:{ACCOUNT}:backup-vault:reskflow-{region}"


class PlanBuilder:
    """Collects resources of one stack; ``add`` returns the resource dict for later edits."""

    def __init__(self, stack: str = "prod", region: str = "us-east-1") -> None:
        self.stack = stack
        self.region = region
        self.peer = PEER.get(region, "us-west-2")
        self.resources: list[dict[str, Any]] = []
        self.provider = self.add(
            "pulumi:providers:aws",
            f"aws-{region}",
            {
                "region": region,
                "defaultTags": json.dumps({"tags": {"project": "reskflow", "stack": stack}}),
            },
            provider=False,
        )

    def urn(self, type_: str, name: str) -> str:
        return f"urn:pulumi:{self.stack}::reskflow::{type_}::{name}"

    def add(
        self,
        type_: str,
        name: str,
        inputs: Mapping[str, Any],
        *,
        protect: bool = False,
        parent: str | None = None,
        depends_on: Iterable[str] = (),
        provider: bool = True,
        region: str | None = None,
    ) -> dict[str, Any]:
        resource = {
            "urn": self.urn(type_, name),
            "type": type_,
            "name": name,
            "parent": parent,
            "provider": f"{self.urn('pulumi:providers:aws', f'aws-{self.region}')}::id-1"
            if provider
            else "",
            "region": region or self.region,
            "inputs": dict(inputs),
            "options": {
                "protect": protect,
                "retainOnDelete": protect,
                "dependsOn": list(depends_on),
                "ignoreChanges": [],
            },
        }
        self.resources.append(resource)
        return resource

    def plan(self) -> dict[str, Any]:
        return {
            "project": "reskflow",
            "stack": self.stack,
            "config": {"aws:region": self.region, "reskflow:accountId": ACCOUNT},
            "resources": copy.deepcopy(self.resources),
            "policy": [],
        }

    # -- building blocks --------------------------------------------------------------------

    def bucket_name(self, store: str, region: str | None = None) -> str:
        return f"reskflow-{ACCOUNT}-{store}-{region or self.region}"

    def bucket(self, store: str, *, tiers: Mapping[str, tuple[str, int]] | None = None) -> None:
        """A SecureBucket: bucket + versioning, SSE-KMS, public access block, TLS policy,
        lifecycle and replication to the peer region; ``tiers`` maps a prefix to the
        (storage class, expiry days) its objects are written in."""
        name = self.bucket_name(store)
        parent = self.urn("reskflow:storage:SecureBucket", store)
        self.add("reskflow:storage:SecureBucket", store, {}, provider=False)
        self.add(
            "aws:s3/bucket:Bucket",
            store,
            {
                "bucket": name,
                "forceDestroy": False,
                "tags": {"reskflow:backup": "dr", "reskflow:store": store},
            },
            protect=True,
            parent=parent,
        )
        if store == "backups":
            self.add(
                "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
                f"{store}-object-lock",
                {
                    "bucket": name,
                    "objectLockEnabled": "Enabled",
                    "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 7}},
                },
                protect=True,
                parent=parent,
            )
        self.add(
            "aws:s3/bucketVersioning:BucketVersioning",
            f"{store}-versioning",
            {"bucket": name, "versioningConfiguration": {"status": "Enabled"}},
            parent=parent,
        )
        self.add(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            f"{store}-encryption",
            {
                "bucket": name,
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": key_arn(self.region),
                        },
                        "bucketKeyEnabled": True,
                    }
                ],
            },
            parent=parent,
        )
        self.add(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            f"{store}-public-access",
            {
                "bucket": name,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            parent=parent,
        )
        statements: list[dict[str, Any]] = [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
        rules: list[dict[str, Any]] = [
            {
                "id": "housekeeping",
                "status": "Enabled",
                "filter": {},
                "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
            }
        ]
        for prefix, (storage_class, days) in (tiers or {}).items():
            statements.append(
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{name}/{prefix}*",
                    "Condition": {"StringNotEquals": {"s3:x-amz-storage-class": storage_class}},
                }
            )
            rules.append(
                {
                    "id": prefix.strip("/"),
                    "status": "Enabled",
                    "filter": {"prefix": prefix},
                    "expiration": {"days": days},
                }
            )
        self.add(
            "aws:s3/bucketPolicy:BucketPolicy",
            f"{store}-policy",
            {
                "bucket": name,
                "policy": json.dumps({"Version": "2012-10-17", "Statement": statements}),
            },
            parent=parent,
        )
        self.add(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            f"{store}-lifecycle",
            {"bucket": name, "rules": rules},
            parent=parent,
        )
        self.add(
            "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
            f"replication-{store}",
            {
                "bucket": name,
                "role": f"arn:aws:iam::{ACCOUNT}:role/reskflow-s3-replication",
                "rules": [
                    {
                        "id": f"to-{self.peer}",
                        "status": "Enabled",
                        "priority": 1,
                        "filter": {"prefix": ""},
                        "deleteMarkerReplication": {"status": "Enabled"},
                        "destination": {
                            "bucket": f"arn:aws:s3:::{self.bucket_name(store, self.peer)}",
                            "encryptionConfiguration": {"replicaKmsKeyId": key_arn(self.peer)},
                            "metrics": {"status": "Enabled", "eventThreshold": {"minutes": 15}},
                            "replicationTime": {"status": "Enabled", "time": {"minutes": 15}},
                        },
                        "sourceSelectionCriteria": {
                            "replicaModifications": {"status": "Enabled"},
                            "sseKmsEncryptedObjects": {"status": "Enabled"},
                        },
                    }
                ],
            },
        )

    def kms_key(self) -> None:
        self.add(
            "aws:kms/key:Key",
            "kms-key",
            {"enableKeyRotation": True, "multiRegion": True, "deletionWindowInDays": 30},
            protect=True,
        )

    def backup(self, *, with_rds_copy: bool = True) -> None:
        """A vault (CMK, compliance lock), a plan (daily, weekly, continuous) and a selection
        by the ``reskflow:backup=dr`` tag."""
        parent = self.urn("reskflow:backup:RegionalBackup", "backup")
        self.add("reskflow:backup:RegionalBackup", "backup", {}, provider=False)
        vault = f"reskflow-{self.region}"
        self.add(
            "aws:backup/vault:Vault",
            "vault",
            {"name": vault, "kmsKeyArn": key_arn(self.region), "forceDestroy": False},
            protect=True,
            parent=parent,
        )
        self.add(
            "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
            "vault-lock",
            {
                "backupVaultName": vault,
                "changeableForDays": 3,
                "minRetentionDays": 1,
                "maxRetentionDays": 35,
            },
            parent=parent,
        )
        isolated = f"{vault}-airgapped"
        self.add(
            "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault",
            "airgapped",
            {"name": isolated, "minRetentionDays": 7, "maxRetentionDays": 28},
            protect=True,
            parent=parent,
        )
        isolated_arn = f"arn:aws:backup:{self.region}:{ACCOUNT}:backup-vault:{isolated}"
        deny = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyManualDeletionOfRecoveryPoints",
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "backup:DeleteRecoveryPoint",
                        "backup:UpdateRecoveryPointLifecycle",
                        "backup:PutBackupVaultAccessPolicy",
                    ],
                    "Resource": isolated_arn,
                }
            ],
        }
        self.add(
            "aws:backup/vaultPolicy:VaultPolicy",
            "airgapped-policy",
            {"backupVaultName": isolated, "policy": json.dumps(deny)},
            parent=parent,
        )
        copy_to = vault_arn(self.peer)
        self.add(
            "aws:backup/plan:Plan",
            "backup-plan",
            {
                "name": f"reskflow-{self.region}",
                "rules": [
                    {
                        "ruleName": "daily",
                        "targetVaultName": vault,
                        "schedule": "cron(0 5 ? * * *)",
                        "lifecycle": {"deleteAfter": 7},
                        "copyActions": [
                            {"destinationVaultArn": copy_to, "lifecycle": {"deleteAfter": 7}},
                            {"destinationVaultArn": isolated_arn, "lifecycle": {"deleteAfter": 7}},
                        ],
                    },
                    {
                        "ruleName": "weekly",
                        "targetVaultName": vault,
                        "schedule": "cron(0 6 ? * SUN *)",
                        "lifecycle": {"deleteAfter": 28},
                        "copyActions": [
                            {"destinationVaultArn": copy_to, "lifecycle": {"deleteAfter": 28}},
                            {"destinationVaultArn": isolated_arn, "lifecycle": {"deleteAfter": 28}},
                        ],
                    },
                    {
                        "ruleName": "continuous",
                        "targetVaultName": vault,
                        "enableContinuousBackup": True,
                        "lifecycle": {"deleteAfter": 7},
                    },
                ],
            },
            parent=parent,
        )
        self.add(
            "aws:backup/selection:Selection",
            "backup-selection",
            {
                "name": "reskflow-data",
                "planId": "[unknown]",
                "iamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/reskflow-backup",
                "selectionTags": [
                    {"type": "STRINGEQUALS", "key": "reskflow:backup", "value": "dr"}
                ],
            },
            parent=parent,
        )

    def databases(self) -> None:
        """The active region's RDS primary, DocumentDB cluster and ElastiCache group."""
        tags = {"reskflow:backup": "dr"}
        self.add(
            "aws:rds/parameterGroup:ParameterGroup",
            "orders-params",
            {
                "name": "reskflow-orders-pg16",
                "family": "postgres16",
                "parameters": [{"name": "rds.force_ssl", "value": "1"}],
            },
        )
        self.add(
            "aws:rds/instance:Instance",
            "orders-db",
            {
                "identifier": "reskflow-orders",
                "engine": "postgres",
                "engineVersion": "16.4",
                "instanceClass": "db.r6g.large",
                "storageEncrypted": True,
                "kmsKeyId": key_arn(self.region),
                "deletionProtection": True,
                "backupRetentionPeriod": 7,
                "parameterGroupName": "reskflow-orders-pg16",
                "manageMasterUserPassword": True,
                "username": "reskflow",
                "tags": tags,
            },
            protect=True,
        )
        self.add(
            "aws:docdb/clusterParameterGroup:ClusterParameterGroup",
            "sessions-params",
            {"name": "reskflow-sessions", "family": "docdb5.0", "parameters": []},
        )
        self.add(
            "aws:docdb/cluster:Cluster",
            "sessions-docdb",
            {
                "clusterIdentifier": "reskflow-sessions",
                "storageEncrypted": True,
                "kmsKeyId": key_arn(self.region),
                "deletionProtection": True,
                "dbClusterParameterGroupName": "reskflow-sessions",
                "backupRetentionPeriod": 7,
                "tags": tags,
            },
            protect=True,
        )
        self.add(
            "aws:elasticache/replicationGroup:ReplicationGroup",
            "cache",
            {
                "replicationGroupId": "reskflow-cache",
                "description": "sessions cache",
                "atRestEncryptionEnabled": True,
                "transitEncryptionEnabled": True,
                "kmsKeyId": key_arn(self.region),
                "snapshotRetentionLimit": 7,
                "tags": tags,
            },
            protect=True,
        )

    def replica(self) -> None:
        """The passive region's cross-region read replica of the orders database."""
        self.add(
            "aws:rds/instance:Instance",
            "orders-replica",
            {
                "identifier": "reskflow-orders-g1",
                "replicateSourceDb": f"arn:aws:rds:{self.peer}:{ACCOUNT}:db:reskflow-orders",
                "instanceClass": "db.r6g.large",
                "kmsKeyId": key_arn(self.region),
                "deletionProtection": True,
                "backupRetentionPeriod": 7,
                "engine": "postgres",
                "engineVersion": "16.4",
                "tags": {"reskflow:backup": "replica-excluded"},
            },
            protect=True,
        )

    def notifications(self) -> None:
        self.add("aws:sns/topic:Topic", "alerts", {"kmsMasterKeyId": key_arn(self.region)})
        self.add(
            "aws:cloudwatch/logGroup:LogGroup",
            "app-logs",
            {"retentionInDays": 30, "kmsKeyId": key_arn(self.region)},
        )
        self.add(
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            "replica-lag",
            {
                "namespace": "AWS/RDS",
                "metricName": "ReplicaLag",
                "threshold": 60,
                "treatMissingData": "breaching",
            },
        )

    def dns(self) -> None:
        self.add(
            "aws:route53/healthCheck:HealthCheck",
            "api-health",
            {
                "type": "HTTPS",
                "fqdn": "api.reskflow.example",
                "requestInterval": 10,
                "failureThreshold": 3,
            },
        )
        self.add(
            "aws:route53/record:Record",
            "api-primary",
            {
                "zoneId": "Z123",
                "name": "api.reskflow.example",
                "type": "CNAME",
                "ttl": 60,
                "records": ["alb-east.example"],
                "setIdentifier": "primary",
                "healthCheckId": "[unknown]",
                "failoverRoutingPolicies": [{"type": "PRIMARY"}],
            },
        )


def reference_plan(stack: str = "prod") -> dict[str, Any]:
    """A compliant stack: prod (us-east-1, primaries) or dr (us-west-2, the replica)."""
    builder = PlanBuilder(stack, "us-east-1" if stack == "prod" else "us-west-2")
    builder.kms_key()
    builder.bucket("uploads")
    builder.bucket("backups", tiers={"daily/": ("STANDARD_IA", 7), "weekly/": ("GLACIER_IR", 28)})
    builder.backup()
    if stack == "prod":
        builder.databases()
    else:
        builder.replica()
    builder.notifications()
    builder.dns()
    return builder.plan()


def resource(plan: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The one AWS resource called ``name`` in ``plan`` (a component may share its name)."""
    found = [r for r in plan["resources"] if r["name"] == name and r["type"].startswith("aws:")]
    assert len(found) == 1, f"expected one resource named {name!r}, found {len(found)}"
    return found[0]


def remove(plan: dict[str, Any], name: str) -> None:
    plan["resources"] = [r for r in plan["resources"] if r["name"] != name]


def synthetic_plan(size: int) -> dict[str, Any]:
    """A plan of ``size`` resources: repeated bucket sets, databases and backup resources."""
    builder = PlanBuilder("bench", "us-east-1")
    builder.kms_key()
    builder.backup()
    builder.databases()
    index = 0
    while len(builder.resources) < size:
        builder.bucket(f"store{index}", tiers={"daily/": ("STANDARD_IA", 7)})
        index += 1
    builder.resources = builder.resources[:size]
    return builder.plan()
