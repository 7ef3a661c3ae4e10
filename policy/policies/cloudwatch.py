"""CloudWatch: log groups encrypted with a customer managed key; replication-lag alarms that
cannot stay silent (a replica that stops reporting lag has stopped replicating)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .common import LOG_GROUP, UNKNOWN, Findings, Meta, Res, check_cmk, resource_policy

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
#: Replication-lag metrics whose absence means replication stopped.
LAG_METRICS = frozenset(
    {"ReplicaLag", "GlobalClusterReplicationLag", "GlobalDatastoreReplicationLag"}
)


def _check_log_group(group: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    check_cmk(group, ("kmsKeyId",), out)


def _lag_metrics(alarm: Res) -> set[str]:
    names = {alarm.get("metricName")}
    queries = alarm.get("metricQueries")
    if isinstance(queries, list):
        names |= {(q.get("metric") or {}).get("metricName") for q in queries if isinstance(q, dict)}
    return {n for n in names if isinstance(n, str)} & LAG_METRICS


def _check_lag_alarm(alarm: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    metrics = _lag_metrics(alarm)
    if not metrics:
        return
    missing = alarm.get("treatMissingData")
    if missing is UNKNOWN:
        out.unknown(alarm, "treatMissingData")
    elif missing != "breaching":
        out.fail(
            f"MetricAlarm {alarm.name}: {', '.join(sorted(metrics))} alarm treats missing data "
            f"as {missing or 'missing (the default)'}: a replica that stopped replicating stays "
            "silent"
        )


POLICIES = [
    resource_policy(
        Meta(
            "reskflow-logs-cmk",
            "CloudWatch log groups are encrypted with a customer managed KMS key.",
            "Set kmsKeyId to the region's CMK ARN; the key policy must allow the "
            "logs.<region>.amazonaws.com principal.",
            "encryption",
        ),
        [LOG_GROUP],
        _check_log_group,
    ),
    resource_policy(
        Meta(
            "reskflow-lag-alarm-breaching",
            "Replication-lag alarms treat missing data as breaching.",
            "Set treatMissingData to breaching on every alarm reading ReplicaLag, "
            "GlobalClusterReplicationLag or GlobalDatastoreReplicationLag.",
            "monitoring",
        ),
        [METRIC_ALARM],
        _check_lag_alarm,
    ),
]
