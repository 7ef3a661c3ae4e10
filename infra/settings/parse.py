"""Small parsers shared by the tiers: each raises :class:`ConfigError` naming the key."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from infra.settings.core import ConfigError


def choice(key: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(key, value, "allowed values are " + ", ".join(allowed))
    return value


def as_bool(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ConfigError(key, value, "expected a boolean: true or false")


def positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(key, value, "expected a positive whole number of days")
    text = str(value).strip()
    if not re.fullmatch(r"-?[0-9]+", text):
        raise ConfigError(key, value, "expected a positive whole number of days")
    number = int(text)
    if number <= 0:
        raise ConfigError(key, value, "expected a positive whole number of days (at least 1)")
    return number


def as_object(key: str, value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ConfigError(key, value, "expected an object (a YAML map)")
    return parsed


def suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else "known keys: " + ", ".join(sorted(known))


def fields_of(key: str, raw: str | None, names: Mapping[str, str]) -> dict[str, Any]:
    """An object key's fields, by their Python names; unknown fields are refused."""
    if raw is None:
        return {}
    values: dict[str, Any] = {}
    for name, value in as_object(key, raw).items():
        if name not in names:
            raise ConfigError(f"{key}.{name}", value, "unknown field; " + suggest(name, [*names]))
        values[names[name]] = value
    return values


def whole(key: str, value: Any, low: int, high: int, unit: str, why: str = "") -> int:
    """A whole number in ``low..high``; ``why`` explains the bounds in the error."""
    text = "" if isinstance(value, bool) else str(value).strip()
    if not isinstance(value, (int, str)) or not re.fullmatch(r"-?[0-9]+", text):
        text = ""
    if not text or not low <= int(text) <= high:
        raise ConfigError(
            key, value, f"expected a whole number of {unit} from {low} to {high}{why}"
        )
    return int(text)


def as_text(key: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ConfigError(key, value, "expected a string")
    return str(value)


def matching(key: str, value: Any, pattern: re.Pattern[str], allowed: str) -> str:
    text = as_text(key, value)
    if not pattern.fullmatch(text):
        raise ConfigError(key, value, f"expected {allowed}")
    return text


def int_between(key: str, value: Any, low: int, high: int, unit: str = "") -> int:
    allowed = f"expected a whole number from {low} to {high}{unit}"
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(key, value, allowed)
    text = str(value).strip()
    if not re.fullmatch(r"-?[0-9]+", text) or not low <= int(text) <= high:
        raise ConfigError(key, value, allowed)
    return int(text)


def as_list(key: str, value: Any) -> list[Any]:
    parsed = value
    if isinstance(value, str):
        try:
            parsed = json.loads(value) if value.strip() else []
        except json.JSONDecodeError:
            parsed = None
    if not isinstance(parsed, list):
        raise ConfigError(key, value, "expected a list")
    return parsed


def ids_of(
    key: str, value: Any, pattern: re.Pattern[str], what: str, minimum: int
) -> tuple[str, ...]:
    items = as_list(key, value)
    allowed = f"at least {minimum} distinct {what} ids ({pattern.pattern})"
    if len(items) < minimum or len(set(map(str, items))) != len(items):
        raise ConfigError(key, value, f"expected {allowed}")
    return tuple(matching(f"{key}[{i}]", v, pattern, f"a {what} id") for i, v in enumerate(items))


def choose(allowed: tuple[str, ...]) -> Callable[[str, Any], str]:
    return lambda key, value: choice(key, as_text(key, value), allowed)


def days_within(low: int) -> Callable[[str, Any], int]:
    return lambda key, value: int_between(key, value, low, 35, " (days)")


def known_fields(key: str, obj: Any, known: Collection[str]) -> dict[str, Any]:
    """``obj`` as a map whose every field is in ``known``."""
    if not isinstance(obj, dict):
        raise ConfigError(key, obj, "expected an object with fields " + ", ".join(known))
    for name, value in obj.items():
        if name not in known:
            raise ConfigError(
                f"{key}.{name}", value, "unknown field; " + suggest(name, list(known))
            )
    return obj
