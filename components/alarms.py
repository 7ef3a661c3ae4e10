"""The region's alerting: a critical and a warning SNS topic encrypted with the regional CMK,
CloudWatch metric alarms routed by severity, and EventBridge rules for AWS Backup job failures
(critical). The paging endpoint is subscribed to the critical topic only."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.common import policy_json

#: Namespace and metric of Route 53 health-check status; published in us-east-1 only.
ROUTE53_METRICS_REGION = "us-east-1"


Severity = Literal["critical", "warning"]


@dataclass(frozen=True)
class MetricQuery:
    """One entry of a metric-math alarm: a metric (namespace, name, dimensions, stat) or an
    expression over the other entries' ids."""

    id: str
    """Lowercase id the expression refers to."""
    expression: str | None = None
    """Metric math expression (then no metric fields)."""
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: Mapping[str, pulumi.Input[str]] | None = None
    stat: str | None = None
    """``Sum``, ``Average``, ``p95``..."""
    period_seconds: int = 60
    return_data: bool = False
    """Exactly one query of an alarm returns the value compared with the threshold."""
    label: str | None = None


@dataclass(frozen=True)
class AlarmSpec:
    """One CloudWatch metric alarm, as plain values."""

    name: str
    """Short name, unique in the stack; the alarm is called ``reskflow-<name>``."""
    description: str
    """What crossing the threshold means and where the threshold comes from."""
    namespace: str
    """CloudWatch namespace, e.g. ``AWS/RDS``."""
    metric_name: str
    """Metric, e.g. ``ReplicaLag``."""
    dimensions: Mapping[str, pulumi.Input[str]]
    """Dimensions that select the one time series the alarm watches."""
    statistic: str
    """``Maximum``, ``Minimum``, ``Sum``, ``Average`` or ``SampleCount``."""
    comparison: str
    """CloudWatch comparison operator, e.g. ``GreaterThanThreshold``."""
    threshold: float
    """Threshold in the metric's unit."""
    period_seconds: int = 60
    """Length of one evaluation period (10, 30 or a multiple of 60)."""
    evaluation_periods: int = 1
    """Consecutive periods beyond the threshold before the alarm fires."""
    treat_missing_data: str = "notBreaching"
    """How a period without data counts (``notBreaching``, ``breaching``, ``ignore``...)."""
    actions_enabled: bool = True
    """Whether state changes notify the topic (off for a drained health check)."""
    severity: Severity = "critical"
    """Which topic the alarm notifies: ``critical`` (pages) or ``warning``."""
    queries: tuple[MetricQuery, ...] = ()
    """Metric math instead of a single metric: then ``namespace``, ``metric_name``,
    ``dimensions`` and ``statistic`` only describe the returned series for the docs."""

    def metrics(self) -> list[tuple[str, str]]:
        """(namespace, metric) pairs the alarm reads."""
        if not self.queries:
            return [(self.namespace, self.metric_name)]
        return [
            (q.namespace, q.metric_name)
            for q in self.queries
            if q.namespace is not None and q.metric_name is not None
        ]


@dataclass(frozen=True)
class JobEvent:
    """An AWS Backup job event that means failure, matched by an EventBridge rule."""

    key: str
    """Short name of the rule (``backup-job``...)."""
    detail_type: str
    """EventBridge ``detail-type`` AWS Backup emits."""
    state_field: str
    """Field of ``detail`` holding the state (AWS Backup uses ``state`` or ``status``)."""
    failed_states: tuple[str, ...]
    """States that mean the job did not produce what it should have."""

    def pattern(self) -> str:
        return json.dumps(
            {
                "source": ["aws.backup"],
                "detail-type": [self.detail_type],
                "detail": {self.state_field: list(self.failed_states)},
            },
            sort_keys=True,
        )


#: Backup, copy and restore jobs (restore tests run restore jobs) that failed.
BACKUP_FAILURE_EVENTS: tuple[JobEvent, ...] = (
    JobEvent(
        "backup-job",
        "Backup Job State Change",
        "state",
        ("ABORTED", "EXPIRED", "FAILED", "PARTIAL"),
    ),
    JobEvent("copy-job", "Copy Job State Change", "state", ("FAILED", "PARTIAL")),
    JobEvent("restore-job", "Restore Job State Change", "status", ("ABORTED", "FAILED")),
)


def s3_replication_alarms(
    store: str,
    source_bucket: str,
    destination_bucket: str,
    rule_id: str,
    latency_threshold_seconds: int,
) -> list[AlarmSpec]:
    """Replication Time Control metrics of one replication rule: latency beyond the RTC threshold
    and any failed replication operation. S3 publishes these metrics only while objects are
    being replicated (https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html):
    no writes means no data, so missing data does not breach here; a stopped replication shows
    as failed operations or latency, and the readiness checks read the rule's status."""
    dimensions = {
        "SourceBucket": source_bucket,
        "DestinationBucket": destination_bucket,
        "RuleId": rule_id,
    }
    return [
        AlarmSpec(
            name=f"s3-{store}-replication-latency",
            description=(
                f"S3 replication of {source_bucket} to {destination_bucket} is more than "
                f"{latency_threshold_seconds} s behind (the Replication Time Control threshold)"
            ),
            namespace="AWS/S3",
            metric_name="ReplicationLatency",
            dimensions=dimensions,
            statistic="Maximum",
            comparison="GreaterThanThreshold",
            threshold=latency_threshold_seconds,
            period_seconds=300,
        ),
        AlarmSpec(
            name=f"s3-{store}-replication-failed",
            description=f"S3 failed to replicate objects of {source_bucket}",
            namespace="AWS/S3",
            metric_name="OperationsFailedReplication",
            dimensions=dimensions,
            statistic="Sum",
            comparison="GreaterThanThreshold",
            threshold=0,
            period_seconds=300,
        ),
    ]


def health_check_alarm(name: str, health_check_id: pulumi.Input[str], live: bool) -> AlarmSpec:
    """Route 53 health check reported unhealthy; notifies only while the check is live (a drained
    check is unhealthy on purpose)."""
    return AlarmSpec(
        name=name,
        description="Route 53 health check of the API endpoint is unhealthy",
        namespace="AWS/Route53",
        metric_name="HealthCheckStatus",
        dimensions={"HealthCheckId": health_check_id},
        statistic="Minimum",
        comparison="LessThanThreshold",
        threshold=1,
        treat_missing_data="breaching",
        actions_enabled=live,
    )


def topic_policy(topic_arn: str, region: str, account_id: str) -> str:
    """The account manages the topic; CloudWatch alarms and EventBridge rules of this account and
    region publish to it; publishing without TLS is refused."""
    same_account = {"StringEquals": {"aws:SourceAccount": account_id}}

    def publisher(sid: str, service: str, source_arn: str) -> dict[str, object]:
        return {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {**same_account, "ArnLike": {"aws:SourceArn": source_arn}},
        }

    return policy_json(
        [
            {
                "Sid": "AccountManagesTopic",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": [
                    "sns:GetTopicAttributes",
                    "sns:SetTopicAttributes",
                    "sns:AddPermission",
                    "sns:RemovePermission",
                    "sns:DeleteTopic",
                    "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic",
                    "sns:Publish",
                ],
                "Resource": topic_arn,
            },
            publisher(
                "CloudWatchAlarmsPublish",
                "cloudwatch.amazonaws.com",
                f"arn:aws:cloudwatch:{region}:{account_id}:alarm:*",
            ),
            publisher(
                "EventBridgeRulesPublish",
                "events.amazonaws.com",
                f"arn:aws:events:{region}:{account_id}:rule/*",
            ),
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )


@dataclass(frozen=True)
class AlertsArgs:
    """Inputs of :class:`Alerts`."""

    region: str
    """Region of the topic, alarms and rules (the provider passed in must be for it)."""
    account_id: str
    """Account whose alarms and rules may publish to the topic."""
    kms_key_arn: pulumi.Input[str]
    """The regional CMK the topic is encrypted with (its key policy lets CloudWatch and
    EventBridge use it)."""
    emails: Sequence[str] = ()
    """Email addresses subscribed to the topic (each confirms by mail)."""
    webhook_url: pulumi.Input[str] | None = None
    """HTTPS endpoint subscribed to the topic, as a secret; it must auto-confirm."""
    alarms: Sequence[AlarmSpec] = ()
    """Metric alarms notifying the topic."""
    job_events: Sequence[JobEvent] = BACKUP_FAILURE_EVENTS
    """AWS Backup job failures routed to the topic by EventBridge."""
    topic_name: str = "reskflow-dr-alerts"
    """Name of the critical topic (SNS names are per region); the paging endpoint subscribes."""
    warning_topic_name: str = "reskflow-dr-warnings"
    """Name of the warning topic (email only, never pages)."""


class Alerts(pulumi.ComponentResource):
    """Critical and warning SNS topics (SSE with the CMK), their subscriptions, metric alarms
    and Backup event rules."""

    topic_arn: pulumi.Output[str]
    """The critical topic."""
    warning_topic_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: AlertsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:monitoring:Alerts", name, None, opts)
        topic = self._topic(f"{name}-topic", args.topic_name, args)
        warning = self._topic(f"{name}-warning-topic", args.warning_topic_name, args)
        self._subscribe(name, topic, args)
        self._subscribe_emails(f"{name}-warning", warning, args)
        topics = {"critical": topic, "warning": warning}
        for spec in args.alarms:
            self._alarm(name, topics[spec.severity], spec)
        for event in args.job_events:
            self._job_event(name, topic, event)
        self.topic_arn = topic.arn
        self.warning_topic_arn = warning.arn
        self.register_outputs(
            {"topic_arn": self.topic_arn, "warning_topic_arn": self.warning_topic_arn}
        )

    def _topic(self, resource_name: str, topic_name: str, args: AlertsArgs) -> aws.sns.Topic:
        child = pulumi.ResourceOptions(parent=self)
        topic = aws.sns.Topic(
            resource_name, name=topic_name, kms_master_key_id=args.kms_key_arn, opts=child
        )
        aws.sns.TopicPolicy(
            f"{resource_name}-policy",
            arn=topic.arn,
            policy=topic.arn.apply(lambda arn: topic_policy(arn, args.region, args.account_id)),
            opts=child,
        )
        return topic

    def _subscribe_emails(self, name: str, topic: aws.sns.Topic, args: AlertsArgs) -> None:
        for i, email in enumerate(args.emails):
            aws.sns.TopicSubscription(
                f"{name}-email-{i}",
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _subscribe(self, name: str, topic: aws.sns.Topic, args: AlertsArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        self._subscribe_emails(name, topic, args)
        if args.webhook_url is not None:
            aws.sns.TopicSubscription(
                f"{name}-webhook",
                topic=topic.arn,
                protocol="https",
                endpoint=args.webhook_url,
                endpoint_auto_confirms=True,
                opts=child,
            )

    def _alarm(self, name: str, topic: aws.sns.Topic, spec: AlarmSpec) -> None:
        single = not spec.queries
        aws.cloudwatch.MetricAlarm(
            f"{name}-{spec.name}",
            name=f"reskflow-{spec.name}",
            alarm_description=spec.description,
            namespace=spec.namespace if single else None,
            metric_name=spec.metric_name if single else None,
            dimensions=dict(spec.dimensions) if single else None,
            statistic=spec.statistic if single else None,
            period=spec.period_seconds if single else None,
            metric_queries=None if single else [_query_args(q) for q in spec.queries],
            comparison_operator=spec.comparison,
            threshold=spec.threshold,
            evaluation_periods=spec.evaluation_periods,
            treat_missing_data=spec.treat_missing_data,
            actions_enabled=spec.actions_enabled,
            alarm_actions=[topic.arn],
            ok_actions=[topic.arn],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _job_event(self, name: str, topic: aws.sns.Topic, event: JobEvent) -> None:
        rule = aws.cloudwatch.EventRule(
            f"{name}-{event.key}-failed",
            name=f"reskflow-{event.key}-failed",
            description=f"AWS Backup {event.detail_type}: {', '.join(event.failed_states)}",
            event_pattern=event.pattern(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-{event.key}-failed-to-topic",
            rule=rule.name,
            target_id="alerts-topic",
            arn=topic.arn,
            opts=pulumi.ResourceOptions(parent=self),
        )


def _query_args(query: MetricQuery) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    """A metric-math entry; see the metric_queries docstring of ``aws.cloudwatch.MetricAlarm``
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html)."""
    metric = None
    if query.expression is None:
        assert query.metric_name is not None and query.stat is not None
        metric = aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=query.namespace,
            metric_name=query.metric_name,
            dimensions=dict(query.dimensions or {}),
            stat=query.stat,
            period=query.period_seconds,
        )
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query.id,
        expression=query.expression,
        metric=metric,
        label=query.label,
        return_data=query.return_data,
    )
