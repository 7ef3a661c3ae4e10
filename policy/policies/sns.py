"""SNS: topics encrypted with a customer managed key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .common import SNS_TOPIC, Findings, Meta, Res, check_cmk, resource_policy


def _check_topic(topic: Res, _cfg: Mapping[str, Any], out: Findings) -> None:
    check_cmk(topic, ("kmsMasterKeyId",), out)


POLICIES = [
    resource_policy(
        Meta(
            "reskflow-sns-cmk",
            "SNS topics are encrypted with a customer managed KMS key.",
            "Set kmsMasterKeyId to the region's CMK ARN (not alias/aws/sns); the key policy must "
            "let the publishing services (CloudWatch, AWS Backup) use it.",
            "encryption",
        ),
        [SNS_TOPIC],
        _check_topic,
    ),
]
