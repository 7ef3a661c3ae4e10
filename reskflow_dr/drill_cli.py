"""The DR drill subcommands of ``reskflow-dr``: ``drill``, ``rto-rpo`` and ``readiness``.

Exit codes as everywhere: 0 fine; 1 an unsafe plan, or a failed readiness check or execution;
2 bad config or usage, no credentials, no Pulumi CLI (one line, no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reskflow_dr import budget, diff, drill, orchestrate, readiness
from reskflow_dr.preview import ROOT, validated
from reskflow_dr.stackfiles import UsageError

EXIT_OK, EXIT_FAIL = 0, 1
COMMANDS = ("drill", "rto-rpo", "readiness")


def add_parsers(sub: Any) -> None:
    d = sub.add_parser("drill", help="DR drill: config changes, diffs, data safety, runbook")
    d.add_argument("scenario", choices=drill.SCENARIOS)
    d.add_argument("--json", type=Path, metavar="FILE", help="write the whole report as JSON")
    d.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="what-if: an extra override on both stacks' target config (repeatable)",
    )
    d.add_argument("--quiet", action="store_true", help="no progress lines, no runbook")
    d.add_argument(
        "--execute", action="store_true", help="run the runbook with the Pulumi Automation API"
    )
    d.add_argument("--yes", action="store_true", help="confirm every manual step (--execute)")
    d.add_argument("--from-step", type=int, default=1, metavar="N", help="resume at step N")
    d.add_argument("--endpoint-url", help="AWS-compatible endpoint for the readiness gates")

    r = sub.add_parser("rto-rpo", help="RTO/RPO budget of failing over to a stack")
    r.add_argument("stack", metavar="STACK")
    r.add_argument("--json", type=Path, metavar="FILE", help="write the budget as JSON")

    q = sub.add_parser("readiness", help="live readiness checks of a stack's region (boto3)")
    q.add_argument("stack", metavar="STACK")
    q.add_argument("--endpoint-url", help="any AWS-compatible endpoint, e.g. a local emulator")
    q.add_argument("--promoted", action="store_true", help="check it serves as the primary")
    q.add_argument("--peer-lost", action="store_true", help="skip calls into the peer region")


def run(args: argparse.Namespace) -> int:
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "drill": cmd_drill,
        "rto-rpo": cmd_rto_rpo,
        "readiness": cmd_readiness,
    }
    return handlers[args.command](args)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    print(f"Report written to {path}")


def render_report(r: drill.DrillReport, with_runbook: bool = True) -> str:
    t = r.transition
    lines = []
    if t.note:
        lines.append(f"Note: {t.note}")
    lines.append("Config changes (`pulumi config set` deploys nothing; set them all first):")
    lines += [f"  {c.command}" for c in t.changes] or ["  (none)"]
    lines.append("")
    lines += [diff.render_diff(d) for d in r.diffs]
    lines += ["", diff.render_verdict(r.verdict)]
    if with_runbook:
        order = f"promote {t.move.promote} before demoting {t.move.demote}"
        lines += [
            "",
            f"Runbook ({order if t.move.demote else 'only ' + t.move.promote + ' changes'}):",
        ]
        for number, step in enumerate(r.steps, 1):
            lines.append(f"  {number}. [{step.kind}] {step.title}  ({step.source})")
            lines += [f"       $ {command}" for command in step.commands]
            if step.verify:
                lines.append(f"       verify: {step.verify}")
    lines += ["", budget.render(r.budget)]
    return "\n".join(lines)


def _confirm(assume_yes: bool) -> orchestrate.Confirm:
    def confirm(number: int, step: drill.Step) -> bool:
        for command in step.commands:
            print(f"      $ {command}")
        if assume_yes:
            return True
        if not sys.stdin.isatty():
            return False
        return input("    done? [y/N] ").strip().lower() in ("y", "yes")

    return confirm


def cmd_drill(args: argparse.Namespace) -> int:
    t = drill.transition(args.scenario)
    regions, move = t.pair.regions, t.move
    demoted = f", {move.demote} ({regions[move.demote]}) passive" if move.demote else ""
    lost = " - peer declared lost" if move.peer_lost else ""
    print(
        f"Drill {args.scenario}: {move.promote} ({regions[move.promote]}) becomes active"
        f"{demoted}{lost}"
    )
    progress = (lambda _: None) if args.quiet else print
    report = drill.run(args.scenario, args.set, progress=progress, t=t)
    print(render_report(report, with_runbook=not args.quiet))
    if args.json:
        _write_json(args.json, report.to_json())
    if not report.verdict.safe:
        return EXIT_FAIL
    if not args.execute:
        return EXIT_OK
    if not 1 <= args.from_step <= len(report.steps):
        raise UsageError(
            f"--from-step {args.from_step}: the runbook has steps 1 to {len(report.steps)}"
        )
    ws = orchestrate.AutomationWorkspace()
    print(f"\nExecuting the runbook from step {args.from_step}")
    gate = orchestrate.live_gate(ROOT, args.endpoint_url)
    steps = report.steps
    outcome = orchestrate.execute(
        report.transition, steps, ws, gate, _confirm(args.yes), start=args.from_step
    )
    print(orchestrate.render_outcome(report.transition, steps, outcome))
    return EXIT_OK if outcome.ok else EXIT_FAIL


def cmd_rto_rpo(args: argparse.Namespace) -> int:
    plan, peer_plan = drill.stack_plans(args.stack)
    settings = validated(ROOT, args.stack)
    b = budget.compute(plan, peer_plan, settings.recovery)
    print(budget.render(b))
    if args.json:
        _write_json(args.json, b.to_json())
    return EXIT_OK


def cmd_readiness(args: argparse.Namespace) -> int:
    mode: drill.Mode = "promoted" if args.promoted else "ready"
    print(
        f"Readiness of {args.stack} ({mode}){' without the peer region' if args.peer_lost else ''}"
    )
    rows = orchestrate.check_stack(args.stack, mode, args.peer_lost, ROOT, args.endpoint_url)
    print(readiness.render(rows))
    return EXIT_OK if readiness.passed(rows) else EXIT_FAIL
