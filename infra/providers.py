"""The stack's config and its providers: the only AWS and Kubernetes providers of the stack
(default providers are disabled in Pulumi.yaml)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.settings import ConfigError, Secret, StackSettings, WorkloadSettings, load_settings


def read_config() -> dict[str, str]:
    """The stack's whole config map, as the engine passes it to the program."""
    merged = dict(pulumi.runtime.config.get_config_env())
    merged.update(pulumi.runtime.config.CONFIG.get())
    return {key: str(value) for key, value in merged.items()}


def regional_provider(
    settings: StackSettings, region: pulumi.Input[str] | None = None
) -> aws.Provider:
    """The only AWS provider of the stack: default providers are disabled in Pulumi.yaml.
    ``region`` may be an output gated by the split-brain guard (infra/tiers/failover.py): every
    resource waits for it, so a refused guard changes nothing."""
    return aws.Provider(
        f"aws-{settings.region}",
        region=settings.region if region is None else region,
        allowed_account_ids=[settings.account_id],
        profile=settings.aws_profile,
        default_tags=aws.ProviderDefaultTagsArgs(
            tags={
                **settings.tags,
                "project": settings.project,
                "stack": settings.stack,
                "managed-by": "pulumi",
            }
        ),
    )


def load() -> StackSettings:
    """The stack's validated settings; a config error ends the program with its one line."""
    try:
        # Which keys are secret comes from the runtime (load_settings' default).
        return load_settings(
            read_config(),
            pulumi.get_stack(),
            pulumi.get_project(),
            organization=pulumi.get_organization() or "organization",
        )
    except ConfigError as err:
        # RunError ends the program with this one line and no traceback.
        raise pulumi.RunError(str(err)) from None


def secret_input(secret: Secret | None) -> pulumi.Output[str] | None:
    """A secret config value as a secret Output: the engine stores and shows it encrypted."""
    return None if secret is None else pulumi.Output.secret(secret.value)


def kubernetes_provider(settings: StackSettings, workloads: WorkloadSettings) -> k8s.Provider:
    """The stack's only Kubernetes provider, for the region's cluster (default providers are
    disabled). A kubeconfig from config travels as a secret Output (encrypted in state); without
    one the provider reads the runner's kubeconfig, pinned to the stack's context. The cluster
    identifier is the cluster's OIDC issuer: rotating credentials updates the provider instead of
    replacing every object, and a new cluster replaces them."""
    return k8s.Provider(
        f"k8s-{settings.region}",
        kubeconfig=secret_input(workloads.kubeconfig),
        context=workloads.kube_context,
        cluster_identifier=workloads.oidc_issuer,
        enable_server_side_apply=True,
    )
