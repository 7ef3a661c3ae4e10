"""A test program declaring every resource type the topology diagram knows, in both roles.

us-east-1 holds the primaries; us-west-2 the replica, the secondary members and a drained
health check. Run by tests/test_graph.py through the offline preview, like infra/.
"""

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

ACCOUNT = "123456789012"
region = pulumi.Config("aws").require("region")
active = region == "us-east-1"
peer = "us-west-2" if active else "us-east-1"
suffix = "east" if active else "west"

aws_opts = pulumi.ResourceOptions(provider=aws.Provider(f"aws-{region}", region=region))
data = pulumi.ResourceOptions.merge(
    aws_opts, pulumi.ResourceOptions(protect=True, retain_on_delete=True)
)

if active:
    aws.rds.Instance(
        "orders-db",
        identifier="reskflow-orders",
        engine="postgres",
        instance_class="db.r6g.large",
        allocated_storage=20,
        opts=data,
    )
    global_cluster = aws.docdb.GlobalCluster(
        "sessions-global",
        global_cluster_identifier="reskflow-sessions",
        engine="docdb",
        opts=data,
    )
    member_of = global_cluster.global_cluster_identifier
    primary_cache = aws.elasticache.ReplicationGroup(
        "cache", replication_group_id="reskflow-cache-east", description="cache", opts=data
    )
    aws.elasticache.GlobalReplicationGroup(
        "cache-global",
        global_replication_group_id_suffix="reskflow-cache",
        primary_replication_group_id=primary_cache.id,
        opts=data,
    )
else:
    aws.rds.Instance(
        "orders-replica",
        identifier="reskflow-orders-g1",
        replicate_source_db=f"arn:aws:rds:{peer}:{ACCOUNT}:db:reskflow-orders",
        instance_class="db.r6g.large",
        opts=data,
    )
    member_of = pulumi.Output.from_input("reskflow-sessions")
    aws.elasticache.ReplicationGroup(
        "cache",
        replication_group_id="reskflow-cache-west",
        description="cache",
        global_replication_group_id="ldgnf-reskflow-cache",  # AWS prefixes the suffix
        opts=data,
    )

aws.docdb.Cluster(
    "sessions",
    cluster_identifier=f"reskflow-sessions-{suffix}",
    global_cluster_identifier=member_of,
    opts=data,
)
vault = aws.backup.Vault("vault", name=f"reskflow-{region}", opts=data)
aws.backup.Plan(
    "plan",
    name=f"reskflow-{region}",
    rules=[
        aws.backup.PlanRuleArgs(
            rule_name="daily",
            target_vault_name=vault.name,
            schedule="cron(0 5 ? * * *)",
            lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=7),
            copy_actions=[
                aws.backup.PlanRuleCopyActionArgs(
                    destination_vault_arn=(
                        f"arn:aws:backup:{peer}:{ACCOUNT}:backup-vault:reskflow-{peer}"
                    ),
                    lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(delete_after=7),
                )
            ],
        )
    ],
    opts=aws_opts,
)
check = aws.route53.HealthCheck(
    "api-check",
    type="HTTPS",
    fqdn=f"api-{region}.reskflow.example",
    resource_path="/health",
    request_interval=10,
    failure_threshold=3,
    disabled=not active,
    invert_healthcheck=not active,
    opts=aws_opts,
)
aws.route53.Record(
    "api",
    zone_id="Z123",
    name="api.reskflow.example",
    type="CNAME",
    ttl=60,
    records=[f"lb-{region}.reskflow.example"],
    set_identifier=region,
    health_check_id=check.id,
    failover_routing_policies=[
        aws.route53.RecordFailoverRoutingPolicyArgs(type="PRIMARY" if active else "SECONDARY")
    ],
    opts=aws_opts,
)
aws.route53.Record(  # a plain record: not part of failover, not drawn
    "www",
    zone_id="Z123",
    name="www.reskflow.example",
    type="CNAME",
    ttl=300,
    records=["x"],
    opts=aws_opts,
)
aws.sns.Topic("alerts", opts=aws_opts)  # neither a known type nor data-bearing: not drawn
aws.dynamodb.Table(  # data-bearing, of a type the diagram has no row for: a plain store
    "ledger",
    hash_key="id",
    attributes=[aws.dynamodb.TableAttributeArgs(name="id", type="S")],
    billing_mode="PAY_PER_REQUEST",
    opts=data,
)
k8s.apps.v1.Deployment(
    "api",
    metadata={"name": "api", "namespace": "reskflow"},
    spec={
        "replicas": 3 if active else 0,
        "selector": {"match_labels": {"app": "api"}},
        "template": {
            "metadata": {"labels": {"app": "api"}},
            "spec": {"containers": [{"name": "api", "image": "reskflow/api:1"}]},
        },
    },
    opts=pulumi.ResourceOptions(provider=k8s.Provider("k8s", kubeconfig="{}")),
)
