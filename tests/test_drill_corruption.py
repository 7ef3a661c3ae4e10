"""The corruption drill: the active PostgreSQL restored into the next generation, the corrupt one
retained and fenced, no role moved, the diff and the data-safety verdict of the real stacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reskflow_dr import drill
from reskflow_dr.cli import main

RDS = "aws:rds/instance:Instance"


def test_corruption_sets_the_next_generation_and_retains_the_live_one() -> None:
    t = drill.transition("corruption")
    assert (t.move.promote, t.move.demote, t.move.peer_lost) == ("prod", None, False)
    # dr's replica is generation 2, so the restored instance takes 3.
    assert [c.command for c in t.changes] == [
        "pulumi config set reskflow:dbGeneration 3 -s prod",
        "pulumi config set reskflow:retainedDbGenerations '[1]' -s prod",
    ]


def test_corruption_runbook_restores_and_validates_before_any_up() -> None:
    steps = drill.runbook(drill.transition("corruption"))
    assert [s.kind for s in steps] == ["restore", "config", "up"]
    restore = steps[0]
    assert restore.commands == (
        "reskflow-dr restore postgres prod --to '<ISO time before the corruption, e.g. "
        "2026-12-04T09:30:00Z>' --generation 3 --json out/restore-prod-g3.json",
    )
    assert steps[2].commands == ("pulumi up -s prod --policy-pack policy",)


def test_corruption_drill_is_not_executed(capsys: pytest.CaptureFixture[str]) -> None:
    """The restore time is a person's decision: --execute is refused before any preview."""
    assert main(["drill", "corruption", "--execute"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reskflow-dr: drill corruption --execute: not run by the program")


def test_real_corruption_drill_creates_g3_keeps_g1_and_leaves_dr_alone() -> None:
    report = drill.run("corruption")
    assert report.verdict.safe
    prod, dr = report.diffs
    data = {(r.name, r.action) for r in prod.resources if r.data_bearing}
    assert data == {("postgres-g3", "create"), ("postgres-g1", "update")}
    assert dr.resources == ()
    after = report.plans[("prod", True)]
    tags = {r.name: r.inputs["tags"]["reskflow:backup"] for r in after.of_type(RDS)}
    assert tags == {"postgres-g1": "dr", "postgres-g3": "dr"}


def test_cli_corruption_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "drill.json"
    assert main(["drill", "corruption", "--quiet", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(
        "Drill corruption: prod (us-east-1) restores its PostgreSQL to a time before the "
        "corruption; no role moves"
    )
    assert "Data safety: SAFE" in printed
    data = json.loads(out.read_text())
    assert data["scenario"] == "corruption"
    assert data["verdict"]["safe"] is True
    assert [c["key"] for c in data["configChanges"]] == [
        "reskflow:dbGeneration",
        "reskflow:retainedDbGenerations",
    ]
