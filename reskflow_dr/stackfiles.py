"""Reading ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` the way the Pulumi CLI does, offline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.settings import ConfigError, to_pulumi_value

#: Shown instead of a secret's value; secret config cannot be decrypted offline anyway.
SECRET = "[secret]"


class UsageError(ValueError):
    """Bad command-line usage or a missing file; ``str(err)`` is the one-line message."""


@dataclass(frozen=True)
class StackConfig:
    """A stack's config as the engine hands it to the program: strings, plus which are secret."""

    project: str
    stack: str
    program_dir: Path
    values: Mapping[str, str]
    secret_keys: frozenset[str] = field(default_factory=frozenset)
    display: Mapping[str, Any] = field(default_factory=dict)
    """The config as written in YAML (typed), secrets shown as ``[secret]``: for the plan JSON."""


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{path.name}:{where} is not valid YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path.name}: expected a YAML map at the top level")
    return data


def known_stacks(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def load_stack(root: Path, stack: str, overrides: Sequence[str] = ()) -> StackConfig:
    """Project config defaults, then the stack file, then ``--set KEY=VALUE`` overrides."""
    project_file = root / "Pulumi.yaml"
    if not project_file.is_file():
        raise UsageError(f"no Pulumi.yaml in {root}")
    project_doc = _load_yaml(project_file)
    project = str(project_doc.get("name", ""))
    main = project_doc.get("main", ".")
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        stacks = ", ".join(known_stacks(root)) or "none"
        raise UsageError(f"unknown stack {stack!r}: no {stack_file.name}; known stacks: {stacks}")

    values: dict[str, str] = {}
    display: dict[str, Any] = {}
    secrets: set[str] = set()

    def put(key: str, value: Any) -> None:
        if isinstance(value, dict) and set(value) == {"secure"}:
            secrets.add(key)
            values[key] = SECRET
            display[key] = SECRET
            return
        secrets.discard(key)  # a plain value replaces a secure one, as `pulumi config set` does
        values[key] = to_pulumi_value(value)
        display[key] = value

    for key, spec in (project_doc.get("config") or {}).items():
        if isinstance(spec, dict) and "value" in spec:
            put(_qualify(key, project), spec["value"])
        elif isinstance(spec, dict) and "default" in spec:
            put(_qualify(key, project), spec["default"])
    stack_doc = _load_yaml(stack_file)
    stack_config = stack_doc.get("config") or {}
    if not isinstance(stack_config, dict):
        raise UsageError(f"{stack_file.name}: 'config' must be a map of keys to values")
    for key, value in stack_config.items():
        put(_qualify(str(key), project), value)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set expects KEY=VALUE, got {item!r}")
        put(_qualify(key, project), _parse_override(key, raw))
    return StackConfig(
        project=project,
        stack=stack,
        program_dir=(root / str(main)).resolve(),
        values=values,
        secret_keys=frozenset(secrets),
        display=display,
    )


def _parse_override(key: str, raw: str) -> Any:
    """``--set`` values are YAML scalars or flow collections, as in a stack file."""
    try:
        return yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        raise ConfigError(key, raw, "expected a YAML value") from None
