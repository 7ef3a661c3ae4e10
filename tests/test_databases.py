"""The data tier under mocks: PostgreSQL primary, replica, promotion and failback; Redis and
DocumentDB global stores; network, protection, secrets and exports."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from reskflow_dr.engine import Plan, PlannedResource
from tests.conftest import PlanOf, belongs_to_workloads, named

ACCOUNT = "123456789012"
#: prod creates the multi-Region key (its id comes from the mocks); dr's stack file names the
#: example id of the same key.
PROD_KEY_ID = "mrk-c1f1dbfaf02faa943b341fcbb8a59694"
PROD_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{PROD_KEY_ID}"
DR_KEY = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/mrk-8f1c2a7e5b9d4c3fa0e6b1d2c3f4a5b6"
PROD_APP_SG = "sg-0d44e55f66a77b884"
DR_APP_SG = "sg-0c66b55a44f33e224"


def pg_arn(region: str, generation: int) -> str:
    return f"arn:aws:rds:{region}:{ACCOUNT}:db:reskflow-postgres-g{generation}"


#: The promotion of dr's replica, and the what-if after a failover (prod rebuilt as replica g3).
PROMOTE_DR = (
    "reskflow:role=active",
    "reskflow:peerLost=true",
    "reskflow:cachePrimaryRegion=us-west-2",
    "reskflow:docdbPrimaryRegion=us-west-2",
)
FAILBACK_PROD = (
    "reskflow:role=passive",
    "reskflow:dbGeneration=3",
    "reskflow:retainedDbGenerations=[1]",
    "reskflow:peerDbGeneration=2",
    "reskflow:cachePrimaryRegion=us-west-2",
    "reskflow:docdbPrimaryRegion=us-west-2",
)

#: Everything primary and replica share, with the same values.
SHARED = {
    "engine": "postgres",
    "engineVersion": "16",
    "instanceClass": "db.r6g.large",
    "allocatedStorage": 100,
    "maxAllocatedStorage": 500,
    "storageType": "gp3",
    "storageEncrypted": True,
    "multiAz": True,
    "dbSubnetGroupName": "reskflow-postgres",
    "parameterGroupName": "reskflow-postgres-tls-postgres16",
    "port": 5432,
    "publiclyAccessible": False,
    "caCertIdentifier": "rds-ca-rsa2048-g1",
    "iamDatabaseAuthenticationEnabled": True,
    "performanceInsightsEnabled": True,
    "performanceInsightsRetentionPeriod": 7,
    "enabledCloudwatchLogsExports": ["postgresql", "upgrade"],
    "backupRetentionPeriod": 7,
    "backupWindow": "03:00-04:00",
    "maintenanceWindow": "sun:04:30-sun:05:30",
    "copyTagsToSnapshot": True,
    "deleteAutomatedBackups": False,
    "deletionProtection": True,
    "autoMinorVersionUpgrade": True,
    "applyImmediately": True,
}
CREDENTIALS = ("username", "password", "dbName", "manageMasterUserPassword")


def subset(inputs: dict[str, Any], keys: dict[str, Any]) -> dict[str, Any]:
    return {k: inputs.get(k) for k in keys}


def sg_id(plan: Plan, firewall: str) -> str:
    """The id of a firewall's security group, as its ingress rules reference it."""
    group = named(plan, f"{firewall}-sg")
    rules = plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    (group_id,) = {r.inputs["securityGroupId"] for r in rules if r.parent == group.parent}
    return str(group_id)


def instances(plan: Plan) -> dict[str, PlannedResource]:
    return {r.name: r for r in plan.of_type("aws:rds/instance:Instance")}


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


def test_active_stack_declares_the_primary(plan_of: PlanOf) -> None:
    plan = plan_of("prod")
    assert sorted(instances(plan)) == ["postgres-g1"]
    db = named(plan, "postgres-g1")
    assert db.region == "us-east-1"
    assert subset(db.inputs, SHARED) == SHARED
    assert db.inputs["identifier"] == "reskflow-postgres-g1"
    assert db.inputs["kmsKeyId"] == PROD_KEY
    assert db.inputs["performanceInsightsKmsKeyId"] == PROD_KEY
    assert db.inputs["username"] == "reskflow_admin"
    assert db.inputs["dbName"] == "reskflow"
    assert db.inputs["manageMasterUserPassword"] is True
    assert db.inputs["masterUserSecretKmsKeyId"] == PROD_KEY
    assert "password" not in db.inputs
    assert "replicateSourceDb" not in db.inputs
    assert db.inputs["skipFinalSnapshot"] is False
    assert db.inputs["finalSnapshotIdentifier"] == "reskflow-postgres-g1-final"
    assert db.inputs["tags"] == {
        "reskflow:backup": "dr",
        "reskflow:store": "postgres",
        "reskflow:generation": "1",
    }
    assert db.options == {
        "protect": True,
        "retainOnDelete": True,
        "dependsOn": [],
        "ignoreChanges": ["dbName", "username"],
    }


def test_parameter_group_forces_tls(plan_of: PlanOf) -> None:
    group = named(plan_of("prod"), "postgres-tls")
    assert group.inputs["family"] == "postgres16"
    assert group.inputs["name"] == "reskflow-postgres-tls-postgres16"
    assert group.inputs["parameters"] == [
        {"name": "rds.force_ssl", "value": "1", "applyMethod": "pending-reboot"}
    ]


def test_passive_stack_declares_a_cross_region_replica_of_the_peer(plan_of: PlanOf) -> None:
    plan = plan_of("dr")
    primary = named(plan_of("prod"), "postgres-g1")
    replica = named(plan, "postgres-g2")
    assert sorted(instances(plan)) == ["postgres-g2"]
    assert replica.region == "us-west-2"
    assert replica.inputs["replicateSourceDb"] == pg_arn("us-east-1", 1)
    assert replica.inputs["replicateSourceDb"] == plan_of("prod").outputs["postgres"]["arn"]
    # The key of its own region, the multi-Region key's replica there.
    assert replica.inputs["kmsKeyId"] == DR_KEY == plan.outputs["kmsKeyArn"]
    assert replica.inputs["performanceInsightsKmsKeyId"] == DR_KEY
    assert [k for k in CREDENTIALS if k in replica.inputs] == []
    assert "masterUserSecretKmsKeyId" not in replica.inputs
    assert replica.inputs["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in replica.inputs
    assert subset(replica.inputs, SHARED) == SHARED
    same_as_source = ("instanceClass", "allocatedStorage", "maxAllocatedStorage", "storageType")
    assert subset(replica.inputs, dict.fromkeys(same_as_source)) == subset(
        primary.inputs, dict.fromkeys(same_as_source)
    )
    assert replica.options["protect"] is True
    assert replica.options["retainOnDelete"] is True


def test_promotion_removes_the_source_and_keeps_the_identifier(plan_of: PlanOf) -> None:
    before = named(plan_of("dr"), "postgres-g2")
    after = named(plan_of("dr", *PROMOTE_DR), "postgres-g2")
    assert after.urn == before.urn
    assert after.inputs["identifier"] == before.inputs["identifier"] == "reskflow-postgres-g2"
    changed = {
        k: (before.inputs.get(k), after.inputs.get(k))
        for k in before.inputs.keys() | after.inputs.keys()
        if before.inputs.get(k) != after.inputs.get(k)
    }
    assert changed == {
        "replicateSourceDb": (pg_arn("us-east-1", 1), None),
        "manageMasterUserPassword": (None, True),
        "masterUserSecretKmsKeyId": (None, DR_KEY),
        "skipFinalSnapshot": (True, False),
        "finalSnapshotIdentifier": (None, "reskflow-postgres-g2-final"),
        # The promoted primary joins the backup selection (a replica is never selected).
        "tags": (
            {**before.inputs["tags"], "reskflow:backup": "replica-excluded"},
            {**before.inputs["tags"], "reskflow:backup": "dr"},
        ),
        # Ignored by the engine (ignoreChanges): RDS would replace the instance for them.
        "username": (None, "reskflow_admin"),
        "dbName": (None, "reskflow"),
    }
    assert after.options["ignoreChanges"] == ["dbName", "username"]
    assert after.options["protect"] is True


def test_failback_adds_a_generation_and_keeps_the_old_primary_retained(plan_of: PlanOf) -> None:
    normal = named(plan_of("prod"), "postgres-g1")
    plan = plan_of("prod", *FAILBACK_PROD)
    dbs = instances(plan)
    assert sorted(dbs) == ["postgres-g1", "postgres-g3"]
    old, new = dbs["postgres-g1"], dbs["postgres-g3"]
    assert old.urn == normal.urn
    assert old.inputs["identifier"] == "reskflow-postgres-g1"
    assert new.inputs["identifier"] == "reskflow-postgres-g3"
    assert new.inputs["replicateSourceDb"] == pg_arn("us-west-2", 2)
    assert new.inputs["kmsKeyId"] == PROD_KEY
    assert [k for k in CREDENTIALS if k in new.inputs] == []
    assert old.options["protect"] is True
    assert old.options["retainOnDelete"] is True
    assert old.inputs["deletionProtection"] is True
    assert "replicateSourceDb" not in old.inputs
    assert plan.outputs["postgres"]["retainedIdentifiers"] == ["reskflow-postgres-g1"]


def test_a_retained_generation_is_fenced_and_frozen(plan_of: PlanOf) -> None:
    plan = plan_of("prod", *FAILBACK_PROD)
    old, live = named(plan, "postgres-g1"), named(plan, "postgres-g3")
    fence = named(plan, "postgres-fence-sg")
    assert fence.inputs["name"] == "reskflow-postgres-fenced"
    fence_rules = [r for r in plan.resources if r.parent == fence.parent and r is not fence]
    assert fence_rules == []  # no ingress at all: nothing writes to an old primary
    assert live.inputs["vpcSecurityGroupIds"] == [sg_id(plan, "postgres-firewall")]
    assert old.inputs["vpcSecurityGroupIds"] != live.inputs["vpcSecurityGroupIds"]
    assert len(old.inputs["vpcSecurityGroupIds"]) == 1
    frozen = set(old.options["ignoreChanges"])
    assert frozen == set(old.inputs) - {"deletionProtection", "tags", "vpcSecurityGroupIds"} | {
        "dbName",
        "manageMasterUserPassword",
        "masterUserSecretKmsKeyId",
        "replicateSourceDb",
        "username",
    }
    # Every ignored name is a real property of an RDS instance.
    primary = named(plan_of("prod"), "postgres-g1")
    assert frozen <= set(primary.inputs) | {"replicateSourceDb"}


def test_a_passive_stack_can_carry_several_generations(plan_of: PlanOf) -> None:
    plan = plan_of("dr", "reskflow:dbGeneration=4", "reskflow:retainedDbGenerations=[2, 3]")
    dbs = instances(plan)
    assert sorted(dbs) == ["postgres-g2", "postgres-g3", "postgres-g4"]
    assert dbs["postgres-g4"].inputs["replicateSourceDb"] == pg_arn("us-east-1", 1)
    assert {n: d.options["retainOnDelete"] and d.options["protect"] for n, d in dbs.items()} == {
        "postgres-g2": True,
        "postgres-g3": True,
        "postgres-g4": True,
    }
    assert plan.outputs["postgres"]["retainedIdentifiers"] == [
        "reskflow-postgres-g2",
        "reskflow-postgres-g3",
    ]


def test_the_primary_backups_are_replicated_to_the_peer_region(plan_of: PlanOf) -> None:
    plan = plan_of("prod")
    copies = plan.of_type(
        "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
    )
    assert [c.name for c in copies] == ["postgres-backups-replication"]
    copy = copies[0]
    assert copy.region == "us-west-2"
    assert copy.inputs == {
        "sourceDbInstanceArn": pg_arn("us-east-1", 1),
        "kmsKeyId": f"arn:aws:kms:us-west-2:{ACCOUNT}:key/{PROD_KEY_ID}",
        "retentionPeriod": 7,
        "region": "us-west-2",
    }


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [
        ("dr", ()),  # a replica has no backups of its own to copy yet
        ("dr", PROMOTE_DR),  # the peer is lost: nothing to copy to
        ("prod", ("reskflow:peerDeployed=false",)),  # no key in the peer region yet
    ],
)
def test_no_backup_copy_without_a_reachable_peer(
    plan_of: PlanOf, stack: str, overrides: tuple[str, ...]
) -> None:
    plan = plan_of(stack, *overrides)
    assert plan.of_type("reskflow:data:PostgresBackupCopy") == []


# --------------------------------------------------------------------------------------------
# Redis and DocumentDB
# --------------------------------------------------------------------------------------------


def test_home_stack_creates_the_redis_global_datastore(plan_of: PlanOf) -> None:
    plan = plan_of("prod")
    group, datastore = named(plan, "redis-group"), named(plan, "redis-global")
    assert group.inputs == {
        "replicationGroupId": "reskflow-redis-us-east-1",
        "description": "ReskFlow Redis (Global Datastore member)",
        "engine": "redis",
        "engineVersion": "7.1",
        "nodeType": "cache.r6g.large",
        "numCacheClusters": 2,
        "automaticFailoverEnabled": True,
        "multiAzEnabled": True,
        "atRestEncryptionEnabled": True,
        "kmsKeyId": PROD_KEY,
        "transitEncryptionEnabled": True,
        "authToken": "[secret]",
        "port": 6379,
        "subnetGroupName": "reskflow-redis-us-east-1",
        "securityGroupIds": [sg_id(plan, "redis-firewall")],
        "snapshotRetentionLimit": 7,
        "snapshotWindow": "05:00-06:00",
        "maintenanceWindow": "sun:06:30-sun:07:30",
        "finalSnapshotIdentifier": "reskflow-redis-us-east-1-final",
        "tags": {"reskflow:backup": "dr", "reskflow:store": "redis"},
    }
    assert group.options["ignoreChanges"] == ["engineVersion", "nodeType"]
    assert datastore.inputs == {
        "globalReplicationGroupIdSuffix": "reskflow-redis",
        "globalReplicationGroupDescription": "ReskFlow Redis across regions",
        "primaryReplicationGroupId": "reskflow-redis-us-east-1",
        "cacheNodeType": "cache.r6g.large",
        "engineVersion": "7.1",
    }
    assert datastore.options["ignoreChanges"] == ["primaryReplicationGroupId"]
    assert datastore.options["protect"] and datastore.options["retainOnDelete"]


def test_the_other_stack_joins_the_global_datastore_as_secondary(plan_of: PlanOf) -> None:
    plan = plan_of("dr")
    group = named(plan, "redis-group")
    assert plan.of_type("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup") == []
    # The id the home stack exports is the one the dr stack file names.
    assert plan_of("prod").outputs["cacheGlobalDatastoreId"] == "uvxag-reskflow-redis"
    assert group.inputs["globalReplicationGroupId"] == "uvxag-reskflow-redis"
    assert group.inputs["kmsKeyId"] == DR_KEY
    inherited = ("engine", "engineVersion", "nodeType", "atRestEncryptionEnabled")
    assert [
        k for k in (*inherited, "transitEncryptionEnabled", "authToken") if k in group.inputs
    ] == []
    assert group.inputs["numCacheClusters"] == 2
    assert group.inputs["multiAzEnabled"] is True
    assert group.inputs["snapshotRetentionLimit"] == 7
    assert group.options["ignoreChanges"] == ["globalReplicationGroupId"]
    assert group.options["protect"] and group.options["retainOnDelete"]


@pytest.mark.parametrize("name", ["redis-group", "docdb-cluster"])
def test_global_store_members_do_not_change_with_the_role(plan_of: PlanOf, name: str) -> None:
    before, after = named(plan_of("dr"), name), named(plan_of("dr", *PROMOTE_DR), name)
    assert (after.urn, after.inputs, after.options) == (before.urn, before.inputs, before.options)


def test_home_stack_creates_the_documentdb_global_cluster(plan_of: PlanOf) -> None:
    plan = plan_of("prod")
    global_cluster, cluster = named(plan, "docdb-global"), named(plan, "docdb-cluster")
    assert global_cluster.inputs == {
        "globalClusterIdentifier": "reskflow-docdb",
        "engine": "docdb",
        "engineVersion": "5.0.0",
        "storageEncrypted": True,
        "deletionProtection": True,
    }
    assert global_cluster.options["protect"] and global_cluster.options["retainOnDelete"]
    assert subset(cluster.inputs, {"globalClusterIdentifier": 0, "masterUsername": 0}) == {
        "globalClusterIdentifier": "reskflow-docdb",
        "masterUsername": "reskflowadmin",
    }
    assert cluster.inputs["masterPassword"] == "[secret]"
    assert cluster.inputs["storageEncrypted"] is True
    assert cluster.inputs["kmsKeyId"] == PROD_KEY
    assert cluster.inputs["deletionProtection"] is True
    assert cluster.inputs["skipFinalSnapshot"] is False
    assert cluster.inputs["backupRetentionPeriod"] == 7
    assert cluster.inputs["enabledCloudwatchLogsExports"] == ["audit", "profiler"]
    assert cluster.inputs["dbClusterParameterGroupName"] == "reskflow-docdb-us-east-1-tls-docdb5-0"
    assert named(plan, "docdb-tls").inputs["parameters"] == [{"name": "tls", "value": "enabled"}]
    assert cluster.options["ignoreChanges"] == ["globalClusterIdentifier"]
    members = [
        r.inputs["identifier"] for r in plan.of_type("aws:docdb/clusterInstance:ClusterInstance")
    ]
    assert sorted(members) == ["reskflow-docdb-us-east-1-1", "reskflow-docdb-us-east-1-2"]


def test_the_other_stack_joins_the_documentdb_global_cluster(plan_of: PlanOf) -> None:
    plan = plan_of("dr")
    cluster = named(plan, "docdb-cluster")
    assert plan.of_type("aws:docdb/globalCluster:GlobalCluster") == []
    assert cluster.inputs["clusterIdentifier"] == "reskflow-docdb-us-west-2"
    assert cluster.inputs["globalClusterIdentifier"] == "reskflow-docdb"
    assert cluster.inputs["kmsKeyId"] == DR_KEY
    assert cluster.inputs["storageEncrypted"] is True
    assert "masterUsername" not in cluster.inputs
    assert "masterPassword" not in cluster.inputs


# --------------------------------------------------------------------------------------------
# Network, protection, exports
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "app_sg", "vpc"),
    [("prod", PROD_APP_SG, "vpc-0a1b2c3d4e5f60718"), ("dr", DR_APP_SG, "vpc-0f9e8d7c6b5a40312")],
)
def test_stores_accept_only_the_allowed_groups(
    plan_of: PlanOf, stack: str, app_sg: str, vpc: str
) -> None:
    plan = plan_of(stack)
    rules = plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert sorted((r.name, r.inputs["fromPort"], r.inputs["toPort"]) for r in rules) == [
        (f"docdb-firewall-from-{app_sg}", 27017, 27017),
        (f"postgres-firewall-from-{app_sg}", 5432, 5432),
        (f"redis-firewall-from-{app_sg}", 6379, 6379),
    ]
    assert {r.inputs["referencedSecurityGroupId"] for r in rules} == {app_sg}
    assert {r.inputs["ipProtocol"] for r in rules} == {"tcp"}
    groups = plan.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert {g.inputs["vpcId"] for g in groups} == {vpc}
    assert [g.name for g in groups if "ingress" in g.inputs or "egress" in g.inputs] == []


DATA_TYPES = (
    "aws:rds/instance:Instance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
    "aws:docdb/cluster:Cluster",
    "aws:docdb/globalCluster:GlobalCluster",
)
TAGGABLE = ("aws:rds/instance:Instance", "aws:elasticache/replicationGroup:ReplicationGroup")


@pytest.mark.parametrize(
    ("stack", "overrides"), [("prod", ()), ("dr", ()), ("prod", FAILBACK_PROD)]
)
def test_every_data_store_is_protected_retained_and_tagged(
    plan_of: PlanOf, stack: str, overrides: tuple[str, ...]
) -> None:
    plan = plan_of(stack, *overrides)
    stores = [r for r in plan.resources if r.type in DATA_TYPES]
    assert stores
    assert [
        r.name for r in stores if not (r.options["protect"] and r.options["retainOnDelete"])
    ] == []
    tagged = [r for r in stores if r.type in (*TAGGABLE, "aws:docdb/cluster:Cluster")]
    replicas = {r.name for r in tagged if r.inputs.get("replicateSourceDb")}
    assert {r.inputs["tags"]["reskflow:backup"] for r in tagged if r.name not in replicas} == {"dr"}
    # Read replicas are left out of the backup selection (docs/backups.md).
    assert {r.inputs["tags"]["reskflow:backup"] for r in tagged if r.name in replicas} <= {
        "replica-excluded"
    }


def test_exports_for_the_peer_and_operators(plan_of: PlanOf) -> None:
    prod, dr = plan_of("prod").outputs, plan_of("dr").outputs
    assert prod["dbGeneration"] == 1
    assert dr["dbGeneration"] == 2
    assert {k: v for k, v in prod["postgres"].items() if k != "endpoint"} == {
        "role": "primary",
        "generation": 1,
        "identifier": "reskflow-postgres-g1",
        "arn": pg_arn("us-east-1", 1),
        "masterUserSecretArn": prod["postgres"]["masterUserSecretArn"],
        "retainedIdentifiers": [],
    }
    assert prod["postgres"]["masterUserSecretArn"].startswith(
        f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!db-"
    )
    assert prod["postgres"]["endpoint"].startswith("reskflow-postgres-g1.")
    assert prod["postgres"]["endpoint"].endswith(".us-east-1.rds.amazonaws.com:5432")
    assert dr["postgres"]["role"] == "replica"
    assert dr["postgres"]["sourceArn"] == pg_arn("us-east-1", 1)
    assert dr["postgres"]["arn"] == pg_arn("us-west-2", 2)
    assert (prod["redis"]["globalPrimaryRegion"], dr["redis"]["globalPrimaryRegion"]) == (
        "us-east-1",
        "us-east-1",
    )
    assert dr["redis"]["globalDatastoreId"] == prod["cacheGlobalDatastoreId"]
    assert dr["docdb"]["arn"] == f"arn:aws:rds:us-west-2:{ACCOUNT}:cluster:reskflow-docdb-us-west-2"
    assert "cacheGlobalDatastoreId" not in dr


def test_no_secret_reaches_the_plan_in_clear(plan_of: PlanOf) -> None:
    plan = plan_of("prod")
    text = json.dumps(plan.to_json())
    assert plan.config["reskflow:cacheAuthToken"] == "[secret]"
    assert plan.config["reskflow:docdbMasterPassword"] == "[secret]"
    secret_inputs = {
        (r.name, k): v
        for r in plan.resources
        if not belongs_to_workloads(r)  # their credentials are checked in test_workloads.py
        for k, v in r.inputs.items()
        if "password" in k.lower() or "token" in k.lower()
    }
    assert secret_inputs == {
        ("postgres-g1", "manageMasterUserPassword"): True,  # RDS generates and keeps it
        ("redis-group", "authToken"): "[secret]",
        ("docdb-cluster", "masterPassword"): "[secret]",
    }
    # No Pulumi ciphertext ("v1:..."); Kubernetes type tokens (".../v1:Kind") are not one.
    assert not re.search(r"(?<![/\w])v1:", text)
