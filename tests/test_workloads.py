"""Kubernetes workloads as both stacks declare them: schema, sizing by role, the role switch,
security contexts, probes, autoscaling, disruption budgets and network policies."""

from __future__ import annotations

import json
import re
from typing import Any

import kubernetes_validate
import pytest

from components.k8s import KUBERNETES_VERSION
from reskflow_dr import render
from tests.conftest import ROLE_OVERRIDES, belongs_to_workloads
from tests.workload_plans import (
    SERVICE_NAMES,
    WITH_REDIS,
    changed_paths,
    containers,
    env_of,
    job_names,
    kubernetes_objects,
    manifest,
    manifests,
    plan,
    pod_specs,
)

#: The seed's sizes: RUN-002 restarts api-gateway with 5 and order-service with 3; RUN-001
#: restores "the original replica count" of 3.
ACTIVE_SIZES = {name: 3 for name in SERVICE_NAMES} | {"api-gateway": 5}

ROLE_PLANS = {
    "prod (active)": ("prod",),
    "prod switched to passive": ("prod", *ROLE_OVERRIDES["prod", "passive"]),
    "dr promoted, redis job on": ("dr", *ROLE_OVERRIDES["dr", "active"], WITH_REDIS),
    "dr (passive)": ("dr",),
    "prod at RED with a custom namespace": (
        "prod",
        "reskflow:degradedLevel=RED",
        "reskflow:namespace=delivery",
    ),
}


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", ROLE_PLANS.values(), ids=ROLE_PLANS.keys())
def test_every_object_validates_against_the_pinned_kubernetes_schema(args: tuple[str, ...]) -> None:
    objects = kubernetes_objects(plan(*args))
    assert len(objects) >= 40
    for r in objects:
        kubernetes_validate.validate(r.inputs, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("spec", "replica"), 3, "'replica' was unexpected"),
        (("spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"), "3000", ""),
        (
            ("spec", "template", "spec", "securityContext", "runAsNonRoot"),
            "yes",
            "'yes' is not of type 'boolean'",
        ),
    ],
)
def test_the_schema_check_catches_a_broken_manifest(
    path: tuple[Any, ...], value: Any, message: str
) -> None:
    broken = manifest(plan("prod"), "Deployment", "api-gateway")
    target = broken
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(kubernetes_validate.ValidationError) as err:
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    assert message in err.value.message


def test_preview_tree_and_json_include_the_kubernetes_objects() -> None:
    p = plan("prod")
    tree = render.tree(p)
    for line in ("kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:CronJob", "api-gateway"):
        assert line in tree
    as_json = json.loads(json.dumps(p.to_json()))
    kinds = {r["inputs"].get("kind") for r in as_json["resources"] if r["type"].startswith("kub")}
    assert {"Namespace", "Deployment", "Service", "HorizontalPodAutoscaler"} <= kinds
    assert {"PodDisruptionBudget", "NetworkPolicy", "ConfigMap", "CronJob"} <= kinds
    k8s_provider = [r for r in p.resources if r.type == "pulumi:providers:kubernetes"]
    assert len(k8s_provider) == 1
    assert all(r.provider.startswith(k8s_provider[0].urn) for r in kubernetes_objects(p))


# --------------------------------------------------------------------------------------------
# Sizing by role
# --------------------------------------------------------------------------------------------


def min_replicas(p: Any) -> dict[str, int]:
    return {n: m["spec"]["minReplicas"] for n, m in manifests(p, "HorizontalPodAutoscaler").items()}


def test_active_role_runs_the_seed_sizes() -> None:
    assert min_replicas(plan("prod")) == ACTIVE_SIZES
    assert plan("prod").outputs["workloads"]["replicas"] == ACTIVE_SIZES


@pytest.mark.parametrize(
    "args", [("dr",), ("prod", *ROLE_OVERRIDES["prod", "passive"])], ids=["dr", "prod-passive"]
)
def test_passive_role_runs_the_pilot_light(args: tuple[str, ...]) -> None:
    assert min_replicas(plan(*args)) == {name: 1 for name in SERVICE_NAMES}


def test_deployments_leave_the_replica_count_to_the_autoscaler() -> None:
    for args in (("prod",), ("dr",)):
        for name, m in manifests(plan(*args), "Deployment").items():
            assert "replicas" not in m["spec"], name


def test_pilot_light_size_comes_from_config_and_never_exceeds_the_active_size() -> None:
    p = plan("dr", "reskflow:passiveReplicas=4")
    assert min_replicas(p) == {name: min(4, size) for name, size in ACTIVE_SIZES.items()}


def test_zero_replicas_stops_the_deployment_and_the_autoscaler_stays_idle() -> None:
    p = plan("dr", "reskflow:passiveReplicas=0")
    for name, m in manifests(p, "Deployment").items():
        assert m["spec"]["replicas"] == 0, name
    # The API refuses minReplicas 0; the autoscaler leaves a Deployment at zero alone.
    assert set(min_replicas(p).values()) == {1}


def test_service_sizes_and_ceilings_come_from_config() -> None:
    p = plan("prod", "reskflow:services={payment-service: {replicas: 7, maxReplicas: 30}}")
    hpa = manifest(p, "HorizontalPodAutoscaler", "payment-service")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (7, 30)
    default = manifest(p, "HorizontalPodAutoscaler", "api-gateway")["spec"]
    assert (default["minReplicas"], default["maxReplicas"]) == (5, 15)


def test_autoscaler_ceiling_is_the_same_in_both_roles() -> None:
    def ceilings(p: Any) -> dict[str, int]:
        hpas = manifests(p, "HorizontalPodAutoscaler")
        return {n: m["spec"]["maxReplicas"] for n, m in hpas.items()}

    switched = plan("prod", *ROLE_OVERRIDES["prod", "passive"])
    assert ceilings(plan("prod")) == ceilings(plan("dr")) == ceilings(switched)


def test_passive_services_are_told_they_are_read_only() -> None:
    for args, role, read_only in ((("prod",), "active", "false"), (("dr",), "passive", "true")):
        for name, m in manifests(plan(*args), "Deployment").items():
            env = env_of(m["spec"]["template"]["spec"]["containers"][0])
            assert env["RESKFLOW_REGION_ROLE"]["value"] == role, name
            assert env["RESKFLOW_READ_ONLY"]["value"] == read_only, name


# --------------------------------------------------------------------------------------------
# The role switch
# --------------------------------------------------------------------------------------------

#: Everything a role switch may change, per kind of resource.
ROLE_FIELDS = {
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": {"spec.minReplicas"},
    "kubernetes:apps/v1:Deployment": {
        "spec.template.spec.containers[{name}].env[RESKFLOW_REGION_ROLE].value",
        "spec.template.spec.containers[{name}].env[RESKFLOW_READ_ONLY].value",
        "spec.template.spec.containers[{name}].env[RESKFLOW_SERVES_TRAFFIC].value",
    },
    "kubernetes:batch/v1:CronJob": {"spec.suspend"},
    "aws:cloudwatch/metricAlarm:MetricAlarm": {"actionsEnabled", "treatMissingData"},
}


def workload_resources(p: Any) -> dict[str, Any]:
    return {
        r.urn: r
        for r in p.resources
        if belongs_to_workloads(r) or r.type == "pulumi:providers:kubernetes"
    }


def test_role_switch_changes_only_the_role_fields() -> None:
    # A failover: dr promoted in place (same database instance), the peer declared lost.
    before = workload_resources(plan("dr"))
    after = workload_resources(plan("dr", *ROLE_OVERRIDES["dr", "active"]))
    assert before.keys() == after.keys(), "a role switch must not create or delete objects"
    changed: dict[str, set[str]] = {}
    for urn, old in before.items():
        paths = changed_paths(old.inputs, after[urn].inputs)
        if paths:
            changed[old.name] = paths
        allowed = {
            p.format(name=old.inputs.get("metadata", {}).get("name"))
            for p in ROLE_FIELDS.get(old.type, set())
        }
        assert paths <= allowed, f"{old.name}: unexpected changes {sorted(paths - allowed)}"
        assert old.options == after[urn].options, old.name
    kinds = {before_r.type for before_r in before.values() if before_r.name in changed}
    assert kinds == set(ROLE_FIELDS), "every role-dependent kind must actually change"


def test_role_switch_diff_shows_the_scale_up() -> None:
    pilot, full = (
        min_replicas(plan("dr")),
        min_replicas(plan("dr", *ROLE_OVERRIDES["dr", "active"])),
    )
    assert all(full[name] > pilot[name] for name in SERVICE_NAMES)


# --------------------------------------------------------------------------------------------
# Pod hardening, probes, resources
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_every_container_runs_restricted(stack: str) -> None:
    specs = list(pod_specs(plan(stack)))
    jobs = len(job_names(plan(stack)))
    assert jobs >= 3 and len(specs) == len(SERVICE_NAMES) + jobs
    checked = 0
    for owner, spec in specs:
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0, owner
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, owner
        assert spec["automountServiceAccountToken"] is False, owner
        assert "hostNetwork" not in spec and "hostPID" not in spec, owner
        for c in containers(spec):
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True, (owner, c["name"])
            assert sc["readOnlyRootFilesystem"] is True, (owner, c["name"])
            assert sc["allowPrivilegeEscalation"] is False, (owner, c["name"])
            assert sc["privileged"] is False, (owner, c["name"])
            assert sc["capabilities"] == {"drop": ["ALL"]}, (owner, c["name"])
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, (owner, c["name"])
            assert any(m["mountPath"] == "/tmp" for m in c["volumeMounts"]), (owner, c["name"])
            assert {"cpu", "memory"} <= c["resources"]["requests"].keys(), (owner, c["name"])
            assert {"cpu", "memory"} <= c["resources"]["limits"].keys(), (owner, c["name"])
            checked += 1
    assert checked == len(SERVICE_NAMES) + 2 * jobs


def test_the_namespace_enforces_the_restricted_pod_security_standard() -> None:
    labels = manifest(plan("prod"), "Namespace", "reskflow")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == f"v{KUBERNETES_VERSION}"


def test_services_probe_health_and_listen_on_3000() -> None:
    p = plan("prod")
    for name in SERVICE_NAMES:
        (c,) = manifest(p, "Deployment", name)["spec"]["template"]["spec"]["containers"]
        assert c["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert c[probe]["httpGet"]["path"] == "/health", (name, probe)
            assert c[probe]["httpGet"]["port"] == "http", (name, probe)
        service = manifest(p, "Service", name)["spec"]
        assert service["ports"][0]["port"] == 3000 and service["selector"] == {"app": name}
        assert c["image"].endswith(f"/reskflow/{name}:1.0.0"), c["image"]


def test_autoscalers_target_70_percent_cpu_of_their_deployment() -> None:
    for name, m in manifests(plan("prod"), "HorizontalPodAutoscaler").items():
        spec = m["spec"]
        assert m["apiVersion"] == "autoscaling/v2"
        assert spec["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        (metric,) = spec["metrics"]
        assert metric["resource"] == {
            "name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 70},
        }


def test_every_deployment_has_a_disruption_budget_selecting_its_pods() -> None:
    p = plan("dr")
    budgets = manifests(p, "PodDisruptionBudget")
    for name, m in manifests(p, "Deployment").items():
        pod_labels = m["spec"]["template"]["metadata"]["labels"]
        spec = budgets[name]["spec"]
        assert spec["selector"]["matchLabels"].items() <= pod_labels.items()
        # maxUnavailable, not minAvailable: a one-replica pilot light must not block node drains.
        assert spec["maxUnavailable"] == 1 and "minAvailable" not in spec


# --------------------------------------------------------------------------------------------
# Network policies, evaluated
# --------------------------------------------------------------------------------------------

EXPECTED_CALLS = {
    ("api-gateway", "order-service"),
    ("api-gateway", "user-service"),
    ("api-gateway", "payment-service"),
    ("api-gateway", "tracking-service"),
    ("api-gateway", "notification-service"),
    ("order-service", "user-service"),
    ("order-service", "payment-service"),
    ("order-service", "notification-service"),
}
DATASTORE_PORTS = {
    "api-gateway": {5432, 6379},
    "order-service": {5432, 6379},
    "user-service": {5432, 6379},
    "payment-service": {5432},
    "tracking-service": {27017, 6379},
    "notification-service": {27017},
    "backup-postgres-daily": {5432},
    "backup-postgres-weekly": {5432},
    "backup-mongodb-daily": {27017},
    "backup-redis-daily": {6379},
}
HTTPS_OUT = {"payment-service", "notification-service"} | {
    n for n in DATASTORE_PORTS if n.startswith("backup-")
}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return selector.get("matchLabels", {}).items() <= labels.items()


def _peer_matches(peers: list[dict[str, Any]] | None, other: dict[str, str] | None) -> bool:
    """``other``: the labels of a pod in the namespace, or None for anything outside it."""
    if not peers:
        return True
    for peer in peers:
        if "namespaceSelector" in peer or other is None:
            continue  # only kube-dns uses one; outside peers never match a podSelector
        if _selects(peer["podSelector"], other):
            return True
    return False


def _allowed(
    policies: list[dict[str, Any]], pod: dict[str, str], direction: str, other: Any, port: int
) -> bool:
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    selecting = [
        m["spec"]
        for m in policies
        if direction in m["spec"]["policyTypes"] and _selects(m["spec"]["podSelector"], pod)
    ]
    assert selecting, f"no {direction} policy selects {pod}: default deny is missing"
    return any(
        _peer_matches(rule.get(peers_key), other)
        and (not rule.get("ports") or any(p["port"] == port for p in rule["ports"]))
        for spec in selecting
        for rule in spec.get(key, [])
    )


def test_network_policies_allow_exactly_the_needed_traffic() -> None:
    p = plan("prod", WITH_REDIS)
    policies = list(manifests(p, "NetworkPolicy").values())
    pods = {n: {"app": n} for n in DATASTORE_PORTS}
    for src, src_labels in pods.items():
        for dst, dst_labels in pods.items():
            allowed = _allowed(policies, src_labels, "Egress", dst_labels, 3000) and _allowed(
                policies, dst_labels, "Ingress", src_labels, 3000
            )
            assert allowed == ((src, dst) in EXPECTED_CALLS), (src, dst)
        for port in (5432, 6379, 27017):
            outside = _allowed(policies, src_labels, "Egress", None, port)
            assert outside == (port in DATASTORE_PORTS[src]), (src, port)
        assert _allowed(policies, src_labels, "Egress", None, 443) == (src in HTTPS_OUT), src
        assert _allowed(policies, src_labels, "Egress", None, 22) is False, src
        from_outside = _allowed(policies, src_labels, "Ingress", None, 3000)
        assert from_outside == (src == "api-gateway"), src


def test_every_pod_may_resolve_names_through_kube_dns_only() -> None:
    dns = manifest(plan("prod"), "NetworkPolicy", "allow-dns")["spec"]
    assert dns["podSelector"] == {}
    (rule,) = dns["egress"]
    assert {(p["protocol"], p["port"]) for p in rule["ports"]} == {("UDP", 53), ("TCP", 53)}
    (peer,) = rule["to"]
    assert peer["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    deny = manifest(plan("prod"), "NetworkPolicy", "default-deny")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


# --------------------------------------------------------------------------------------------
# Degraded mode
# --------------------------------------------------------------------------------------------


def degraded(p: Any) -> tuple[str, dict[str, str]]:
    (name,) = [n for n in manifests(p, "ConfigMap") if n.startswith("degraded-mode-")]
    return name, manifests(p, "ConfigMap")[name]["data"]


def test_degraded_mode_config_map_holds_the_seed_levels() -> None:
    _, data = degraded(plan("prod"))
    assert data["level"] == "GREEN"
    catalog = json.loads(data["degraded-mode.json"])
    assert list(catalog["levels"]) == ["GREEN", "YELLOW", "ORANGE", "RED"]
    assert catalog["levels"]["ORANGE"]["limits"]["orders_per_minute"] == 500
    assert "real_time_tracking" in catalog["levels"]["ORANGE"]["disabled_features"]
    assert catalog["levels"]["RED"]["enabled_features"] == [
        "order_placement",
        "payment_basic",
        "reskflow_assignment",
    ]
    assert catalog["auto_triggers"]["YELLOW"]["cpu_usage"] == 70


def test_services_mount_and_read_the_level_in_force() -> None:
    p = plan("prod", "reskflow:degradedLevel=RED")
    name, data = degraded(p)
    assert data["level"] == "RED"
    for deployment in manifests(p, "Deployment").values():
        spec = deployment["spec"]["template"]["spec"]
        volume = next(v for v in spec["volumes"] if v["name"] == "degraded-mode")
        assert volume["configMap"]["name"] == name
        env = env_of(spec["containers"][0])
        assert env["DEGRADED_MODE_LEVEL"]["valueFrom"]["configMapKeyRef"]["name"] == name


def test_a_level_change_renames_the_config_map_so_services_roll() -> None:
    green, _ = degraded(plan("prod"))
    red, _ = degraded(plan("prod", "reskflow:degradedLevel=RED"))
    assert green != red


def test_the_level_is_per_stack_and_not_tied_to_the_role() -> None:
    assert degraded(plan("prod")) == degraded(plan("prod", *ROLE_OVERRIDES["prod", "passive"]))


# --------------------------------------------------------------------------------------------
# No credentials in manifests
# --------------------------------------------------------------------------------------------

CREDENTIAL_WORDS = ("PASSWORD", "USERNAME", "PGUSER", "AUTH", "TOKEN", "SECRET")


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_credentials_are_secret_references_only(stack: str) -> None:
    seen = 0
    for owner, spec in pod_specs(plan(stack)):
        for c in containers(spec):
            for name, env in env_of(c).items():
                if any(word in name for word in CREDENTIAL_WORDS):
                    assert "value" not in env, (owner, name)
                    assert env["valueFrom"]["secretKeyRef"]["name"].startswith("reskflow-")
                    seen += 1
    assert seen >= 20
    text = json.dumps([r.inputs for r in kubernetes_objects(plan(stack))])
    assert not re.search(r"://[^/\s\"@]+:[^/\s\"@]+@", text), "credentials in a URL"
    assert "aws_secret_access_key" not in text.lower() and "AKIA" not in text
