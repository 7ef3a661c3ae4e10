"""Recovery objectives (RTO, RPO) and the promotion-time assumption of the RTO budget."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from infra.settings.core import PROJECT, ConfigError, Key


@dataclass(frozen=True)
class RecoveryTargets:
    """The seed's recovery objectives and the promotion-time assumption of the RTO budget."""

    rto_minutes: int = 15
    rpo_minutes: int = 5
    promotion_minutes: int = 10
    """Assumed duration of a cross-region replica promotion: AWS documents only that it "can take
    several minutes or longer to complete, depending on the size of the read replica"."""


def _minutes(raw: Mapping[str, str], key: Key, default: int) -> int:
    """A whole number of minutes within the key's declared bounds."""
    value = raw.get(key.name)
    if value is None or value == "":
        return default
    low, high = key.minimum, key.maximum
    assert low is not None and high is not None  # declared on every minutes key
    text = value.strip()
    if not re.fullmatch(r"[0-9]+", text) or not low <= int(text) <= high:
        raise ConfigError(
            key.name, value, f"expected a whole number of minutes from {low} to {high}"
        )
    return int(text)


def parse_recovery_targets(raw: Mapping[str, str]) -> RecoveryTargets:
    return RecoveryTargets(
        rto_minutes=_minutes(raw, RTO_TARGET_MINUTES_KEY, RecoveryTargets.rto_minutes),
        rpo_minutes=_minutes(raw, RPO_TARGET_MINUTES_KEY, RecoveryTargets.rpo_minutes),
        promotion_minutes=_minutes(raw, PROMOTION_MINUTES_KEY, RecoveryTargets.promotion_minutes),
    )


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

RTO_TARGET_MINUTES_KEY = Key(
    f"{PROJECT}:rtoTargetMinutes",
    "integer",
    "`15`",
    "Recovery time objective the RTO/RPO budget is compared with (seed: 15 minutes).",
    minimum=1,
    maximum=1440,
    pulumi_default=15,
)


RPO_TARGET_MINUTES_KEY = Key(
    f"{PROJECT}:rpoTargetMinutes",
    "integer",
    "`5`",
    "Recovery point objective the RTO/RPO budget and the readiness lag check use (seed: 5 "
    "minutes).",
    minimum=1,
    maximum=1440,
    pulumi_default=5,
)


PROMOTION_MINUTES_KEY = Key(
    f"{PROJECT}:promotionMinutes",
    "integer",
    "`10`",
    "Assumed time to promote a cross-region replica, in the RTO budget. AWS documents only "
    'that promotion "can take several minutes or longer to complete, depending on the size '
    'of the read replica"; measure it in drills and set it here.',
    minimum=1,
    maximum=240,
    pulumi_default=10,
)

#: This tier's keys, in the order the README lists them.
KEYS: tuple[Key, ...] = (
    RTO_TARGET_MINUTES_KEY,
    RPO_TARGET_MINUTES_KEY,
    PROMOTION_MINUTES_KEY,
)
