"""Alarm subscriptions and the replication-lag alarm derived from the RPO."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.alarms import AlarmSpec
from infra.settings.core import PROJECT, RPO_SECONDS, ConfigError, Key
from infra.settings.parse import fields_of, whole


@dataclass(frozen=True)
class AlarmSettings:
    """Alarm subscriptions and the replication-lag alarm derived from the RPO."""

    emails: tuple[str, ...] = ()
    webhook_url: str | None = None
    lag_threshold_seconds: int = 60
    lag_period_seconds: int = 60
    lag_evaluation_periods: int = 3

    def lag_alarm(
        self,
        name: str,
        namespace: str,
        metric_name: str,
        dimensions: Mapping[str, Any],
        milliseconds: bool = False,
    ) -> AlarmSpec:
        """A replication-lag alarm with the RPO-derived threshold, in the metric's unit."""
        scale = 1000 if milliseconds else 1
        return AlarmSpec(
            name=name,
            description=(
                f"{namespace} {metric_name} above {self.lag_threshold_seconds} s for "
                f"{self.lag_evaluation_periods} x {self.lag_period_seconds} s: lag would reach "
                f"the {RPO_SECONDS} s RPO if replication stalls"
            ),
            namespace=namespace,
            metric_name=metric_name,
            dimensions=dimensions,
            statistic="Maximum",
            comparison="GreaterThanThreshold",
            threshold=self.lag_threshold_seconds * scale,
            period_seconds=self.lag_period_seconds,
            evaluation_periods=self.lag_evaluation_periods,
        )


_ALARM_FIELDS = {
    "emails": "emails",
    "lagThresholdSeconds": "lag_threshold_seconds",
    "lagPeriodSeconds": "lag_period_seconds",
    "lagEvaluationPeriods": "lag_evaluation_periods",
}


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_alarms(raw: str | None, webhook: str | None, webhook_secret: bool) -> AlarmSettings:
    key = ALARMS_KEY.name
    values = fields_of(key, raw, _ALARM_FIELDS)
    emails = values.get("emails", [])
    if not isinstance(emails, list) or not all(
        isinstance(e, str) and _EMAIL_RE.fullmatch(e) for e in emails
    ):
        raise ConfigError(f"{key}.emails", emails, "expected a list of email addresses")
    default = AlarmSettings()
    threshold = whole(
        f"{key}.lagThresholdSeconds",
        values.get("lag_threshold_seconds", default.lag_threshold_seconds),
        1,
        RPO_SECONDS,
        "seconds",
    )
    period = whole(
        f"{key}.lagPeriodSeconds",
        values.get("lag_period_seconds", default.lag_period_seconds),
        60,
        RPO_SECONDS,
        "seconds",
    )
    if period % 60:
        raise ConfigError(f"{key}.lagPeriodSeconds", period, "expected a multiple of 60 seconds")
    periods = whole(
        f"{key}.lagEvaluationPeriods",
        values.get("lag_evaluation_periods", default.lag_evaluation_periods),
        1,
        RPO_SECONDS // 60,
        "periods",
    )
    if threshold + period * periods > RPO_SECONDS:
        raise ConfigError(
            f"{key}.lagThresholdSeconds",
            threshold,
            f"threshold + period x periods = {threshold + period * periods} s exceeds the "
            f"{RPO_SECONDS} s RPO: a stalled replica would pass the RPO before the alarm fires",
        )
    if webhook is not None and not webhook_secret:
        raise ConfigError(
            ALARM_WEBHOOK_URL_KEY.name,
            "<hidden>",
            "the URL carries a token: set it with `pulumi config set --secret`",
        )
    return AlarmSettings(tuple(emails), webhook, threshold, period, periods)


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

ALARMS_KEY = Key(
    f"{PROJECT}:alarms",
    "object",
    "`{}`",
    "`emails` (list of addresses subscribed to the regional alarm topic), "
    "`lagThresholdSeconds` (60), `lagPeriodSeconds` (60, a multiple of 60) and "
    "`lagEvaluationPeriods` (3) of the replication-lag alarms; threshold + period x periods "
    f"must stay within the {RPO_SECONDS} s RPO.",
    fields=tuple(_ALARM_FIELDS),
)


ALARM_WEBHOOK_URL_KEY = Key(
    f"{PROJECT}:alarmWebhookUrl",
    "secret string",
    "unset",
    "HTTPS endpoint (for example an incident tool's integration URL) subscribed to the alarm "
    "topic. It carries a token: set it with `pulumi config set --secret`; it must "
    "auto-confirm SNS subscriptions.",
)

#: This tier's keys, in the order the README lists them.
KEYS: tuple[Key, ...] = (
    ALARMS_KEY,
    ALARM_WEBHOOK_URL_KEY,
)
