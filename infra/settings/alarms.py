"""Alarm subscriptions, the replication-lag alarm derived from the RPO, the endpoint canaries and
the cost guard rails."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.alarms import AlarmSpec
from infra.settings.core import PROJECT, RPO_SECONDS, ConfigError, Key
from infra.settings.parse import as_list, fields_of, whole


@dataclass(frozen=True)
class AlarmSettings:
    """Alarm subscriptions and the replication-lag alarm derived from the RPO."""

    emails: tuple[str, ...] = ()
    webhook_url: str | None = None
    lag_threshold_seconds: int = 60
    lag_period_seconds: int = 60
    lag_evaluation_periods: int = 3
    peer_endpoint: str | None = None
    """The other region's public endpoint, watched by this region's canaries."""
    health_path: str = "/health"
    canary_rate_minutes: int = 5
    budget_monthly_usd: float | None = None
    budget_alert_percents: tuple[float, ...] = ()
    budget_forecast_percent: float | None = None
    anomaly_threshold_usd: float = 100.0

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
            # No data from a replica means replication stopped: alarm, never stay silent.
            treat_missing_data="breaching",
        )


_ALARM_FIELDS = {
    "emails": "emails",
    "lagThresholdSeconds": "lag_threshold_seconds",
    "lagPeriodSeconds": "lag_period_seconds",
    "lagEvaluationPeriods": "lag_evaluation_periods",
    "peerEndpoint": "peer_endpoint",
    "healthPath": "health_path",
    "canaryRateMinutes": "canary_rate_minutes",
    "budgetMonthlyUsd": "budget_monthly_usd",
    "budgetAlertPercents": "budget_alert_percents",
    "budgetForecastPercent": "budget_forecast_percent",
    "anomalyThresholdUsd": "anomaly_threshold_usd",
}

#: CloudWatch: period x evaluation periods at most one day for periods under an hour, seven days
#: otherwise (PutMetricAlarm ``Period``:
#: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
MAX_WINDOW_SHORT_PERIOD = 86_400
MAX_WINDOW = 604_800


def window_problem(period: int, periods: int) -> str | None:
    """Why CloudWatch refuses this evaluation window, or None."""
    limit = MAX_WINDOW_SHORT_PERIOD if period < 3600 else MAX_WINDOW
    if period * periods > limit:
        return (
            f"period x evaluation periods = {period * periods} s exceeds CloudWatch's {limit} s "
            "limit"
        )
    return None


#: Synthetics schedules: rate(N minutes) with N from 1 to 60 (cron is not offered here).
CANARY_RATE_RANGE = (1, 60)


def _amount(key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(key, value, f"expected a number from {low:g} to {high:g}")
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(key, value, f"expected a number from {low:g} to {high:g}") from None
    if not low <= number <= high:
        raise ConfigError(key, value, f"expected a number from {low:g} to {high:g}")
    return number


def _costs(key: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The budget fields: an amount and at least one alert, or neither."""
    amount = values.get("budget_monthly_usd")
    percents = values.get("budget_alert_percents")
    forecast = values.get("budget_forecast_percent")
    parsed: dict[str, Any] = {}
    if amount is None:
        if percents is not None or forecast is not None:
            raise ConfigError(
                f"{key}.budgetMonthlyUsd", None, "required: the budget alerts need an amount"
            )
    else:
        parsed["budget_monthly_usd"] = _amount(f"{key}.budgetMonthlyUsd", amount, 1, 1e9)
        alerts = as_list(f"{key}.budgetAlertPercents", percents or [])
        parsed["budget_alert_percents"] = tuple(
            _amount(f"{key}.budgetAlertPercents", p, 1, 1000) for p in alerts
        )
        if forecast is not None:
            parsed["budget_forecast_percent"] = _amount(
                f"{key}.budgetForecastPercent", forecast, 1, 1000
            )
        if not alerts and forecast is None:
            raise ConfigError(
                f"{key}.budgetAlertPercents",
                percents,
                "a budget needs at least one alert (actual-cost percentages such as [80, 100], "
                "or budgetForecastPercent)",
            )
    if "anomaly_threshold_usd" in values:
        parsed["anomaly_threshold_usd"] = _amount(
            f"{key}.anomalyThresholdUsd", values["anomaly_threshold_usd"], 1, 1e6
        )
    return parsed


_PATH_RE = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@/%-]*$")
_HOST_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")


def _canaries(key: str, values: Mapping[str, Any]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    if values.get("peer_endpoint") is not None:
        host = str(values["peer_endpoint"]).strip().lower()
        if not _HOST_RE.fullmatch(host):
            raise ConfigError(
                f"{key}.peerEndpoint", values["peer_endpoint"], "expected a DNS name (no scheme)"
            )
        parsed["peer_endpoint"] = host
    if "health_path" in values:
        path = values["health_path"]
        if not isinstance(path, str) or not _PATH_RE.fullmatch(path):
            raise ConfigError(f"{key}.healthPath", path, "expected a URL path starting with /")
        parsed["health_path"] = path
    if "canary_rate_minutes" in values:
        low, high = CANARY_RATE_RANGE
        parsed["canary_rate_minutes"] = whole(
            f"{key}.canaryRateMinutes",
            values["canary_rate_minutes"],
            low,
            high,
            "minutes",
            " (a Synthetics schedule rate(N minutes))",
        )
    return parsed


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
    problem = window_problem(period, periods)
    if problem is not None:
        raise ConfigError(f"{key}.lagEvaluationPeriods", periods, problem)
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
    return AlarmSettings(
        tuple(emails),
        webhook,
        threshold,
        period,
        periods,
        **_canaries(key, values),
        **_costs(key, values),
    )


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
    f"must stay within the {RPO_SECONDS} s RPO. Canaries: `peerEndpoint` (the other region's "
    "public endpoint, watched from here too), `healthPath` (`/health`), `canaryRateMinutes` "
    "(5, 1-60). Costs: `budgetMonthlyUsd` (unset: no budget), `budgetAlertPercents` (actual "
    "cost, e.g. [80, 100]) and `budgetForecastPercent` (at least one alert with an amount), "
    "`anomalyThresholdUsd` (100).",
    fields=tuple(_ALARM_FIELDS),
)


ALARM_WEBHOOK_URL_KEY = Key(
    f"{PROJECT}:alarmWebhookUrl",
    "secret string",
    "unset",
    "HTTPS paging endpoint (for example PagerDuty's integration URL) subscribed to the "
    "critical alarm topic only. It carries a token: set it with "
    "`pulumi config set --secret`; it must auto-confirm SNS subscriptions.",
)

#: This tier's keys, in the order the README lists them.
KEYS: tuple[Key, ...] = (
    ALARMS_KEY,
    ALARM_WEBHOOK_URL_KEY,
)
