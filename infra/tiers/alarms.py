"""The regional alarm topic and every alarm the other tiers ask for."""

from __future__ import annotations

import pulumi

from components.alarms import (
    ROUTE53_METRICS_REGION,
    AlarmSpec,
    Alerts,
    AlertsArgs,
    health_check_alarm,
    s3_replication_alarms,
)
from components.replication import replication_rule_id
from components.traffic import FailoverEndpoint
from infra.settings import REPLICATION_TIME_MINUTES, StackSettings
from infra.tiers.encryption import Encryption


def build_alarms(
    settings: StackSettings,
    regional: pulumi.ResourceOptions,
    encryption: Encryption,
    api: FailoverEndpoint,
    lag_alarms: list[AlarmSpec],
) -> Alerts:
    """The regional alarm topic, S3 replication and health-check alarms, the replication-lag
    alarms the data tiers ask for, and AWS Backup failure events."""
    alarms = list(lag_alarms)
    if settings.peer_deployed:
        for store in settings.stores:
            alarms += s3_replication_alarms(
                store.key,
                settings.bucket_name(store.key, settings.region),
                settings.bucket_name(store.key, settings.peer_region),
                replication_rule_id(settings.peer_region),
                REPLICATION_TIME_MINUTES * 60,
            )
    if settings.region == ROUTE53_METRICS_REGION:
        # Route 53 publishes health-check metrics in us-east-1 only: the us-west-2 stack has no
        # provider there (and must deploy while it is down), so only this stack alarms.
        alarms.append(
            health_check_alarm("api-health-check", api.health_check_id, not settings.drained)
        )
    webhook = settings.alarms.webhook_url
    return Alerts(
        "alerts",
        AlertsArgs(
            region=settings.region,
            account_id=settings.account_id,
            kms_key_arn=encryption.key.key_arn,
            emails=settings.alarms.emails,
            webhook_url=None if webhook is None else pulumi.Output.secret(webhook),
            alarms=alarms,
        ),
        opts=regional,
    )
