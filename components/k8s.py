"""Kubernetes conventions shared by the workload components: labels, the restricted security
context, data-store connection settings and network-policy building blocks.

Every container this program declares runs under the Pod Security Standard ``restricted``: not as
root, no privilege escalation, every capability dropped, seccomp ``RuntimeDefault`` and a
read-only root filesystem (writable scratch space is an ``emptyDir`` at ``/tmp``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

#: The Kubernetes minor version the manifests are written for and validated against in tests.
#: CronJob ``timeZone`` (GA 1.27) and PDB ``unhealthyPodEvictionPolicy`` (GA 1.31) need it.
KUBERNETES_VERSION = "1.31"

PART_OF = "reskflow"
#: Unprivileged ids every pod runs as (no image needs a particular user for these commands).
RUN_AS_USER = 10001
TMP_VOLUME = "tmp"

#: IRSA: the annotation EKS's pod identity webhook reads, and the one that makes it point the
#: SDKs at the regional STS endpoint (the global endpoint is served from us-east-1).
IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
IRSA_REGIONAL_STS_ANNOTATION = "eks.amazonaws.com/sts-regional-endpoints"


def labels(app: str, component: str) -> dict[str, str]:
    """Recommended labels plus ``app`` (the seed's runbooks select pods with ``-l app=<name>``)."""
    return {
        "app": app,
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def metadata(
    name: str, namespace: pulumi.Input[str], app: str, component: str
) -> k8s.meta.v1.ObjectMetaArgs:
    return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=labels(app, component))


def pod_security_context() -> k8s.core.v1.PodSecurityContextArgs:
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=RUN_AS_USER,
        run_as_group=RUN_AS_USER,
        fs_group=RUN_AS_USER,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def container_security_context() -> k8s.core.v1.SecurityContextArgs:
    return k8s.core.v1.SecurityContextArgs(
        run_as_non_root=True,
        allow_privilege_escalation=False,
        privileged=False,
        read_only_root_filesystem=True,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def tmp_volume(size_limit: str = "256Mi") -> k8s.core.v1.VolumeArgs:
    """Writable scratch space; the root filesystem is read-only."""
    return k8s.core.v1.VolumeArgs(
        name=TMP_VOLUME, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=size_limit)
    )


def tmp_mount() -> k8s.core.v1.VolumeMountArgs:
    return k8s.core.v1.VolumeMountArgs(name=TMP_VOLUME, mount_path="/tmp")


def plain_env(values: Mapping[str, pulumi.Input[str]]) -> list[k8s.core.v1.EnvVarArgs]:
    return [k8s.core.v1.EnvVarArgs(name=name, value=value) for name, value in values.items()]


def secret_env(name: str, secret: str, key: str) -> k8s.core.v1.EnvVarArgs:
    """An environment variable read from a Secret at pod start: the manifest holds only the
    reference. ``optional=False``: a missing Secret keeps the pod from starting, loudly."""
    return k8s.core.v1.EnvVarArgs(
        name=name,
        value_from=k8s.core.v1.EnvVarSourceArgs(
            secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret, key=key, optional=False)
        ),
    )


# --------------------------------------------------------------------------------------------
# Data stores
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Datastore:
    """How a workload reaches one data store: host from the database tier, credentials from a
    Secret the cluster holds (synced from Secrets Manager; never in this program)."""

    engine: str
    port: int
    env_prefix: str
    """Prefix of the environment variables: ``<PREFIX>_HOST``, ``_PORT``, ``_USERNAME``..."""
    secret: str
    """Name of the Kubernetes Secret with the credentials."""
    credential_keys: tuple[tuple[str, str], ...]
    """(environment variable suffix, Secret key) pairs."""


DATASTORES: dict[str, Datastore] = {
    "postgres": Datastore(
        "postgres",
        5432,
        "DATABASE",
        "reskflow-postgres",
        (("USERNAME", "username"), ("PASSWORD", "password")),
    ),
    "redis": Datastore("redis", 6379, "REDIS", "reskflow-redis", (("PASSWORD", "password"),)),
    "mongodb": Datastore(
        "mongodb",
        27017,
        "MONGODB",
        "reskflow-mongodb",
        (("USERNAME", "username"), ("PASSWORD", "password")),
    ),
}


def datastore_env(
    engine: str, endpoints: Mapping[str, pulumi.Input[str]]
) -> list[k8s.core.v1.EnvVarArgs]:
    """Host and port in plain text, credentials by Secret reference."""
    store = DATASTORES[engine]
    env = plain_env(
        {f"{store.env_prefix}_HOST": endpoints[engine], f"{store.env_prefix}_PORT": str(store.port)}
    )
    env += [
        secret_env(f"{store.env_prefix}_{suffix}", store.secret, key)
        for suffix, key in store.credential_keys
    ]
    return env


# --------------------------------------------------------------------------------------------
# Network policy building blocks
# --------------------------------------------------------------------------------------------


def tcp(port: int | str) -> k8s.networking.v1.NetworkPolicyPortArgs:
    return k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=port)


def pods(*apps: str) -> list[k8s.networking.v1.NetworkPolicyPeerArgs]:
    """Peers: the pods of the named apps in the policy's own namespace."""
    return [
        k8s.networking.v1.NetworkPolicyPeerArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app": app})
        )
        for app in apps
    ]


def datastore_egress(engines: Sequence[str]) -> list[k8s.networking.v1.NetworkPolicyEgressRuleArgs]:
    """Egress to the data stores' ports. The stores live outside the cluster (RDS and the like),
    and a NetworkPolicy cannot name a DNS endpoint, so the rule narrows by port only."""
    if not engines:
        return []
    return [
        k8s.networking.v1.NetworkPolicyEgressRuleArgs(
            ports=[tcp(DATASTORES[engine].port) for engine in engines]
        )
    ]


def https_egress() -> k8s.networking.v1.NetworkPolicyEgressRuleArgs:
    """Egress on 443 to anywhere: AWS APIs (STS, S3, SNS, CloudWatch) or third-party APIs."""
    return k8s.networking.v1.NetworkPolicyEgressRuleArgs(ports=[tcp(443)])
