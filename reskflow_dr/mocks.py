"""Realistic mocked provider responses for the offline preview.

AWS computes ids and ARNs on create; offline, :class:`PlanMocks` derives them from the resource's
name, its provider's region and the account id in config, so that everything the program computes
from them (peer ARNs, policies) has the shape it will have for real.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pulumi

State = dict[str, Any]
Derive = Callable[["ResourceContext"], State]


class ResourceContext:
    """What a state derivation may use: the resource's name, inputs, region and account."""

    def __init__(self, name: str, inputs: State, region: str, account: str) -> None:
        self.name = name
        self.inputs = inputs
        self.region = region
        self.account = account

    def digest(self, length: int = 32) -> str:
        return hashlib.sha256(f"{self.region}/{self.name}".encode()).hexdigest()[:length]

    def physical_name(self, *keys: str) -> str:
        for key in keys:
            value = self.inputs.get(key)
            if isinstance(value, str) and value:
                return value
        return f"{self.name}-{self.digest(7)}"

    def arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:aws:{service}:{self.region if region else ''}:"
            f"{self.account if account else ''}:{resource}"
        )


def _provider(ctx: ResourceContext) -> State:
    return {"id": ctx.digest(36)}


def _bucket(ctx: ResourceContext) -> State:
    name = ctx.physical_name("bucket")
    return {
        "id": name,
        "bucket": name,
        "arn": f"arn:aws:s3:::{name}",
        "bucketDomainName": f"{name}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{name}.s3.{ctx.region}.amazonaws.com",
        "region": ctx.region,
    }


def _kms_key(ctx: ResourceContext) -> State:
    key_id = ("mrk-" if ctx.inputs.get("multiRegion") else "") + ctx.digest(32)
    return {"id": key_id, "keyId": key_id, "arn": ctx.arn("kms", f"key/{key_id}")}


def _kms_replica_key(ctx: ResourceContext) -> State:
    key_id = str(ctx.inputs.get("primaryKeyArn", "")).rsplit("/", 1)[-1] or ctx.digest(32)
    return {"id": key_id, "keyId": key_id, "arn": ctx.arn("kms", f"key/{key_id}")}


def _kms_alias(ctx: ResourceContext) -> State:
    name = ctx.physical_name("name")
    return {"id": name, "arn": ctx.arn("kms", name)}


def _iam_role(ctx: ResourceContext) -> State:
    name = ctx.physical_name("name")
    return {
        "id": name,
        "name": name,
        "arn": ctx.arn("iam", f"role/{name}", region=False),
        "uniqueId": "AROA" + ctx.digest(17).upper(),
    }


def _iam_role_policy(ctx: ResourceContext) -> State:
    return {"id": f"{ctx.inputs.get('role', '')}:{ctx.physical_name('name')}"}


def _bucket_child(ctx: ResourceContext) -> State:
    return {"id": str(ctx.inputs.get("bucket", ctx.name))}


# AWS Backup, Route 53, SNS, CloudWatch and EventBridge ------------------------------------


def _uuid(ctx: ResourceContext) -> str:
    d = ctx.digest(32)
    return f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:]}"


def _backup_vault(ctx: ResourceContext) -> State:
    name = ctx.physical_name("name")
    return {"id": name, "name": name, "arn": ctx.arn("backup", f"backup-vault:{name}")}


def _backup_vault_child(ctx: ResourceContext) -> State:
    name = str(ctx.inputs.get("backupVaultName", ctx.name))
    return {"id": name, "backupVaultArn": ctx.arn("backup", f"backup-vault:{name}")}


def _backup_plan(ctx: ResourceContext) -> State:
    plan_id = _uuid(ctx)
    return {"id": plan_id, "arn": ctx.arn("backup", f"backup-plan:{plan_id}"), "version": "v1"}


def _backup_selection(ctx: ResourceContext) -> State:
    return {"id": _uuid(ctx)}


def _restore_testing_plan(ctx: ResourceContext) -> State:
    name = ctx.physical_name("name")
    return {
        "id": name,
        "arn": ctx.arn("backup", f"restore-testing-plan:{name}-{_uuid(ctx)}"),
    }


def _restore_testing_selection(ctx: ResourceContext) -> State:
    return {"id": f"{ctx.physical_name('name')}:{ctx.inputs.get('restoreTestingPlanName', '')}"}


def _backup_framework(ctx: ResourceContext) -> State:
    name = ctx.physical_name("name")
    return {
        "id": name,
        "arn": ctx.arn("backup", f"framework:{name}-{_uuid(ctx)}"),
        "deploymentStatus": "COMPLETED",
        "status": "ACTIVE",
    }


def _health_check(ctx: ResourceContext) -> State:
    check_id = _uuid(ctx)
    return {"id": check_id, "arn": f"arn:aws:route53:::healthcheck/{check_id}"}


def _record(ctx: ResourceContext) -> State:
    name = str(ctx.inputs.get("name", ctx.name))
    parts = [ctx.inputs.get("zoneId", ""), name, ctx.inputs.get("type", "")]
    parts += [ctx.inputs["setIdentifier"]] if ctx.inputs.get("setIdentifier") else []
    return {"id": "_".join(str(p) for p in parts), "fqdn": name}


def _sns_topic(ctx: ResourceContext) -> State:
    name = ctx.physical_name("name")
    arn = ctx.arn("sns", name)
    return {"id": arn, "arn": arn, "name": name, "owner": ctx.account}


def _sns_subscription(ctx: ResourceContext) -> State:
    arn = f"{ctx.inputs.get('topic', '')}:{_uuid(ctx)}"
    return {"id": arn, "arn": arn, "pendingConfirmation": ctx.inputs.get("protocol") == "email"}


def _metric_alarm(ctx: ResourceContext) -> State:
    name = ctx.physical_name("name")
    return {"id": name, "arn": ctx.arn("cloudwatch", f"alarm:{name}")}


def _event_rule(ctx: ResourceContext) -> State:
    name = ctx.physical_name("name")
    return {"id": name, "name": name, "arn": ctx.arn("events", f"rule/{name}")}


def _event_target(ctx: ResourceContext) -> State:
    return {"id": f"{ctx.inputs.get('rule', '')}-{ctx.inputs.get('targetId', ctx.name)}"}


def _role_policy_attachment(ctx: ResourceContext) -> State:
    return {"id": f"{ctx.inputs.get('role', '')}-{ctx.digest(20)}"}


def _by_arn(ctx: ResourceContext) -> State:
    return {"id": str(ctx.inputs.get("arn", ctx.name))}


def _distribution(ctx: ResourceContext) -> State:
    """CloudFront ids are E + upper-case letters/digits; its ARNs have no region."""
    dist_id = "E" + ctx.digest(13).upper()
    return {
        "id": dist_id,
        "arn": f"arn:aws:cloudfront::{ctx.account}:distribution/{dist_id}",
        "domainName": f"d{ctx.digest(13)}.cloudfront.net",
        "hostedZoneId": "Z2FDTNDATAQYW2",
    }


def _web_acl(ctx: ResourceContext) -> State:
    """WAFv2 ARNs name the scope: ``global`` for CLOUDFRONT, ``regional`` otherwise."""
    name = ctx.physical_name("name")
    scope = "global" if ctx.inputs.get("scope") == "CLOUDFRONT" else "regional"
    acl_id = _uuid(ctx)
    return {"id": acl_id, "arn": ctx.arn("wafv2", f"{scope}/webacl/{name}/{acl_id}")}


_LATER_TIERS: dict[str, Derive] = {
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    "aws:backup/vault:Vault": _backup_vault,
    "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault": _backup_vault,
    "aws:backup/vaultPolicy:VaultPolicy": _backup_vault_child,
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": _backup_vault_child,
    "aws:backup/plan:Plan": _backup_plan,
    "aws:backup/selection:Selection": _backup_selection,
    "aws:backup/restoreTestingPlan:RestoreTestingPlan": _restore_testing_plan,
    "aws:backup/restoreTestingSelection:RestoreTestingSelection": _restore_testing_selection,
    "aws:backup/framework:Framework": _backup_framework,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _role_policy_attachment,
    "aws:route53/healthCheck:HealthCheck": _health_check,
    "aws:route53/record:Record": _record,
    "aws:sns/topic:Topic": _sns_topic,
    "aws:sns/topicPolicy:TopicPolicy": _by_arn,
    "aws:sns/topicSubscription:TopicSubscription": _sns_subscription,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _metric_alarm,
    "aws:cloudwatch/eventRule:EventRule": _event_rule,
    "aws:cloudwatch/eventTarget:EventTarget": _event_target,
}


#: State derivations by type token. Later tiers add their types here.
DERIVATIONS: dict[str, Derive] = {
    "pulumi:providers:aws": _provider,
    "pulumi:providers:kubernetes": _provider,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/replicaKey:ReplicaKey": _kms_replica_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/rolePolicy:RolePolicy": _iam_role_policy,
}
for _token in (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
):
    DERIVATIONS[_token] = _bucket_child
DERIVATIONS.update(_LATER_TIERS)


# Kubernetes objects (components/workloads.py, components/backup_jobs.py).
def _kubernetes_object(ctx: ResourceContext) -> State:
    """The API server's id is ``namespace/name`` (``name`` alone for cluster-scoped objects)."""
    meta = ctx.inputs.get("metadata") or {}
    name = str(meta.get("name") or f"{ctx.name}-{ctx.digest(8)}")
    namespace = meta.get("namespace")
    return {"id": f"{namespace}/{name}" if namespace else name}


for _token in (
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Service",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:policy/v1:PodDisruptionBudget",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:batch/v1:CronJob",
):
    DERIVATIONS[_token] = _kubernetes_object


def _generic(token: str, ctx: ResourceContext) -> State:
    """Any other AWS type: an id from its name and an ARN in the service's usual shape."""
    module = token.split(":")[1].split("/")[0] if token.count(":") >= 2 else "resource"
    name = ctx.physical_name("name", "identifier", "clusterIdentifier")
    kind = token.rsplit(":", 1)[-1].lower()
    return {"id": name, "arn": ctx.arn(module, f"{kind}/{name}")}


STACK_REFERENCE = "pulumi:pulumi:StackReference"
#: Region of each stack of this program.
_STACK_REGIONS = {"prod": "us-east-1", "dr": "us-west-2"}


def offline_stack_outputs(stack_name: str, account: str) -> State:
    """What a referenced stack of this program exports, with the ids these mocks give its
    resources of the same names (the failover tier's switch and fences, the endpoint probe):
    deterministic, so an offline preview of one stack sees its peer as deployed. Its ``role`` is
    left out: offline, the split-brain guard reads the peer's stack file instead."""
    stack = stack_name.rsplit("/", 1)[-1]
    region = _STACK_REGIONS.get(stack)
    if region is None:
        return {}

    def ctx(resource: str, **inputs: Any) -> ResourceContext:
        return ResourceContext(resource, inputs, region, account)

    fences = {
        kind: _security_group(ctx(f"{component}-fence-sg"))["id"]
        for kind, component in (("postgres", "postgres"), ("docdb", "docdb"), ("cache", "redis"))
    }
    facts: State = {"fenceSecurityGroupIds": {region: fences}}
    if region == "us-west-2":  # the switch owner (infra/settings/failover.py)
        regions = ("us-east-1", "us-west-2")
        facts["switchHealthCheckIds"] = {
            r: _health_check(ctx(f"switch-{r}-check"))["id"] for r in regions
        }
        facts["routingControlArns"] = {
            r: _route53_recovery(ctx(f"switch-{r}", name=f"reskflow-{r}"), "routingcontrol")["arn"]
            for r in regions
        }
        cluster = _route53_recovery(ctx("switch-cluster", name="reskflow-dr"), "cluster")
        facts["clusterArn"] = cluster["arn"]
        facts["clusterEndpoints"] = cluster["clusterEndpoints"]
        facts["controlPanelArn"] = _route53_recovery(
            ctx("switch-panel", name="reskflow-traffic"), "controlpanel"
        )["arn"]
    return {"healthCheckId": _health_check(ctx("api-health-check"))["id"], "failoverFacts": facts}


def _route53_recovery(ctx: ResourceContext, kind: str) -> State:
    """ARC recovery-control resources as :func:`_generic` derives them."""
    token = {
        "cluster": "aws:route53recoverycontrol/cluster:Cluster",
        "controlpanel": "aws:route53recoverycontrol/controlPanel:ControlPanel",
        "routingcontrol": "aws:route53recoverycontrol/routingControl:RoutingControl",
    }[kind]
    return {**_generic(token, ctx), "clusterEndpoints": []}


class PlanMocks(pulumi.runtime.Mocks):
    """Mocks that answer like AWS would, for the region of each resource's provider."""

    def __init__(
        self,
        account_id: str,
        default_region: str,
        stack_outputs: dict[str, State] | None = None,
    ) -> None:
        self.account_id = account_id
        self.default_region = default_region
        self.provider_regions: dict[str, str] = {}
        self.stack_outputs = stack_outputs
        """Outputs of referenced stacks by name; None: derived (:func:`offline_stack_outputs`);
        a stack missing from a given map reads as having no outputs (not deployed)."""

    def region_of(self, provider_ref: str | None, inputs: State) -> str:
        """A resource's own ``region`` input, else its provider's region (by provider reference
        ``urn::id``, registered by the recording monitor)."""
        if isinstance(inputs.get("region"), str):
            return str(inputs["region"])
        return self.provider_regions.get(provider_ref or "", self.default_region)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, State]:
        inputs = dict(args.inputs)
        if args.typ == STACK_REFERENCE:
            name = str(inputs.get("name") or args.name)
            if self.stack_outputs is None:
                outputs = offline_stack_outputs(name, self.account_id)
            else:
                outputs = self.stack_outputs.get(name, {})
            return name, {"name": name, "outputs": outputs, "secretOutputNames": []}
        region = self.region_of(args.provider, inputs)
        ctx = ResourceContext(args.name, inputs, region, self.account_id)
        derive = DERIVATIONS.get(args.typ)
        computed = derive(ctx) if derive is not None else _generic(args.typ, ctx)
        resource_id = str(computed.pop("id"))
        return resource_id, {**computed, **inputs}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[State, list[tuple[str, str]]]:
        token = args.token
        region = self.region_of(args.provider, dict(args.args))
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:aws:iam::{self.account_id}:user/preview",
                "userId": "AIDAPREVIEW",
                "id": self.account_id,
            }, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "id": region}, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        return {}, []


# --------------------------------------------------------------------------------------------
# Data tier: RDS, ElastiCache, DocumentDB and their network pieces
# --------------------------------------------------------------------------------------------

#: ElastiCache's short region codes in endpoint names.
_CACHE_REGION_CODES = {"us-east-1": "use1", "us-west-2": "usw2"}


def _endpoint_tag(ctx: ResourceContext) -> str:
    """The per-account, per-region label AWS puts in RDS and DocumentDB endpoint names."""
    return hashlib.sha256(f"{ctx.account}/{ctx.region}".encode()).hexdigest()[:12]


def _named(prefix: str, kind: str, *keys: str) -> Derive:
    """A resource whose id is its name, with an ARN ``arn:aws:<prefix>:...:<kind>:<name>``."""

    def derive(ctx: ResourceContext) -> State:
        name = ctx.physical_name(*keys)
        return {"id": name, "arn": ctx.arn(prefix, f"{kind}:{name}")}

    return derive


def _rds_instance(ctx: ResourceContext) -> State:
    identifier = ctx.physical_name("identifier")
    address = f"{identifier}.{_endpoint_tag(ctx)}.{ctx.region}.rds.amazonaws.com"
    port = int(ctx.inputs.get("port") or 5432)
    resource_id = "db-" + ctx.digest(26).upper()
    state: State = {
        "id": resource_id,
        "resourceId": resource_id,
        "arn": ctx.arn("rds", f"db:{identifier}"),
        "address": address,
        "endpoint": f"{address}:{port}",
        "port": port,
        "hostedZoneId": "Z2R2ITUGPM61AM",
        "status": "available",
    }
    if ctx.inputs.get("manageMasterUserPassword"):
        secret = f"rds!{resource_id.lower()}-{ctx.digest(6)}"
        state["masterUserSecrets"] = [
            {
                "secretArn": ctx.arn("secretsmanager", f"secret:{secret}"),
                "kmsKeyId": ctx.inputs.get("masterUserSecretKmsKeyId", ""),
                "secretStatus": "active",
            }
        ]
    return state


def _backups_replication(ctx: ResourceContext) -> State:
    arn = ctx.arn("rds", f"auto-backup:ab-{ctx.digest(40)}")
    return {"id": arn, "dbiResourceId": "db-" + ctx.digest(26).upper()}


def _security_group(ctx: ResourceContext) -> State:
    group_id = "sg-" + ctx.digest(17)
    return {
        "id": group_id,
        "arn": ctx.arn("ec2", f"security-group/{group_id}"),
        "ownerId": ctx.account,
    }


def _ingress_rule(ctx: ResourceContext) -> State:
    rule_id = "sgr-" + ctx.digest(17)
    return {
        "id": rule_id,
        "securityGroupRuleId": rule_id,
        "arn": ctx.arn("ec2", f"security-group-rule/{rule_id}"),
    }


def _cache_group(ctx: ResourceContext) -> State:
    group_id = ctx.physical_name("replicationGroupId")
    code = _CACHE_REGION_CODES.get(ctx.region, ctx.region)
    host = f"{group_id}.{ctx.digest(6)}.{code}.cache.amazonaws.com"
    members = int(ctx.inputs.get("numCacheClusters") or 1)
    return {
        "id": group_id,
        "arn": ctx.arn("elasticache", f"replicationgroup:{group_id}"),
        "primaryEndpointAddress": f"master.{host}",
        "readerEndpointAddress": f"replica.{host}",
        "memberClusters": [f"{group_id}-{n:03d}" for n in range(1, members + 1)],
        "engineVersionActual": f"{ctx.inputs.get('engineVersion', '7.1')}.0",
    }


def global_datastore_prefix(region: str) -> str:
    """The 5-letter prefix ElastiCache puts before a Global Datastore suffix (AWS assigns one per
    region; offline, a stable stand-in)."""
    return "".join(chr(ord("a") + b % 26) for b in hashlib.sha256(region.encode()).digest()[:5])


def _global_datastore(ctx: ResourceContext) -> State:
    suffix = str(ctx.inputs.get("globalReplicationGroupIdSuffix", ctx.name))
    datastore_id = f"{global_datastore_prefix(ctx.region)}-{suffix}"
    return {
        "id": datastore_id,
        "globalReplicationGroupId": datastore_id,
        "arn": ctx.arn("elasticache", f"globalreplicationgroup:{datastore_id}", region=False),
    }


def _docdb_global(ctx: ResourceContext) -> State:
    identifier = ctx.physical_name("globalClusterIdentifier")
    return {
        "id": identifier,
        "arn": ctx.arn("rds", f"global-cluster:{identifier}", region=False),
        "globalClusterResourceId": "cluster-" + ctx.digest(26).upper(),
    }


def _docdb_cluster(ctx: ResourceContext) -> State:
    identifier = ctx.physical_name("clusterIdentifier")
    domain = f"{_endpoint_tag(ctx)}.{ctx.region}.docdb.amazonaws.com"
    return {
        "id": identifier,
        "arn": ctx.arn("rds", f"cluster:{identifier}"),
        "endpoint": f"{identifier}.cluster-{domain}",
        "readerEndpoint": f"{identifier}.cluster-ro-{domain}",
        "clusterResourceId": "cluster-" + ctx.digest(26).upper(),
        "hostedZoneId": "ZNKXH85TT8WVW",
    }


def _docdb_instance(ctx: ResourceContext) -> State:
    identifier = ctx.physical_name("identifier")
    return {
        "id": identifier,
        "arn": ctx.arn("rds", f"db:{identifier}"),
        "endpoint": f"{identifier}.{_endpoint_tag(ctx)}.{ctx.region}.docdb.amazonaws.com",
        "port": 27017,
        "dbiResourceId": "db-" + ctx.digest(26).upper(),
    }


DERIVATIONS.update(
    {
        "aws:rds/instance:Instance": _rds_instance,
        "aws:rds/subnetGroup:SubnetGroup": _named("rds", "subgrp", "name"),
        "aws:rds/parameterGroup:ParameterGroup": _named("rds", "pg", "name"),
        "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": (
            _backups_replication
        ),
        "aws:ec2/securityGroup:SecurityGroup": _security_group,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ingress_rule,
        "aws:elasticache/subnetGroup:SubnetGroup": _named("elasticache", "subnetgroup", "name"),
        "aws:elasticache/replicationGroup:ReplicationGroup": _cache_group,
        "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": _global_datastore,
        "aws:docdb/globalCluster:GlobalCluster": _docdb_global,
        "aws:docdb/cluster:Cluster": _docdb_cluster,
        "aws:docdb/clusterInstance:ClusterInstance": _docdb_instance,
        "aws:docdb/clusterParameterGroup:ClusterParameterGroup": (
            _named("rds", "cluster-pg", "name")
        ),
        "aws:docdb/subnetGroup:SubnetGroup": _named("rds", "subgrp", "name"),
    }
)
