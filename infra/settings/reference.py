"""Documents generated from the key declarations (:data:`infra.settings.keys.KEYS`).

- the README's config reference table (``reskflow-dr config-reference --update README.md``);
- the JSON Schema of the stack files, ``schema/stack-config.schema.json``, which editors use
  through the ``# yaml-language-server: $schema=...`` line at the top of ``Pulumi.<stack>.yaml``;
- the typed declarations in ``Pulumi.yaml``'s ``config:`` block, in the form Pulumi's project
  schema accepts (``type`` ``string``/``integer``/``boolean``/``array``, ``description``,
  ``default``), beside the values shared by both stacks (``value:``), which are kept as written.

``python -m infra.settings`` rewrites the last two (``make docs`` runs it); the tests
fail when any of the three drifts from the declarations.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from infra.settings.core import PROJECT, Key
from infra.settings.keys import KEYS

ROOT = Path(__file__).resolve().parent.parent.parent
SCHEMA_PATH = Path("schema") / "stack-config.schema.json"
SCHEMA_ID = "https://reskflow.example.com/schema/stack-config.schema.json"

#: A ``secure:`` value as `pulumi config set --secret` writes it.
SECURE: dict[str, Any] = {
    "type": "object",
    "properties": {"secure": {"type": "string", "minLength": 1}},
    "required": ["secure"],
    "additionalProperties": False,
}
_PULUMI_TYPES = {"string": "string", "integer": "integer", "boolean": "boolean"}


def config_reference_markdown() -> str:
    """The README's config reference table, generated from :data:`KEYS`."""
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for k in KEYS:
        lines.append(f"| `{k.name}` | {k.type} | {k.default} | {k.doc} |")
    return "\n".join(lines)


def value_schema(key: Key) -> dict[str, Any]:
    """The JSON Schema of one key's value in a stack file."""
    if key.secret:
        return {"description": key.doc, **SECURE}
    base: dict[str, Any]
    if key.type == "integer":
        base = {"type": "integer"}
        if key.minimum is not None:
            base["minimum"] = key.minimum
        if key.maximum is not None:
            base["maximum"] = key.maximum
    elif key.type == "boolean":
        base = {"type": "boolean"}
    elif key.type == "list":
        base = {"type": "array", "items": {"type": "integer", "minimum": 1}, "uniqueItems": True}
    elif key.model is not None:
        base = key.model.model_json_schema(by_alias=True)
    elif key.type == "object" and key.fields:
        base = {
            "type": "object",
            "propertyNames": {"enum": list(key.fields)},
        }
    elif key.type == "object":
        base = {"type": "object", "additionalProperties": {"type": "string"}}
    else:
        base = {"type": "string"}
        if key.choices:
            base["enum"] = list(key.choices)
    if key.pulumi_default is not None:
        base["default"] = key.pulumi_default
    return {"description": key.doc, "anyOf": [base, SECURE]}


def stack_schema() -> dict[str, Any]:
    """The JSON Schema of a ``Pulumi.<stack>.yaml`` file."""
    namespaces = "|".join(sorted({k.name.split(":", 1)[0] for k in KEYS}))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"{PROJECT} stack config (Pulumi.<stack>.yaml)",
        "description": "Generated from infra/settings by `make docs`; do not edit by hand.",
        "type": "object",
        "properties": {
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {},
            "config": {
                "type": "object",
                "properties": {k.name: value_schema(k) for k in KEYS},
                "patternProperties": {f"^(?!({namespaces}):)": {}},
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    }


def schema_text() -> str:
    return json.dumps(stack_schema(), indent=2) + "\n"


def pulumi_declaration(key: Key) -> dict[str, Any] | None:
    """The key's declaration in ``Pulumi.yaml``, or None where Pulumi's project schema cannot
    express it: objects and secrets have no project type, keys of other namespaces may carry only
    a value, and a typed key without a default would be required in every stack."""
    if not key.name.startswith(f"{PROJECT}:") or key.type not in _PULUMI_TYPES:
        return None
    if key.pulumi_default is None and key.default != "required":
        return None
    declaration: dict[str, Any] = {"type": _PULUMI_TYPES[key.type], "description": key.doc}
    if key.pulumi_default is not None:
        declaration["default"] = key.pulumi_default
    return declaration


def project_text(current: str) -> str:
    """``Pulumi.yaml`` with its ``config:`` declarations regenerated. Values (``value:``) and keys
    that are not declared here stay as they are."""
    doc = yaml.safe_load(current) or {}
    config: dict[str, Any] = dict(doc.get("config") or {})
    declared: dict[str, Any] = {}
    for key in KEYS:
        declaration = pulumi_declaration(key)
        existing = config.pop(key.name, None)
        value = existing.get("value") if isinstance(existing, dict) else None
        if declaration is None and value is None:
            continue
        entry = dict(declaration or {})
        if value is not None:
            entry["value"] = value
        declared[key.name] = entry
    head = {k: v for k, v in doc.items() if k != "config"}
    dump = yaml.safe_dump(head, sort_keys=False, width=100, allow_unicode=True)
    body = yaml.safe_dump({**config, **declared}, sort_keys=False, width=100, allow_unicode=True)
    indented = "".join(f"  {line}" if line.strip() else line for line in body.splitlines(True))
    return (
        dump
        + "# Project-level config. `value:` entries are shared by both stacks (a stack file's own\n"
        + "# value wins); `type`/`description`/`default` are generated from infra/settings by\n"
        + "# `make docs` (python -m infra.settings).\n"
        + "config:\n"
        + indented
    )
