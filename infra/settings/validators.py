"""Pure checks of config values that have a grammar: cron schedules and container image references.

Each function returns ``None`` when the value is fine, or one short reason when it is not; the
caller turns the reason into a :class:`infra.settings.ConfigError` naming the key.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------------------------
# Cron, as the Kubernetes CronJob controller parses it (robfig/cron's standard parser)
# --------------------------------------------------------------------------------------------

#: ``@`` descriptors the CronJob controller accepts in place of five fields.
CRON_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")

#: (name, lowest, highest, names usable instead of numbers, first name's number)
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...], int], ...] = (
    ("minute", 0, 59, (), 0),
    ("hour", 0, 23, (), 0),
    ("day of month", 1, 31, (), 0),
    ("month", 1, 12, _MONTHS, 1),
    ("day of week", 0, 6, _DAYS, 0),
)


def _cron_number(text: str, field: tuple[str, int, int, tuple[str, ...], int]) -> int | str:
    """A number of the field, or a reason string."""
    name, low, high, names, first = field
    upper = text.upper()
    if upper in names:
        return names.index(upper) + first
    if not text.isdigit():
        return f"{name} {text!r} is not a number" + (
            f" or one of {', '.join(names)}" if names else ""
        )
    value = int(text)
    if not low <= value <= high:
        return f"{name} {value} is outside {low}-{high}"
    return value


def _cron_part(part: str, field: tuple[str, int, int, tuple[str, ...], int]) -> str | None:
    """One comma-separated element: ``*``, ``?``, ``N``, ``N-M``, each optionally ``/STEP``."""
    name = field[0]
    span, slash, step = part.partition("/")
    if slash and (not step.isdigit() or int(step) == 0):
        return f"{name} step {step!r} is not a positive number"
    if span in ("*", "?"):
        if span == "?" and name not in ("day of month", "day of week"):
            return f"'?' is allowed only in day of month or day of week, not in {name}"
        return None
    numbers: list[int] = []
    for text in span.split("-", 1):
        number = _cron_number(text, field)
        if isinstance(number, str):
            return number
        numbers.append(number)
    if numbers != sorted(numbers):
        return f"{name} range {span!r} runs backwards"
    return None


def cron_problem(schedule: str) -> str | None:
    """Why ``schedule`` is not a schedule the Kubernetes CronJob controller accepts, or None."""
    text = schedule.strip()
    if text.startswith("@"):
        if text.lower() in CRON_DESCRIPTORS:
            return None
        return f"unknown descriptor {text!r}; known: {', '.join(CRON_DESCRIPTORS)}"
    if text.upper().startswith(("TZ=", "CRON_TZ=")):
        return "time zones in the schedule are refused by Kubernetes; jobs run in UTC"
    fields = text.split()
    if len(fields) != len(_CRON_FIELDS):
        return f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}"
    for value, field in zip(fields, _CRON_FIELDS, strict=True):
        for part in value.split(","):
            problem = _cron_part(part, field)
            if problem is not None:
                return problem
    return _never_fires(fields)


#: Days in each month, February counted in a leap year (a schedule on Feb 29 does fire).
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _cron_values(value: str, field: tuple[str, int, int, tuple[str, ...], int]) -> set[int]:
    """The numbers a valid field matches (call after :func:`_cron_part` accepted every part)."""
    _, low, high, _, _ = field
    matched: set[int] = set()
    for part in value.split(","):
        span, slash, step_text = part.partition("/")
        step = int(step_text) if slash else 1
        if span in ("*", "?"):
            first, last = low, high
        else:
            bounds = [_cron_number(text, field) for text in span.split("-", 1)]
            first = int(bounds[0])
            last = int(bounds[-1]) if len(bounds) == 2 or not slash else high
        matched.update(range(first, last + 1, step))
    return matched


def _never_fires(fields: list[str]) -> str | None:
    """Why a syntactically valid schedule can never fire, or None. With the day of week
    unrestricted (``*`` or ``?``) only the day of month decides, and a day past the end of every
    chosen month (February 30, April 31) never comes."""
    day_of_month, month, day_of_week = fields[2], fields[3], fields[4]
    if day_of_week not in ("*", "?") or day_of_month in ("*", "?"):
        return None
    days = _cron_values(day_of_month, _CRON_FIELDS[2])
    months = sorted(_cron_values(month, _CRON_FIELDS[3]))
    if any(day <= _MONTH_DAYS[m - 1] for m in months for day in days):
        return None
    names = ", ".join(_MONTHS[m - 1] for m in months)
    return f"never fires: day of month {min(days)} does not occur in {names}"


# --------------------------------------------------------------------------------------------
# Container image references (the distribution reference grammar, simplified)
# --------------------------------------------------------------------------------------------

_COMPONENT_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_DOMAIN_RE = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9-]+)*(?::[0-9]+)?$"
)
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
#: Tags that name no particular build: two regions could run different code under them.
MUTABLE_TAGS = ("latest",)


def tag_problem(tag: str) -> str | None:
    """Why ``tag`` is not a usable release tag, or None."""
    if not TAG_RE.fullmatch(tag):
        return "a tag is 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
    if tag.lower() in MUTABLE_TAGS:
        return f"{tag!r} names no particular build; pin a release tag or a digest"
    return None


def _name_ok(name: str) -> bool:
    """A repository name: an optional registry host (it has a dot or a port, or is localhost)
    then lowercase path components."""
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        if not _DOMAIN_RE.fullmatch(first):
            return False
        name = rest
    return all(_COMPONENT_RE.fullmatch(part) for part in name.split("/"))


def image_problem(image: str) -> str | None:
    """Why ``image`` is not a pinned image reference (``name:tag`` or ``name@sha256:...``)."""
    name, at, digest = image.partition("@")
    if at:
        if not _DIGEST_RE.fullmatch(digest):
            return "a digest is 'sha256:' followed by 64 lowercase hex digits"
        name = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
        return None if _name_ok(name) else f"{name!r} is not a valid image name"
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        return "an image needs a tag (name:tag) or a digest (name@sha256:...)"
    repository, _, tag = name.rpartition(":")
    if not _name_ok(repository):
        return f"{repository!r} is not a valid image name"
    return tag_problem(tag)
