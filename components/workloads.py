"""The delivery platform's services on the region's cluster, sized by the stack's role.

One :class:`Workloads` per stack: the namespace (Pod Security Standard ``restricted``), a default
deny network policy plus DNS, the degraded-mode ConfigMap, and one :class:`AppService` per service
(Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget, NetworkPolicy).

Sizing: the HorizontalPodAutoscaler's ``minReplicas`` carries the role's count (full in the active
role, the pilot light in the passive role) and the Deployment leaves ``spec.replicas`` to it, as
Kubernetes recommends for autoscaled Deployments: with server-side apply a declared
``spec.replicas`` would conflict with the autoscaler. A count of 0 is the one exception: the
Deployment declares ``replicas: 0`` (the autoscaler leaves a Deployment at zero alone).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import k8s as kx
from components.degraded_mode import CATALOG_FILE, LEVEL_FILE, config_data

#: The seed's services all listen on 3000 and answer ``GET /health`` (RUN-001).
PORT = 3000
HEALTH_PATH = "/health"
#: Seed "Capacity Planning": scale out horizontally at 70 % CPU.
CPU_TARGET_PERCENT = 70
DEGRADED_MOUNT = "/etc/reskflow/degraded-mode"


@dataclass(frozen=True)
class ServiceSpec:
    """One of the seed's services and what it needs from the network."""

    name: str
    replicas: int
    """Replicas in the active role (RUN-002 restarts api-gateway with 5 and order-service with 3;
    RUN-001 restores "the original replica count" of 3)."""
    datastores: tuple[str, ...]
    """Data stores it connects to (keys of :data:`components.k8s.DATASTORES`)."""
    callers: tuple[str, ...] = ()
    """Services allowed to call it on its port."""
    public: bool = False
    """Reachable from outside the namespace (the load balancer in front of the gateway)."""
    third_party_https: bool = False
    """Calls third-party APIs over HTTPS (payment gateway, e-mail/SMS/push providers)."""
    cpu_request: str = "250m"
    memory_request: str = "256Mi"
    cpu_limit: str = "1"
    memory_limit: str = "512Mi"


#: The seed names api-gateway, order-service and user-service; the other three come from the
#: issue. Who calls whom is the smallest graph the seed's flows need (orders are paid and notified).
SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("api-gateway", 5, ("postgres", "redis"), public=True),
    ServiceSpec("order-service", 3, ("postgres", "redis"), callers=("api-gateway",)),
    ServiceSpec("user-service", 3, ("postgres", "redis"), callers=("api-gateway", "order-service")),
    ServiceSpec(
        "payment-service",
        3,
        ("postgres",),
        callers=("api-gateway", "order-service"),
        third_party_https=True,
    ),
    ServiceSpec("tracking-service", 3, ("mongodb", "redis"), callers=("api-gateway",)),
    ServiceSpec(
        "notification-service",
        3,
        ("mongodb",),
        callers=("api-gateway", "order-service"),
        third_party_https=True,
    ),
)


@dataclass(frozen=True)
class ServiceDeployment:
    """A service as this stack runs it."""

    spec: ServiceSpec
    image: str
    """Pinned image reference (tag or digest)."""
    replicas: int
    """Replicas for the stack's role: the autoscaler's floor."""
    max_replicas: int
    """The autoscaler's ceiling; the same in both roles, so a region that receives traffic
    before its role is switched can still scale out on CPU."""
    callees: tuple[str, ...] = ()
    """Services it calls (derived from the others' ``callers``)."""


@dataclass(frozen=True)
class AppServiceArgs:
    """Inputs of :class:`AppService`."""

    service: ServiceDeployment
    namespace: pulumi.Input[str]
    """Namespace of every object."""
    environment: Mapping[str, pulumi.Input[str]]
    """Plain environment shared by every service (region, role, read-only flag)."""
    database_endpoints: Mapping[str, pulumi.Input[str]]
    """Host name per data store engine (``postgres``, ``redis``, ``mongodb``)."""
    postgres_database: str
    """Name of the PostgreSQL database (``DATABASE_NAME``)."""
    degraded_config_map: pulumi.Input[str]
    """Name of the degraded-mode ConfigMap to mount."""


@dataclass(frozen=True)
class WorkloadsArgs:
    """Inputs of :class:`Workloads`."""

    namespace: str
    """Namespace created for the workloads (and the backup jobs)."""
    region: str
    """The stack's AWS region, passed to the services as ``AWS_REGION``."""
    role: str
    """``active`` or ``passive``: passive services are told they are read-only."""
    services: Sequence[ServiceDeployment]
    """The services, already sized for the role."""
    database_endpoints: Mapping[str, pulumi.Input[str]]
    """Host name per data store engine, from the database tier."""
    postgres_database: str
    """Name of the PostgreSQL database the services use."""
    degraded_level: str
    """Degraded-mode level in force (GREEN, YELLOW, ORANGE, RED)."""
    serves_traffic: bool | None = None
    """Whether the region may receive traffic (active and not fenced); None: active role."""


def with_callees(services: Sequence[ServiceDeployment]) -> list[ServiceDeployment]:
    """Fill each service's ``callees`` from the other services' ``callers``."""
    return [
        ServiceDeployment(
            spec=s.spec,
            image=s.image,
            replicas=s.replicas,
            max_replicas=s.max_replicas,
            callees=tuple(o.spec.name for o in services if s.spec.name in o.spec.callers),
        )
        for s in services
    ]


def role_environment(region: str, role: str, serves_traffic: bool | None = None) -> dict[str, str]:
    """What every service is told about where it runs; passive means no writes. Readiness
    contract (docs/workloads.md): ``GET /health`` answers 503 unless ``RESKFLOW_SERVES_TRAFFIC``
    is ``true`` and the service's database accepts writes; Route 53's endpoint probe requests
    that path, so a region that is not active, fenced or not yet promoted is never healthy."""
    serving = role == "active" if serves_traffic is None else serves_traffic
    return {
        "AWS_REGION": region,
        "RESKFLOW_REGION_ROLE": role,
        "RESKFLOW_READ_ONLY": "true" if role == "passive" else "false",
        "RESKFLOW_SERVES_TRAFFIC": "true" if serving else "false",
    }


def config_map_name(prefix: str, data: Mapping[str, str]) -> str:
    """A name derived from the content: a change creates a new ConfigMap (before the old one is
    deleted) and rolls the Deployments that mount it, so every pod agrees on the level."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]
    return f"{prefix}-{digest}"


# --------------------------------------------------------------------------------------------
# One service
# --------------------------------------------------------------------------------------------


def _http_probe(period: int, failures: int) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path=HEALTH_PATH, port="http", scheme="HTTP"),
        period_seconds=period,
        timeout_seconds=2,
        failure_threshold=failures,
        success_threshold=1,
    )


def _container(args: AppServiceArgs) -> k8s.core.v1.ContainerArgs:
    svc = args.service
    env = kx.plain_env(
        {
            "SERVICE_NAME": svc.spec.name,
            "PORT": str(PORT),
            "NODE_ENV": "production",
            **args.environment,
            "DEGRADED_MODE_CONFIG": f"{DEGRADED_MOUNT}/{CATALOG_FILE}",
        }
    )
    env.append(
        k8s.core.v1.EnvVarArgs(
            name="DEGRADED_MODE_LEVEL",
            value_from=k8s.core.v1.EnvVarSourceArgs(
                config_map_key_ref=k8s.core.v1.ConfigMapKeySelectorArgs(
                    name=args.degraded_config_map, key=LEVEL_FILE, optional=False
                )
            ),
        )
    )
    for engine in svc.spec.datastores:
        env += kx.datastore_env(engine, args.database_endpoints)
    if "postgres" in svc.spec.datastores:
        env += kx.plain_env({"DATABASE_NAME": args.postgres_database})
    return k8s.core.v1.ContainerArgs(
        name=svc.spec.name,
        image=svc.image,
        image_pull_policy="IfNotPresent",
        ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=PORT, protocol="TCP")],
        env=env,
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": svc.spec.cpu_request, "memory": svc.spec.memory_request},
            limits={"cpu": svc.spec.cpu_limit, "memory": svc.spec.memory_limit},
        ),
        startup_probe=_http_probe(period=5, failures=24),
        readiness_probe=_http_probe(period=10, failures=3),
        liveness_probe=_http_probe(period=20, failures=3),
        security_context=kx.container_security_context(),
        volume_mounts=[
            kx.tmp_mount(),
            k8s.core.v1.VolumeMountArgs(
                name="degraded-mode", mount_path=DEGRADED_MOUNT, read_only=True
            ),
        ],
    )


def _pod_spec(args: AppServiceArgs) -> k8s.core.v1.PodSpecArgs:
    app = args.service.spec.name
    return k8s.core.v1.PodSpecArgs(
        automount_service_account_token=False,
        security_context=kx.pod_security_context(),
        termination_grace_period_seconds=30,
        topology_spread_constraints=[
            k8s.core.v1.TopologySpreadConstraintArgs(
                max_skew=1,
                topology_key="topology.kubernetes.io/zone",
                when_unsatisfiable="ScheduleAnyway",
                label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app": app}),
            )
        ],
        containers=[_container(args)],
        volumes=[
            kx.tmp_volume(),
            k8s.core.v1.VolumeArgs(
                name="degraded-mode",
                config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=args.degraded_config_map),
            ),
        ],
    )


def _network_policy_spec(svc: ServiceDeployment) -> k8s.networking.v1.NetworkPolicySpecArgs:
    """Ingress on the service port from its callers (anyone for a public service); egress to the
    services it calls, its data stores, and HTTPS when it calls third parties."""
    ingress = [
        k8s.networking.v1.NetworkPolicyIngressRuleArgs(
            from_=None if svc.spec.public else kx.pods(*svc.spec.callers), ports=[kx.tcp(PORT)]
        )
    ]
    if not (svc.spec.public or svc.spec.callers):
        ingress = []
    egress = kx.datastore_egress(svc.spec.datastores)
    if svc.callees:
        egress.append(
            k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                to=kx.pods(*svc.callees), ports=[kx.tcp(PORT)]
            )
        )
    if svc.spec.third_party_https:
        egress.append(kx.https_egress())
    return k8s.networking.v1.NetworkPolicySpecArgs(
        pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app": svc.spec.name}),
        policy_types=["Ingress", "Egress"],
        ingress=ingress,
        egress=egress,
    )


class AppService(pulumi.ComponentResource):
    """Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget and NetworkPolicy of one
    service. Every object carries the service's name, as the seed's ``kubectl`` procedures expect
    (``deployment/api-gateway``, ``http://api-gateway:3000``)."""

    deployment_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: AppServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:workloads:Service", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        svc = args.service
        app = svc.spec.name
        meta = kx.metadata(app, args.namespace, app, "service")
        selector = k8s.meta.v1.LabelSelectorArgs(match_labels={"app": app})
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta,
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=0 if svc.replicas == 0 else None,
                revision_history_limit=5,
                selector=selector,
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                        max_surge="25%", max_unavailable=0
                    ),
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=kx.labels(app, "service")),
                    spec=_pod_spec(args),
                ),
            ),
            opts=child,
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata=meta,
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector={"app": app},
                ports=[
                    k8s.core.v1.ServicePortArgs(
                        name="http", port=PORT, target_port="http", protocol="TCP"
                    )
                ],
            ),
            opts=child,
        )
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata=meta,
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=deployment.metadata.name
                ),
                min_replicas=max(1, svc.replicas),
                max_replicas=svc.max_replicas,
                metrics=[
                    k8s.autoscaling.v2.MetricSpecArgs(
                        type="Resource",
                        resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                            name="cpu",
                            target=k8s.autoscaling.v2.MetricTargetArgs(
                                type="Utilization", average_utilization=CPU_TARGET_PERCENT
                            ),
                        ),
                    )
                ],
            ),
            opts=child,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=meta,
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1,
                selector=selector,
                unhealthy_pod_eviction_policy="AlwaysAllow",
            ),
            opts=child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol", metadata=meta, spec=_network_policy_spec(svc), opts=child
        )
        self.deployment_name = deployment.metadata.name
        self.register_outputs({"deployment_name": self.deployment_name})


# --------------------------------------------------------------------------------------------
# The namespace and its services
# --------------------------------------------------------------------------------------------


def _namespace_policies(name: str, namespace: pulumi.Input[str], parent: pulumi.Resource) -> None:
    """Deny everything not allowed by a service's own policy, then allow DNS to kube-dns."""
    opts = pulumi.ResourceOptions(parent=parent)
    every_pod = k8s.meta.v1.LabelSelectorArgs()
    k8s.networking.v1.NetworkPolicy(
        f"{name}-default-deny",
        metadata=kx.metadata("default-deny", namespace, "default-deny", "network-policy"),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=every_pod, policy_types=["Ingress", "Egress"]
        ),
        opts=opts,
    )
    kube_dns = k8s.networking.v1.NetworkPolicyPeerArgs(
        namespace_selector=k8s.meta.v1.LabelSelectorArgs(
            match_labels={"kubernetes.io/metadata.name": "kube-system"}
        ),
        pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"k8s-app": "kube-dns"}),
    )
    k8s.networking.v1.NetworkPolicy(
        f"{name}-allow-dns",
        metadata=kx.metadata("allow-dns", namespace, "allow-dns", "network-policy"),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=every_pod,
            policy_types=["Egress"],
            egress=[
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    to=[kube_dns],
                    ports=[
                        k8s.networking.v1.NetworkPolicyPortArgs(protocol="UDP", port=53),
                        kx.tcp(53),
                    ],
                )
            ],
        ),
        opts=opts,
    )


class Workloads(pulumi.ComponentResource):
    """The namespace, its network baseline, the degraded-mode ConfigMap and every service.
    Region-agnostic: pass the stack's Kubernetes provider in ``opts.providers``."""

    namespace: pulumi.Output[str]
    degraded_config_map: pulumi.Output[str]
    deployments: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: WorkloadsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:workloads:Workloads", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.namespace,
                labels={
                    **kx.labels(args.namespace, "namespace"),
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": f"v{kx.KUBERNETES_VERSION}",
                },
            ),
            opts=child,
        )
        ns = namespace.metadata.name
        _namespace_policies(name, ns, self)
        data = config_data(args.degraded_level)
        degraded = k8s.core.v1.ConfigMap(
            f"{name}-degraded-mode",
            metadata=kx.metadata(
                config_map_name("degraded-mode", data), ns, "degraded-mode", "config"
            ),
            data=data,
            opts=child,
        )
        environment = role_environment(args.region, args.role, args.serves_traffic)
        self.deployments = {}
        for svc in with_callees(args.services):
            app = AppService(
                f"{name}-{svc.spec.name}",
                AppServiceArgs(
                    service=svc,
                    namespace=ns,
                    environment=environment,
                    database_endpoints=args.database_endpoints,
                    postgres_database=args.postgres_database,
                    degraded_config_map=degraded.metadata.name,
                ),
                opts=child,
            )
            self.deployments[svc.spec.name] = app.deployment_name
        self.namespace = ns
        self.degraded_config_map = degraded.metadata.name
        self.register_outputs(
            {
                "namespace": self.namespace,
                "degraded_config_map": self.degraded_config_map,
                "deployments": self.deployments,
            }
        )
