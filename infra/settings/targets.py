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


def _minutes(raw: Mapping[str, str], name: str, default: int, high: int) -> int:
    key = f"{PROJECT}:{name}"
    value = raw.get(key)
    if value is None or value == "":
        return default
    text = value.strip()
    if not re.fullmatch(r"[0-9]+", text) or not 1 <= int(text) <= high:
        raise ConfigError(key, value, f"expected a whole number of minutes from 1 to {high}")
    return int(text)


def parse_recovery_targets(raw: Mapping[str, str]) -> RecoveryTargets:
    return RecoveryTargets(
        rto_minutes=_minutes(raw, "rtoTargetMinutes", RecoveryTargets.rto_minutes, 1440),
        rpo_minutes=_minutes(raw, "rpoTargetMinutes", RecoveryTargets.rpo_minutes, 1440),
        promotion_minutes=_minutes(raw, "promotionMinutes", RecoveryTargets.promotion_minutes, 240),
    )


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

RTO_TARGET_MINUTES_KEY = Key(
    f"{PROJECT}:rtoTargetMinutes",
    "integer",
    "`15`",
    "Recovery time objective the RTO/RPO budget is compared with (seed: 15 minutes).",
)


RPO_TARGET_MINUTES_KEY = Key(
    f"{PROJECT}:rpoTargetMinutes",
    "integer",
    "`5`",
    "Recovery point objective the RTO/RPO budget and the readiness lag check use (seed: 5 "
    "minutes).",
)


PROMOTION_MINUTES_KEY = Key(
    f"{PROJECT}:promotionMinutes",
    "integer",
    "`10`",
    "Assumed time to promote a cross-region replica, in the RTO budget. AWS documents only "
    'that promotion "can take several minutes or longer to complete, depending on the size '
    'of the read replica"; measure it in drills and set it here.',
)

#: This tier's keys, in the order the README lists them.
KEYS: tuple[Key, ...] = (
    RTO_TARGET_MINUTES_KEY,
    RPO_TARGET_MINUTES_KEY,
    PROMOTION_MINUTES_KEY,
)
