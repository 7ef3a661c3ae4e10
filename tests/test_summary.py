"""The job summary: every section from the plans and the drill's output, and honest about a
missing plan, an absent drill command and a failed drill."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reskflow_dr import graph, render, summary
from reskflow_dr.engine import Plan
from tests.conftest import PlanOf

DRILL = {
    "scenario": "failover",
    "safe": True,
    "stacks": {
        "dr": {
            "config": ["pulumi config set reskflow:role active -s dr"],
            "changes": [
                {"resource": "orders-replica", "op": "update", "properties": ["replicateSourceDb"]}
            ],
        }
    },
    "rtoRpo": [
        {"store": "orders", "rto": "12 min", "rpo": "5 s", "meets": True},
        {"store": "uploads", "rto": "5 min", "rpo": "15 min", "meets": False},
    ],
}


def write_plans(tmp_path: Path, plans: list[Plan]) -> list[Path]:
    paths = []
    for plan in plans:
        path = tmp_path / f"{plan.stack}.json"
        path.write_text(json.dumps(plan.to_json()))
        paths.append(path)
    return paths


def sections(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("## ")]


def test_report_has_every_section_from_the_plans(tmp_path: Path, plan_of: PlanOf) -> None:
    plans = [plan_of("prod"), plan_of("dr")]
    text = summary.report(write_plans(tmp_path, plans), drill_status=summary.ABSENT)
    assert sections(text) == [
        "## Offline preview",
        "## Policy verdicts",
        "## Drill: failover",
        "## Recovery points",
        "## Topology",
    ]
    for plan in plans:
        assert render.tree(plan) in text
        assert render.counts(plan) in text
    assert "### `prod` · us-east-1 · role active" in text
    assert "### `dr` · us-west-2 · role passive" in text
    assert f"```mermaid\n{graph.mermaid(graph.build(plans))}```" in text
    assert "Not run: this revision has no `reskflow-dr drill` command" in text
    rows = [line for line in text.split("## Recovery points")[1].splitlines() if "→" in line]
    replication = [
        r for p in plans for r in p.resources if r.type.endswith(":BucketReplicationConfig")
    ]
    assert len(rows) >= len(replication) == 10
    assert (
        "| reskflow-123456789012-uploads-us-east-1 | reskflow-123456789012-uploads-us-west-2 "
        "| us-east-1 → us-west-2 | S3 replication | 15 min (RTC) |"
    ) in rows


def test_without_a_drill_status_there_is_no_drill_section(tmp_path: Path, plan_of: PlanOf) -> None:
    text = summary.report(write_plans(tmp_path, [plan_of("dr")]))
    assert "## Drill" not in text
    assert "## Topology" in text


def test_a_missing_plan_is_reported_not_skipped(tmp_path: Path, plan_of: PlanOf) -> None:
    paths = [*write_plans(tmp_path, [plan_of("prod")]), tmp_path / "dr.json"]
    text = summary.report(paths)
    assert f"- **No plan at `{tmp_path / 'dr.json'}`**: its preview failed or did not run." in text
    assert "### `prod`" in text


def test_policy_verdicts_table_mandatory_first(tmp_path: Path, plan_of: PlanOf) -> None:
    plan = plan_of("prod")
    plan.policy = [
        {"policy": "cost-note", "enforcement": "advisory", "resource": "", "message": "IA 30 d"},
        {
            "policy": "s3-encrypted",
            "enforcement": "mandatory",
            "resource": "s3-logs",
            "message": "no SSE | KMS",
        },
        {"policy": "rds-lag", "enforcement": "advisory", "notCheckable": True, "message": "?"},
    ]
    text = summary.report(write_plans(tmp_path, [plan]))
    part = text.split("## Policy verdicts")[1].split("## ")[0]
    assert "3 verdicts, **1 mandatory**." in part
    rows = [line for line in part.splitlines() if line.startswith("| prod")]
    assert rows == [
        "| prod | s3-encrypted | mandatory | s3-logs | no SSE \\| KMS |",
        "| prod | cost-note | advisory | (stack) | IA 30 d |",
        "| prod | rds-lag | not checkable | (stack) | ? |",
    ]


def test_no_verdicts_says_so(tmp_path: Path, plan_of: PlanOf) -> None:
    text = summary.report(write_plans(tmp_path, [plan_of("prod")]))
    assert "No verdicts in the plans' `policy` lists." in text


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        ("0", "Safe: exit 0."),
        ("1", "**Unsafe plan** (exit 1)"),
        ("2", "**Bad config or usage** (exit 2)"),
        (
            "3",
            "**The tool failed** (exit 3, an internal error): the drill did not complete, so "
            "there is no data-safety verdict, neither safe nor unsafe.",
        ),
        ("137", "**Failed** (exit 137)."),
    ],
)
def test_drill_section_by_exit_code(tmp_path: Path, status: str, verdict: str) -> None:
    drill = tmp_path / "drill.json"
    drill.write_text(json.dumps(DRILL))
    log = tmp_path / "drill.log"
    log.write_text("\n".join(f"line {i}" for i in range(100)))
    text = summary.report([], status, "failover", drill, log)
    part = text.split("## Drill: failover\n\n")[1].split("\n## ")[0]
    assert part.startswith(verdict)
    assert "- **scenario**: failover\n- **safe**: true" in part
    assert "| resource | op | properties |" in part
    assert '| orders-replica | update | ["replicateSourceDb"] |' in part
    assert "- **config**: pulumi config set reskflow:role active -s dr" in part
    budget = part.split("### RTO/RPO budget\n\n")[1]
    assert "| store | rto | rpo | meets |" in budget
    assert "| uploads | 5 min | 15 min | false |" in budget
    assert "line 39" not in part and "line 40\n" in part and "line 99" in part  # last 60 lines


def test_drill_without_json_or_with_a_broken_one(tmp_path: Path) -> None:
    text = summary.report([], "2", "failback", tmp_path / "none.json", None)
    assert "## Drill: failback\n\n**Bad config or usage** (exit 2)" in text
    assert "No JSON output from the drill." in text
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert "unreadable drill JSON" in summary.report([], "0", "failover", broken, None)


def test_budget_is_found_wherever_it_is_and_shown_once() -> None:
    nested: dict[str, Any] = {"a": {"b": {"RPO": {"s3": "15 min"}, "c": 1}}, "rto": 12}
    rest, budget = summary.split_budget(nested)
    assert budget == {"rto": 12, "RPO": {"s3": "15 min"}}
    assert rest == {"a": {"b": {"c": 1}}}
    text = summary.drill_section("0", "failover", DRILL, "")
    assert text.count("| store | rto | rpo | meets |") == 1


def test_main_appends_to_the_github_step_summary(
    tmp_path: Path, plan_of: PlanOf, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "step_summary.md"
    target.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    paths = write_plans(tmp_path, [plan_of("dr")])
    assert summary.main(["--plan", str(paths[0]), "--drill-status", "absent"]) == 0
    text = target.read_text()
    assert text.startswith("earlier step\n# ReskFlow DR: offline checks\n")
    assert "## Drill: failover" in text


def test_main_prints_without_a_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert summary.main(["--plan", str(tmp_path / "missing.json")]) == 0
    out = capsys.readouterr().out
    assert "**No plan at" in out
    assert "No replication or backup-copy paths in the plans." in out


def test_a_crash_is_not_reported_as_a_data_safety_failure(tmp_path: Path) -> None:
    text = summary.report([], "3", "failover", None, None)
    part = text.split("## Drill: failover\n\n")[1].split("\n## ")[0]
    assert "Unsafe" not in part and "delete or replace data" not in part
    assert "No JSON output from the drill." in part
