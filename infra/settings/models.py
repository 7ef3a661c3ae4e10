"""Per-field validation of object keys with pydantic: each field is declared once, as a typed
model field (name, camelCase alias, type, default, bounds, description). The model validates a
stack's value and gives the JSON Schema of the key; :func:`parse_section` turns pydantic's error
into the project's one-line :class:`ConfigError` (key path, value, what is allowed)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from annotated_types import GroupedMetadata
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, WithJsonSchema
from pydantic.alias_generators import to_camel

from infra.settings.core import ConfigError, Key
from infra.settings.parse import as_object, suggest


class Section(BaseModel):
    """An object key's fields: frozen, unknown fields refused, written in camelCase in YAML."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True
    )

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The fields as written in a stack file."""
        return tuple(f.alias or name for name, f in cls.model_fields.items())


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError("expected a string")
        if str(value) not in choices:
            raise ValueError("allowed values are " + ", ".join(choices))
        return str(value)

    return check


def _whole(low: int, high: int, unit: str) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        allowed = f"expected a whole number from {low} to {high}{unit}"
        text = "" if isinstance(value, bool) else str(value).strip()
        if not isinstance(value, (int, str)) or not re.fullmatch(r"-?[0-9]+", text):
            raise ValueError(allowed)
        if not low <= int(text) <= high:
            raise ValueError(allowed)
        return int(text)

    return check


def _matching(pattern: str, allowed: str, reserved: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise ValueError(f"expected {allowed}")
        if value.lower() in reserved:
            raise ValueError("is reserved by RDS; choose another name")
        return value

    return check


class Rule(GroupedMetadata):
    """One field's validation and JSON Schema, used as ``Annotated[type, rule]``."""

    def __init__(self, check: Callable[[Any], Any], schema: dict[str, Any]) -> None:
        self.items = (BeforeValidator(check), WithJsonSchema(schema))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)


def choice(choices: tuple[str, ...], doc: str) -> Rule:
    """A string limited to ``choices``."""
    schema = {"type": "string", "enum": list(choices), "description": doc}
    return Rule(_one_of(choices), schema)


def whole(low: int, high: int, doc: str, unit: str = "") -> Rule:
    """A whole number within ``low..high`` (digits in a string are accepted)."""
    schema = {"type": "integer", "minimum": low, "maximum": high, "description": doc}
    return Rule(_whole(low, high, unit), schema)


def name(pattern: str, allowed: str, doc: str, reserved: tuple[str, ...] = ()) -> Rule:
    """A string matching ``pattern`` (the whole string), not one of ``reserved``."""
    schema = {"type": "string", "pattern": f"^{pattern}$", "description": doc}
    return Rule(_matching(pattern, allowed, reserved), schema)


S = TypeVar("S", bound=Section)


def parse_section(model: type[S], key: Key, raw: str | None) -> S:
    """Object key ``key`` (JSON text, as Pulumi hands it over) validated by ``model``."""
    if raw is None:
        return model()
    values = as_object(key.name, raw)
    try:
        return model.model_validate(values)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        path, value = f"{key.name}.{where}", first.get("input")
        if first["type"] == "extra_forbidden":
            raise ConfigError(
                path, value, "unknown field; " + suggest(where, list(model.field_names()))
            ) from None
        error = (first.get("ctx") or {}).get("error")
        raise ConfigError(path, value, str(error) if error else first["msg"]) from None
