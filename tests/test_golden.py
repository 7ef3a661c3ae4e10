"""The plans are byte-identical to the committed golden outputs (tests/golden/).

The golden files were written by ``reskflow-dr preview STACK --json FILE --quiet``,
``reskflow-dr drill SCENARIO --json FILE --quiet`` and ``reskflow-dr rto-rpo dr --json FILE``
before the settings were restructured, and written again when the reports gained their
``schemaVersion`` (the only difference, checked by loading both); any change to the plans shows up
here byte for byte.
Each command runs once per test session (the previews are the slow part).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest

from reskflow_dr.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden"

COMMANDS: dict[str, list[str]] = {
    "prod.json": ["preview", "prod", "--quiet"],
    "dr.json": ["preview", "dr", "--quiet"],
    "drill-failover.json": ["drill", "failover", "--quiet"],
    "drill-failback.json": ["drill", "failback", "--quiet"],
    "drill-disaster.json": ["drill", "disaster", "--quiet"],
    "drill-corruption.json": ["drill", "corruption", "--quiet"],
    "rto-rpo-dr.json": ["rto-rpo", "dr"],
}


@pytest.fixture(scope="session")
def regenerated(
    tmp_path_factory: pytest.TempPathFactory, plan_cache: Any
) -> dict[str, tuple[int, bytes]]:
    """Built fresh, not from the session's plan cache: the goldens are what the command gives."""
    out = tmp_path_factory.mktemp("golden")
    results: dict[str, tuple[int, bytes]] = {}
    plan_cache.bypass = True
    try:
        for name, command in COMMANDS.items():
            target = out / name
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                code = main([*command, "--json", str(target)])
            results[name] = (code, target.read_bytes())
    finally:
        plan_cache.bypass = False
    return results


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_plan_is_byte_identical_to_golden(
    regenerated: dict[str, tuple[int, bytes]], name: str
) -> None:
    code, produced = regenerated[name]
    assert code == 0
    assert produced == (GOLDEN / name).read_bytes()
