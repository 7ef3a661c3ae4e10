"""Kubernetes workloads: services sized for the role, degraded mode and the backup CronJobs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarms import AlarmSpec
from components.backup_jobs import (
    DUMPS,
    BackupJobs,
    BackupJobsArgs,
    BackupJobSpec,
    stale_backup_alarms,
)
from components.workloads import SERVICES, ServiceDeployment, Workloads, WorkloadsArgs
from infra.providers import kubernetes_provider
from infra.settings import StackSettings
from infra.settings.failover import serves_traffic
from infra.settings.workloads import CLUSTER_OIDC_PROVIDER_ARN_KEY
from infra.tiers.storage import weekly_lock


@dataclass(frozen=True)
class WorkloadTier:
    namespace: pulumi.Output[str]
    replicas: dict[str, int]
    """Replicas of each service in this stack's role."""


def tier_storage_classes(settings: StackSettings) -> dict[str, str]:
    """Storage class the backups bucket's policy requires per tier prefix (daily, weekly)."""
    backups = next(store for store in settings.stores if store.key == "backups")
    return {e.prefix.rstrip("/"): e.storage_class for e in backups.expiries if e.storage_class}


def backup_job_specs(settings: StackSettings) -> list[BackupJobSpec]:
    """The enabled backup jobs with their schedule, tool image and the tier's storage class."""
    w = settings.workloads
    if w is None:
        return []
    storage_classes = tier_storage_classes(settings)
    return [
        BackupJobSpec(
            name=name,
            schedule=schedule,
            image=w.backup_images.for_engine(DUMPS[name].engine),
            storage_class=storage_classes[DUMPS[name].tier],
            **weekly_lock(settings, DUMPS[name].tier),
        )
        for name, schedule in w.backup_schedules.items()
    ]


def workload_alarms(settings: StackSettings) -> list[AlarmSpec]:
    """Missing-success alarms of the backup jobs, for the alarms tier."""
    return stale_backup_alarms(backup_job_specs(settings), settings.role == "active")


def build_workloads(
    settings: StackSettings,
    aws_provider: aws.Provider,
    kms_key_arn: pulumi.Input[str],
    database_endpoints: Mapping[str, pulumi.Input[str]],
    alert_topic_arn: pulumi.Input[str],
) -> WorkloadTier | None:
    """Services sized for the role, degraded-mode config and backup CronJobs (when the stack
    names a cluster)."""
    w = settings.workloads
    if w is None:
        return None
    if w.oidc_region not in (None, settings.region):
        pulumi.log.warn(
            f"{CLUSTER_OIDC_PROVIDER_ARN_KEY.name} names a cluster in {w.oidc_region}: the backup "
            f"jobs run on the {settings.region} cluster and cannot assume roles that trust another "
            "one"
        )
    cluster = kubernetes_provider(settings, w)
    configured = {s.name: s for s in w.services}
    workloads = Workloads(
        "workloads",
        WorkloadsArgs(
            namespace=w.namespace,
            region=settings.region,
            role=settings.role,
            services=[
                ServiceDeployment(
                    spec=spec,
                    image=configured[spec.name].image,
                    replicas=w.replicas_for(configured[spec.name], settings.role),
                    max_replicas=configured[spec.name].max_replicas,
                )
                for spec in SERVICES
            ],
            database_endpoints=database_endpoints,
            postgres_database=settings.database.postgres.database_name,
            degraded_level=w.degraded_level,
            serves_traffic=serves_traffic(settings),
        ),
        opts=pulumi.ResourceOptions(providers=[cluster]),
    )
    BackupJobs(
        "backup-jobs",
        BackupJobsArgs(
            namespace=workloads.namespace,
            region=settings.region,
            active=settings.role == "active",
            jobs=backup_job_specs(settings),
            bucket_name=settings.bucket_name("backups", settings.region),
            kms_key_arn=kms_key_arn,
            database_endpoints=database_endpoints,
            postgres_database=settings.database.postgres.database_name,
            alert_topic_arn=alert_topic_arn,
            oidc_provider_arn=w.oidc_provider_arn,
            oidc_issuer=w.oidc_issuer,
            uploader_image=w.backup_images.aws_cli,
        ),
        opts=pulumi.ResourceOptions(providers=[aws_provider, cluster]),
    )
    return WorkloadTier(
        namespace=workloads.namespace,
        replicas={name: w.replicas_for(s, settings.role) for name, s in configured.items()},
    )
