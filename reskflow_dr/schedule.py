"""How long a schedule can leave between two runs: AWS ``rate(...)`` and six-field ``cron(...)``
expressions (EventBridge / AWS Backup grammar: ``?``, ``L``, ``W``, ``#``, names, year).

The cron grammar is pyawscron's; this module only measures the gaps. The times of day a cron
selects (minutes x hours) are the same on every day it fires, so the longest gap is the longest of
(a) two consecutive times within a day and (b) the last time of a firing day to the first time of
the next firing day. The firing days are walked over :data:`HORIZON_DAYS` from a fixed date, so
the answer does not depend on today (weekly, monthly, ``L``, ``W`` and ``#`` patterns all repeat
within it).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from pyawscron.awscron import AWSCron

_CRON = re.compile(r"^cron\((.+)\)$")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
#: The firing days are walked from here, over two years (a yearly schedule fires twice).
HORIZON_START = datetime(2026, 1, 1, tzinfo=UTC)
HORIZON_DAYS = 2 * 366
_DAY = 24 * 60


def _times_of_day(minutes: str, hours: str) -> list[int]:
    """The minutes after midnight a cron fires at, on a day it fires."""
    parsed = AWSCron(f"{minutes} {hours} * * ? *")
    return sorted({h * 60 + m for h in parsed.hours for m in parsed.minutes})


def _firing_days(day_of_month: str, month: str, day_of_week: str, year: str) -> list[datetime]:
    days = AWSCron(f"0 0 {day_of_month} {month} {day_of_week} {year}")
    end = HORIZON_START + timedelta(days=HORIZON_DAYS)
    out: list[datetime] = []
    current: datetime | None = HORIZON_START - timedelta(minutes=1)
    while True:
        current = days.occurrence(current).next()
        if current is None or current >= end:
            return out
        out.append(current)


@functools.lru_cache(maxsize=256)
def schedule_interval(expression: str) -> timedelta | None:
    """The longest gap between two runs of an AWS cron (six fields) or rate expression: the
    worst-case age of the newest recovery point. None when the expression is not recognised, or
    fires fewer than twice in the horizon."""
    expression = expression.strip()
    rate = _RATE.match(expression)
    if rate:
        return timedelta(seconds=int(rate.group(1)) * _UNITS[rate.group(2).rstrip("s")])
    cron = _CRON.match(expression)
    fields = cron.group(1).split() if cron else []
    if len(fields) != 6:
        return None
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if "?" not in (day_of_month, day_of_week):  # AWS: one of the two day fields must be ?
        return None
    try:
        times = _times_of_day(minutes, hours)
        days = _firing_days(day_of_month, month, day_of_week, year)
    except (ValueError, IndexError, KeyError, TypeError):
        return None
    if not times or len(days) < 2:
        return None
    gaps = [b - a for a, b in pairwise(times)]
    for first, second in pairwise(days):
        gaps.append((second - first).days * _DAY - times[-1] + times[0])
    return timedelta(minutes=max(gaps))
