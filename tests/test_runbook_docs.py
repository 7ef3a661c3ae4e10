"""The runbooks and the docs name only commands that exist: this program's, ``pulumi config
set``, ``pulumi up -s STACK --policy-pack policy`` and ``pulumi refresh``; no AWS CLI commands
typed by people, no scripts that are not in the repository, and every ``pulumi up`` in the README
and the docs carries the policy pack."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNBOOKS = sorted((ROOT / "docs" / "runbooks").glob("*.md"))
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
ALLOWED = ("reskflow-dr ", "pulumi config set ", "pulumi up -s ", "pulumi refresh -s ")
FENCE = re.compile(r"```sh\n(.*?)```", re.S)


def test_the_runbooks_exist() -> None:
    assert [p.name for p in RUNBOOKS] == [
        "ddos.md",
        "disaster-failover.md",
        "drill.md",
        "failback.md",
    ]


@pytest.mark.parametrize("path", [*RUNBOOKS, ROOT / "docs" / "database-failover.md"], ids=str)
def test_runbook_commands_are_program_or_pulumi_commands(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for block in FENCE.findall(text):
        for line in block.splitlines():
            command = line.split("#")[0].strip()
            if command:
                assert command.startswith(ALLOWED), (path.name, command)
    assert "./scripts/" not in text
    assert "kubectl" not in text
    assert not re.search(r"`aws [a-z]", text), path.name


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_pulumi_up_carries_the_policy_pack(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for found in re.finditer(r"pulumi up -s [a-z]+[^\n`]*", text):
        assert "--policy-pack policy" in found.group(0), (path.name, found.group(0))
