"""Kubernetes workloads: cluster access, services, degraded mode and the backup jobs."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from components.degraded_mode import LEVEL_NAMES
from components.workloads import SERVICES
from infra.settings.backup_jobs import (
    BACKUP_IMAGES_KEY,
    BACKUP_JOBS_KEY,
    BackupImages,
    image_reference,
    parse_backup_images,
    parse_backup_schedules,
)
from infra.settings.core import PROJECT, ConfigError, Key, Role, Secret
from infra.settings.parse import as_object, choice, known_fields, whole
from infra.settings.validators import image_problem, tag_problem


@dataclass(frozen=True)
class ServiceSettings:
    """One service as configured: image and its active-role size."""

    name: str
    image: str
    replicas: int
    """Replicas in the active role."""
    max_replicas: int
    """The autoscaler's ceiling, in both roles."""


@dataclass(frozen=True)
class WorkloadSettings:
    """The Kubernetes side of the stack: cluster access, services, degraded mode, backup jobs."""

    kubeconfig: Secret | None
    """Kubeconfig contents (a secret); None: the runner's own kubeconfig, at ``kube_context``."""
    kube_context: str | None
    """Context to use inside the kubeconfig."""
    oidc_provider_arn: str
    namespace: str
    services: tuple[ServiceSettings, ...]
    passive_replicas: int
    replica_ceiling: int
    degraded_level: str
    backup_schedules: Mapping[str, str]
    """Enabled backup jobs (names from ``components.backup_jobs.DUMPS``) and their cron schedule."""
    backup_images: BackupImages

    @property
    def oidc_region(self) -> str | None:
        """Region of an EKS cluster's issuer (None for other issuers)."""
        eks = _EKS_ISSUER_RE.fullmatch(self.oidc_issuer)
        return None if eks is None else eks.group(1)

    @property
    def oidc_issuer(self) -> str:
        """The issuer (host and path, no scheme) the IRSA trust conditions are keyed on."""
        return self.oidc_provider_arn.split(":oidc-provider/", 1)[1]

    def replicas_for(self, service: ServiceSettings, role: Role) -> int:
        """Full size in the active role; the pilot light (never more than full) when passive."""
        return (
            service.replicas if role == "active" else min(self.passive_replicas, service.replicas)
        )


#: The highest replica ceiling a stack may set.
MAX_REPLICA_CEILING = 1000

_WORKLOAD_KEYS = tuple(
    f"{PROJECT}:{name}"
    for name in (
        "kubeconfig",
        "kubeContext",
        "clusterOidcProviderArn",
        "namespace",
        "imageRegistry",
        "imageTag",
        "services",
        "passiveReplicas",
        "replicaCeiling",
        "degradedLevel",
        "backupJobs",
        "backupImages",
    )
)
_OIDC_ARN_RE = re.compile(r"^arn:aws:iam::([0-9]{12}):oidc-provider/([A-Za-z0-9.-]+(?:/[\w.-]+)*)$")
_EKS_ISSUER_RE = re.compile(r"^oidc\.eks\.([a-z0-9-]+)\.amazonaws\.com/id/[0-9A-Z]{32}$")
_CONTEXT_RE = re.compile(r"^[\w.:/@-]{1,253}$")
_NAMESPACE_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_SERVICE_FIELDS = ("replicas", "maxReplicas", "image")


def _oidc_provider_arn(value: str | None, account_id: str) -> str:
    key = CLUSTER_OIDC_PROVIDER_ARN_KEY.name
    if not value:
        raise ConfigError(
            key,
            None,
            "required with a cluster: the ARN of the cluster's IAM OIDC provider "
            "(`aws iam list-open-id-connect-providers`)",
        )
    match = _OIDC_ARN_RE.fullmatch(value)
    if match is None:
        raise ConfigError(
            key, value, "expected arn:aws:iam::<accountId>:oidc-provider/<issuer host and path>"
        )
    if match.group(1) != account_id:
        raise ConfigError(key, value, f"the provider must be in account {account_id}")
    return value


def _namespace(value: str | None) -> str:
    key, name = NAMESPACE_KEY.name, value or "reskflow"
    if not _NAMESPACE_RE.fullmatch(name) or name == "default" or name.startswith("kube-"):
        raise ConfigError(
            key,
            name,
            "expected a DNS label (lowercase letters, digits, '-'; at most 63), "
            "not 'default' nor 'kube-*'",
        )
    return name


def _services(
    raw: str | None, registry: str, tag: str | None, ceiling: int
) -> tuple[ServiceSettings, ...]:
    key = SERVICES_KEY.name
    overrides = known_fields(key, {} if raw is None else as_object(key, raw), SERVICES_KEY.fields)
    bound = f" ({PROJECT}:replicaCeiling)"
    result = []
    for spec in SERVICES:
        where = f"{key}.{spec.name}"
        fields = known_fields(where, overrides.get(spec.name, {}), _SERVICE_FIELDS)
        given = fields.get("replicas", spec.replicas)
        replicas = whole(f"{where}.replicas", given, 0, ceiling, "replicas", bound)
        max_replicas = whole(
            f"{where}.maxReplicas",
            fields.get("maxReplicas", min(ceiling, max(1, 3 * replicas))),
            max(1, replicas),
            ceiling,
            "replicas",
            f" (at least {where}.replicas; at most {PROJECT}:replicaCeiling)",
        )
        if "image" not in fields and tag is None:
            raise ConfigError(
                IMAGE_TAG_KEY.name,
                None,
                f"required: the release tag of the service images "
                f"(or an image for every service in {key})",
            )
        image = image_reference(
            f"{where}.image", fields.get("image", f"{registry}/{spec.name}:{tag}")
        )
        result.append(ServiceSettings(spec.name, image, replicas, max_replicas))
    return tuple(result)


def parse_workloads(
    raw: Mapping[str, str], secret_keys: Collection[str], region: str, account_id: str
) -> WorkloadSettings | None:
    """The workload section, or None when the stack names no cluster (and no workload key)."""
    kube_key, context_key = KUBECONFIG_KEY.name, KUBE_CONTEXT_KEY.name
    kubeconfig, context = raw.get(kube_key) or None, raw.get(context_key) or None
    if kubeconfig is None and context is None:
        stray = [name for name in _WORKLOAD_KEYS if raw.get(name)]
        if stray:
            raise ConfigError(
                context_key,
                None,
                f"a cluster is required when {', '.join(stray)} is set: a context of your "
                f"kubeconfig, or the whole kubeconfig as the secret {kube_key}",
            )
        return None
    if context is not None and not _CONTEXT_RE.fullmatch(context):
        raise ConfigError(context_key, context, "expected a kubeconfig context name")
    if kubeconfig is not None and kube_key not in secret_keys:
        raise ConfigError(
            kube_key,
            "(plain text, not shown)",
            f"must be a secret: pulumi config set --secret {kube_key} < kubeconfig.yaml",
        )
    ceiling = whole(
        REPLICA_CEILING_KEY.name,
        raw.get(REPLICA_CEILING_KEY.name, 50),
        1,
        MAX_REPLICA_CEILING,
        "replicas",
    )
    registry = raw.get(IMAGE_REGISTRY_KEY.name) or (
        f"{account_id}.dkr.ecr.{region}.amazonaws.com/{PROJECT}"
    )
    if image_problem(f"{registry}/probe:1") is not None:
        raise ConfigError(IMAGE_REGISTRY_KEY.name, registry, "expected a registry host and path")
    tag = raw.get(IMAGE_TAG_KEY.name)
    if tag is not None and (problem := tag_problem(tag)) is not None:
        raise ConfigError(IMAGE_TAG_KEY.name, tag, problem)
    return WorkloadSettings(
        kubeconfig=None if kubeconfig is None else Secret(kubeconfig),
        kube_context=context,
        oidc_provider_arn=_oidc_provider_arn(
            raw.get(CLUSTER_OIDC_PROVIDER_ARN_KEY.name), account_id
        ),
        namespace=_namespace(raw.get(NAMESPACE_KEY.name)),
        services=_services(raw.get(SERVICES_KEY.name), registry, tag, ceiling),
        passive_replicas=whole(
            PASSIVE_REPLICAS_KEY.name,
            raw.get(PASSIVE_REPLICAS_KEY.name, 1),
            0,
            ceiling,
            "replicas",
            f" ({PROJECT}:replicaCeiling)",
        ),
        replica_ceiling=ceiling,
        degraded_level=choice(
            DEGRADED_LEVEL_KEY.name, raw.get(DEGRADED_LEVEL_KEY.name) or "GREEN", LEVEL_NAMES
        ),
        backup_schedules=parse_backup_schedules(raw.get(BACKUP_JOBS_KEY.name)),
        backup_images=parse_backup_images(raw.get(BACKUP_IMAGES_KEY.name)),
    )


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

KUBE_CONTEXT_KEY = Key(
    f"{PROJECT}:kubeContext",
    "string",
    "unset",
    "Context of the region's cluster: in `reskflow:kubeconfig` when that is set, else in the "
    "kubeconfig of whoever runs Pulumi (`KUBECONFIG` or `~/.kube/config`). With neither "
    "key the stack declares no Kubernetes objects and the other workload keys must be unset.",
)


KUBECONFIG_KEY = Key(
    f"{PROJECT}:kubeconfig",
    "secret string",
    "unset",
    "Kubeconfig of the region's cluster (for CI), always a secret: `pulumi config set "
    "--secret reskflow:kubeconfig < kubeconfig.yaml`. Unset: the runner's own kubeconfig.",
)


CLUSTER_OIDC_PROVIDER_ARN_KEY = Key(
    f"{PROJECT}:clusterOidcProviderArn",
    "string",
    "required with a cluster",
    "ARN of the cluster's IAM OIDC provider (`arn:aws:iam::<accountId>:oidc-provider/oidc.eks."
    "<region>.amazonaws.com/id/<ID>`); the backup jobs' IAM roles trust it (IRSA).",
)


NAMESPACE_KEY = Key(
    f"{PROJECT}:namespace", "string", "`reskflow`", "Namespace of every workload object."
)


IMAGE_REGISTRY_KEY = Key(
    f"{PROJECT}:imageRegistry",
    "string",
    "`<accountId>.dkr.ecr.<region>.amazonaws.com/reskflow`",
    "Registry and path of the service images (`<registry>/<service>:<imageTag>`); the "
    "default is the stack's own region, so a region pulls images without its peer.",
)


IMAGE_TAG_KEY = Key(
    f"{PROJECT}:imageTag",
    "string",
    "required with a cluster",
    "Release tag of every service image; `latest` is refused (both regions must run one build).",
)


SERVICES_KEY = Key(
    f"{PROJECT}:services",
    "object",
    "seed sizes",
    "Per service (" + ", ".join(s.name for s in SERVICES) + "): `replicas` in the active "
    "role (seed: api-gateway 5, others 3), `maxReplicas` for the autoscaler (default 3x "
    "`replicas`, the seed's holiday peak, at most the ceiling) and `image` (a full "
    "reference with tag or digest).",
    fields=tuple(s.name for s in SERVICES),
)


PASSIVE_REPLICAS_KEY = Key(
    f"{PROJECT}:passiveReplicas",
    "integer",
    "`1`",
    "Replicas of each service in the passive role (the pilot light); never more than the "
    "service's active count. `0` stops the service there.",
    minimum=0,
    maximum=MAX_REPLICA_CEILING,
)


REPLICA_CEILING_KEY = Key(
    f"{PROJECT}:replicaCeiling",
    "integer",
    "`50`",
    "Highest replica count or autoscaler maximum any service may be given.",
    minimum=1,
    maximum=MAX_REPLICA_CEILING,
)


DEGRADED_LEVEL_KEY = Key(
    f"{PROJECT}:degradedLevel",
    "string",
    "`GREEN`",
    "Degraded-mode level in force: " + ", ".join(LEVEL_NAMES) + " (seed levels and limits, "
    "see docs/workloads.md).",
    choices=LEVEL_NAMES,
)


#: This tier's keys, in the order the README lists them.
KEYS: tuple[Key, ...] = (
    KUBE_CONTEXT_KEY,
    KUBECONFIG_KEY,
    CLUSTER_OIDC_PROVIDER_ARN_KEY,
    NAMESPACE_KEY,
    IMAGE_REGISTRY_KEY,
    IMAGE_TAG_KEY,
    SERVICES_KEY,
    PASSIVE_REPLICAS_KEY,
    REPLICA_CEILING_KEY,
    DEGRADED_LEVEL_KEY,
)
