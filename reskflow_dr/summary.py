"""The job summary of the offline checks, in Markdown: each stack's preview tree, the policy
verdicts, the drill (its diff and RTO/RPO budget, or why there is none), the recovery point of
every replication and backup-copy path, and the topology as a Mermaid diagram.

    python -m reskflow_dr.summary --plan out/prod.json --plan out/dr.json \\
        --drill out/drill.json --drill-log out/drill.log --drill-status "$status"

It reads what earlier steps wrote (``reskflow-dr preview STACK --json``, ``reskflow-dr drill
SCENARIO --json``) and reports a missing or failed step as such, never as a pass. Output is
appended to ``$GITHUB_STEP_SUMMARY`` when set (as GitHub expects), else printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reskflow_dr import graph, render
from reskflow_dr.engine import Plan
from reskflow_dr.tables import UNLIMITED

#: ``--drill-status`` when the revision has no ``reskflow-dr drill`` command.
ABSENT = "absent"
LOG_TAIL = 60
_DRILL_EXITS = {
    "1": "**Unsafe plan** (exit 1): the drill would delete or replace data, or a mandatory "
    "policy failed. Nothing may run until this is fixed.",
    "2": "**Bad config or usage** (exit 2): the drill did not run.",
    "3": "**The tool failed** (exit 3, an internal error): the drill did not complete, so "
    "there is no data-safety verdict, neither safe nor unsafe. See the drill output; rerun with "
    "`--debug` for the traceback.",
    "141": "**Output cut short** (exit 141, closed pipe): no verdict.",
}


def _fence(text: str, lang: str = "text") -> str:
    ticks = "````" if "```" in text else "```"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def _text(value: Any) -> str:
    """Strings as they are, anything else as JSON (``true``, ``null``, ``["a"]``)."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _cell(value: Any) -> str:
    return _text(value).replace("|", "\\|").replace("\n", " ")


def table(rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown table; columns in order of first appearance."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def load_plans(paths: Sequence[Path]) -> tuple[list[Plan], list[Path]]:
    """The plans that exist, and the paths that do not (their preview failed or never ran)."""
    plans = [
        Plan.from_json(json.loads(p.read_text(encoding="utf-8"))) for p in paths if p.is_file()
    ]
    return plans, [p for p in paths if not p.is_file()]


def _role(plan: Plan) -> str:
    return str(plan.outputs.get("role", "?"))


def preview_section(plans: Sequence[Plan], missing: Sequence[Path]) -> str:
    parts = ["## Offline preview"]
    for plan in plans:
        region = plan.outputs.get("region", plan.config.get("aws:region", "?"))
        parts.append(f"### `{plan.stack}` · {region} · role {_role(plan)}")
        parts.append(_fence(render.counts(plan)))
        parts.append(_details("Resource tree", _fence(render.tree(plan, UNLIMITED))))
    parts += [f"- **No plan at `{p}`**: its preview failed or did not run." for p in missing]
    if not plans and not missing:
        parts.append("No plans given.")
    return "\n\n".join(parts)


def policy_section(plans: Sequence[Plan]) -> str:
    rows = [
        {
            "stack": plan.stack,
            "policy": v.get("policy", ""),
            "enforcement": "not checkable" if v.get("notCheckable") else v.get("enforcement", ""),
            "resource": v.get("resource") or "(stack)",
            "message": v.get("message", ""),
        }
        for plan in plans
        for v in plan.policy
    ]
    if not rows:
        return "## Policy verdicts\n\nNo verdicts in the plans' `policy` lists."
    mandatory = sum(1 for row in rows if row["enforcement"] == "mandatory")
    rows.sort(key=lambda row: (row["enforcement"] != "mandatory", row["stack"], row["policy"]))
    return (
        f"## Policy verdicts\n\n{len(rows)} verdicts, **{mandatory} mandatory**.\n\n{table(rows)}"
    )


def markdown(value: Any, depth: int = 2) -> str:
    """Any JSON as Markdown: scalars as a list, lists of objects as tables, objects as sections."""
    if not isinstance(value, dict):
        return _fence(json.dumps(value, indent=2), "json")
    items, sections = [], []
    for key, item in value.items():
        if isinstance(item, list) and item and all(isinstance(x, dict) for x in item):
            sections.append(f"**{key}**\n\n{table(item)}")
        elif isinstance(item, dict) and depth < 6:
            sections.append(f"{'#' * (depth + 1)} {key}\n\n{markdown(item, depth + 1)}")
        elif isinstance(item, dict | list) and any(isinstance(x, dict | list) for x in item):
            sections.append(f"**{key}**\n\n{_fence(json.dumps(item, indent=2), 'json')}")
        else:
            shown = ", ".join(map(_text, item)) if isinstance(item, list) else _text(item)
            items.append(f"- **{key}**: {shown}")
    return "\n\n".join(filter(None, ["\n".join(items), *sections]))


def split_budget(data: Any) -> tuple[Any, dict[str, Any]]:
    """The drill output without its RTO/RPO parts (keys naming RTO or RPO, at any depth), and
    those parts."""
    if not isinstance(data, dict):
        return data, {}
    rest: dict[str, Any] = {}
    budget: dict[str, Any] = {}
    for key, value in data.items():
        if re.search(r"rto|rpo", key, re.IGNORECASE):
            budget[key] = value
        else:
            rest[key], inner = split_budget(value)
            budget.update(inner)
    return rest, budget


def drill_section(status: str, scenario: str, data: Any, log: str) -> str:
    title = f"## Drill: {scenario}"
    if status == ABSENT:
        return (
            f"{title}\n\nNot run: this revision has no `reskflow-dr drill` command, so there is "
            "no drill diff, data-safety verdict or RTO/RPO budget yet."
        )
    tail = "\n".join(log.splitlines()[-LOG_TAIL:])
    verdict = (
        "Safe: exit 0."
        if status == "0"
        else _DRILL_EXITS.get(status, f"**Failed** (exit {status or 'unknown'}).")
    )
    parts = [title, verdict]
    if data is None:
        parts.append("No JSON output from the drill.")
    else:
        rest, budget = split_budget(data)
        parts.append(markdown(rest))
        if budget:
            parts.append(f"### RTO/RPO budget\n\n{markdown(budget)}")
    if tail:
        parts.append(_details(f"Drill output (last {LOG_TAIL} lines)", _fence(tail)))
    return "\n\n".join(parts)


def _name(node: graph.Node) -> str:
    return node.detail or node.label


def recovery_section(topology: graph.Topology) -> str:
    rows = [
        {
            "from": _name(topology.nodes[e.src]),
            "to": _name(topology.nodes[e.dst]),
            "path": f"{topology.nodes[e.src].region} → {topology.nodes[e.dst].region}",
            "mechanism": e.mechanism,
            "recovery point": e.rpo or "n/a",
        }
        for e in topology.edges
        if e.kind in ("replication", "copy")
    ]
    if not rows:
        return "## Recovery points\n\nNo replication or backup-copy paths in the plans."
    return (
        "## Recovery points\n\nDeclared replication and backup-copy paths, and the recovery "
        f"point each gives (S3 Replication Time Control's only threshold is 15 minutes).\n\n"
        f"{table(rows)}"
    )


def topology_section(topology: graph.Topology) -> str:
    return f"## Topology\n\n{_fence(graph.mermaid(topology), 'mermaid')}"


def report(
    plan_paths: Sequence[Path],
    drill_status: str | None = None,
    scenario: str = "failover",
    drill_json: Path | None = None,
    drill_log: Path | None = None,
) -> str:
    """The whole summary; the drill section only when a drill status is given."""
    plans, missing = load_plans(plan_paths)
    topology = graph.build(plans)
    sections = [
        "# ReskFlow DR: offline checks",
        preview_section(plans, missing),
        policy_section(plans),
    ]
    if drill_status is not None:
        data = _read_json(drill_json)
        log = drill_log.read_text(encoding="utf-8") if drill_log and drill_log.is_file() else ""
        sections.append(drill_section(drill_status, scenario, data, log))
    sections += [recovery_section(topology), topology_section(topology)]
    return "\n\n".join(sections) + "\n"


def _read_json(path: Path | None) -> Any:
    if path is None or not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        return {"unreadable drill JSON": f"{path}: {err}"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reskflow_dr.summary", description=__doc__)
    parser.add_argument("--plan", type=Path, action="append", default=[], metavar="FILE")
    parser.add_argument("--drill-status", metavar="CODE", help=f"exit code, or {ABSENT}")
    parser.add_argument("--scenario", default="failover")
    parser.add_argument("--drill", type=Path, metavar="FILE", help="the drill's --json output")
    parser.add_argument("--drill-log", type=Path, metavar="FILE", help="the drill's console output")
    parser.add_argument("--output", type=Path, metavar="FILE", help="default: $GITHUB_STEP_SUMMARY")
    args = parser.parse_args(argv)
    text = report(args.plan, args.drill_status, args.scenario, args.drill, args.drill_log)
    target = args.output or (
        Path(os.environ["GITHUB_STEP_SUMMARY"]) if os.environ.get("GITHUB_STEP_SUMMARY") else None
    )
    if target is None:
        sys.stdout.write(text)
    else:
        with target.open("a", encoding="utf-8") as out:
            out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
