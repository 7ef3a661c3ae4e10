"""CloudWatch Logs: log groups encrypted with a customer managed key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .common import LOG_GROUP, Findings, Meta, Res, check_cmk, resource_policy


def _check_log_group(group: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    check_cmk(group, ("kmsKeyId",), out)


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
]
