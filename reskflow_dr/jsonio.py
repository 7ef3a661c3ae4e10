"""JSON reports: written atomically, with a ``schemaVersion``, and their JSON Schemas.

``preview --json``, ``drill --json`` and ``rto-rpo --json`` each write one object whose
``schemaVersion`` names the version of its schema in ``reskflow_dr/schemas/`` (docs/cli.md).
A reader checks the version before anything else; a change that removes or retypes a key bumps it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from reskflow_dr.errors import OutputError

#: The version of every report's schema; bumped when a key is removed or changes type.
SCHEMA_VERSION = 1
Report = Literal["preview", "drill", "rto-rpo"]
REPORTS: tuple[Report, ...] = ("preview", "drill", "rto-rpo")


def versioned(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with ``schemaVersion`` first."""
    return {"schemaVersion": SCHEMA_VERSION, **data}


def dumps(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"


def check_writable(path: Path, option: str = "--json") -> None:
    """Refuse, before any work, a report path that cannot be written: a directory, or a place
    under a file or a directory without write permission. Creates nothing."""
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a directory; name a file")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{option} {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: cannot write there: Permission denied")


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same directory, then
    ``os.replace``. A reader sees the old file or the new one, never half of one; on failure
    nothing is left behind. An unwritable path raises :class:`OutputError` (exit 2)."""
    text = dumps(data)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise OutputError(f"--json {path}: cannot write there: {err.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"--json {path}: cannot write there: {err.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def schema(report: Report) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a report."""
    text = resources.files("reskflow_dr").joinpath("schemas", f"{report}.schema.json")
    data: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return data


def validator(report: Report) -> Any:
    """A draft 2020-12 validator of a report, with the other schemas registered (the drill's
    ``budget`` refers to the rto-rpo schema's)."""
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resources(
        (f"reskflow-dr:{name}", Resource.from_contents(schema(name))) for name in REPORTS
    )
    return Draft202012Validator(schema(report), registry=registry)
