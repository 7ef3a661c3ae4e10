"""Reading ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` the way the Pulumi CLI does, offline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.settings import ConfigError, to_pulumi_value
from infra.settings.core import CIPHERTEXT_RE

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


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping key given twice: YAML's "last one wins" would
    silently drop the first value."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise UsageError(
            f"{path.name}: byte {err.start} is not valid UTF-8; save the file as UTF-8"
        ) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None)
        if problem and str(problem).startswith("duplicate key"):
            raise UsageError(
                f"{path.name}:{where}: {problem}; each key may appear once (YAML would keep only "
                "the last value)"
            ) from None
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

    def put(key: str, value: Any, source: str, shown: bool = True) -> None:
        """Set ``key``; ``shown`` False for a project default, which the program receives but
        nobody wrote (the plan's config lists what the files and --set say)."""
        if isinstance(value, dict) and "secure" in value:
            _check_ciphertext(key, value, source)
            secrets.add(key)
            values[key] = SECRET
            display[key] = SECRET
            return
        secrets.discard(key)  # a plain value replaces a secure one, as `pulumi config set` does
        values[key] = to_pulumi_value(value)
        if shown:
            display[key] = value
        else:
            display.pop(key, None)

    shared, defaults = _project_values(project_file.name, project_doc, project)
    for key, default in defaults.items():
        put(key, default, project_file.name, shown=False)
    for key, value in shared.items():
        put(key, value, project_file.name)
    stack_doc = _load_yaml(stack_file)
    stack_config = stack_doc.get("config") or {}
    if not isinstance(stack_config, dict):
        raise UsageError(f"{stack_file.name}: 'config' must be a map of keys to values")
    for key, value in stack_config.items():
        put(_qualify(str(key), project), value, stack_file.name)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set expects KEY=VALUE, got {item!r}")
        put(_qualify(key, project), _parse_override(key, raw), "--set")
    return StackConfig(
        project=project,
        stack=stack,
        program_dir=(root / str(main)).resolve(),
        values=values,
        secret_keys=frozenset(secrets),
        display=display,
    )


def _project_values(
    name: str, doc: Mapping[str, Any], project: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Project-level config as Pulumi applies it to every stack: the values (a bare scalar or
    ``value:``) and the defaults of typed declarations (``default:``). A stack value wins over
    both, and objects are replaced whole, never merged."""
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise UsageError(f"{name}: 'config' must be a map of keys to declarations")
    values: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for key, spec in config.items():
        full = _qualify(str(key), project)
        if not isinstance(spec, dict):
            values[full] = spec
        elif "value" in spec and "default" in spec:
            raise UsageError(f"{name}: {key}: a project key has a 'value' or a 'default', not both")
        elif "value" in spec:
            values[full] = spec["value"]
        elif "default" in spec:
            defaults[full] = spec["default"]
    return values, defaults


def _check_ciphertext(key: str, value: Mapping[str, Any], source: str) -> None:
    """A ``secure:`` value is exactly one ciphertext string, as `pulumi config set --secret`
    writes it; its content is never shown (it may be a plaintext secret pasted by mistake)."""
    ciphertext = value.get("secure")
    if set(value) != {"secure"} or not isinstance(ciphertext, str):
        raise UsageError(
            f"{source}: {key}: a secure value is a map with only 'secure: <ciphertext>' (value "
            "not shown); set it with `pulumi config set --secret`"
        )
    if not CIPHERTEXT_RE.fullmatch(ciphertext):
        raise UsageError(
            f"{source}: {key}: 'secure:' holds no ciphertext (value not shown): Pulumi writes "
            "base64 text; set it with `pulumi config set --secret`"
        )


def _parse_override(key: str, raw: str) -> Any:
    """``--set`` values are YAML scalars or flow collections, as in a stack file."""
    try:
        return yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        raise ConfigError(key, raw, "expected a YAML value") from None
