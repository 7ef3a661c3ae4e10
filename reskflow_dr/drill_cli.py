"""The DR drill subcommands of ``reskflow-dr``: ``drill``, ``rto-rpo`` and ``readiness``.

Exit codes as everywhere (reskflow_dr/errors.py): 0 fine; 1 an unsafe plan, or a failed
readiness check or execution; 2 bad config or usage, no credentials, no Pulumi CLI (one line, no
traceback); 3 an internal error. Progress goes to stderr; the report to stdout.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reskflow_dr import (
    activation,
    budget,
    diff,
    drill,
    failover_cli,
    jsonio,
    orchestrate,
    readiness,
    render,
)
from reskflow_dr.errors import EXIT_AWAITING
from reskflow_dr.preview import validated
from reskflow_dr.progress import Progress, lines
from reskflow_dr.stackfiles import UsageError

EXIT_OK, EXIT_FAIL = 0, 1
COMMANDS = ("drill", "rto-rpo", "readiness", *failover_cli.COMMANDS)


AddParser = Callable[[str, str], argparse.ArgumentParser]
Option = Callable[..., None]
StacksOf = Callable[[argparse.Namespace, bool], list[str]]


def step_number(text: str) -> int:
    """``--from-step N``: a whole number from 1 (the upper bound is the runbook's length)."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a step number from 1, got {text!r}")
    return int(text)


def add_parsers(
    add: AddParser, stack_options: Option, set_option: Option, json_option: Option
) -> None:
    """``drill``, ``rto-rpo`` and ``readiness``, with the CLI's shared option helpers."""
    d = add("drill", "DR drill: config changes, diffs, data safety, runbook")
    d.add_argument("scenario", choices=drill.SCENARIOS)
    json_option(d, "write the whole report as JSON (schema: docs/cli.md)")
    set_option(d, "what-if: an extra override on both stacks' target config (repeatable)")
    d.add_argument("--quiet", action="store_true", help="no progress lines, no runbook")
    d.add_argument(
        "--execute", action="store_true", help="run the runbook with the Pulumi Automation API"
    )
    d.add_argument("--from-step", type=step_number, default=1, metavar="N", help="resume at step N")
    d.add_argument("--endpoint-url", help="AWS-compatible endpoint for the readiness gates")
    failover_cli.activation_options(d)

    r = add("rto-rpo", "RTO/RPO budget of failing over to a stack")
    stack_options(r, many=False)
    json_option(r, "write the budget as JSON (schema: docs/cli.md)")
    r.add_argument("--quiet", action="store_true", help="no progress lines")
    r.add_argument(
        "--measured",
        type=Path,
        metavar="FILE",
        help="an activation report or failover journal: its measured step durations replace "
        "the promotion assumption",
    )

    q = add("readiness", "live readiness checks of a stack's region (boto3)")
    stack_options(q, many=False)
    q.add_argument("--endpoint-url", help="any AWS-compatible endpoint, e.g. a local emulator")
    q.add_argument("--promoted", action="store_true", help="check it serves as the primary")
    q.add_argument("--peer-lost", action="store_true", help="skip calls into the peer region")
    q.add_argument("--quiet", action="store_true", help="no progress lines")
    failover_cli.add_parsers(add, stack_options)


def run(args: argparse.Namespace, root: Path, stacks_of: StacksOf) -> int:
    if getattr(args, "json", None):
        jsonio.check_writable(args.json)  # before any preview
    if args.command == "drill":
        return cmd_drill(args, root)
    if args.command in ("failover", "bootstrap"):
        return failover_cli.run(args, root, None)
    (stack,) = stacks_of(args, False)
    if args.command == "fence":
        return failover_cli.run(args, root, stack)
    if args.command == "rto-rpo":
        return cmd_rto_rpo(args, root, stack)
    return cmd_readiness(args, root, stack)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    jsonio.write_json(path, jsonio.versioned(data))
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
            lines += [
                f"       - {w['step']:<17} {w['block']:<19} {w['ranBy']}" for w in step.workflow
            ]
            if step.verify:
                lines.append(f"       verify: {step.verify}")
    lines += ["", render.budget(r.budget)]
    return "\n".join(lines)


def activator(
    args: argparse.Namespace, root: Path, ws: orchestrate.Workspace
) -> orchestrate.Activate:
    """The runbook's activation step: the Region switch execution or the local runner."""

    def activate(t: drill.Transition, step: drill.Step) -> tuple[str, str]:
        report = failover_cli.run_activation(
            root,
            ws,
            t.move.promote,
            drill.activation_mode(t),
            runner=args.runner,
            plan_arn=args.plan_arn,
            directory=args.journal_dir,
        )
        return report.outcome, report.message

    return activate


def cmd_drill(args: argparse.Namespace, root: Path) -> int:
    t = drill.transition(args.scenario, root)
    regions, move = t.pair.regions, t.move
    demoted = f", {move.demote} ({regions[move.demote]}) passive" if move.demote else ""
    lost = " - peer declared lost" if move.peer_lost else ""
    print(
        f"Drill {args.scenario}: {move.promote} ({regions[move.promote]}) becomes active"
        f"{demoted}{lost}"
    )
    report = drill.run(args.scenario, args.set, root=root, progress=lines(args.quiet), t=t)
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
    ws = orchestrate.AutomationWorkspace(root)
    print(f"\nExecuting the runbook from step {args.from_step}")
    gate = orchestrate.live_gate(root, args.endpoint_url)
    steps = report.steps
    outcome = orchestrate.execute(
        report.transition, steps, ws, gate, activator(args, root, ws), start=args.from_step
    )
    print(orchestrate.render_outcome(report.transition, steps, outcome))
    if outcome.awaiting:
        return EXIT_AWAITING
    return EXIT_OK if outcome.ok else EXIT_FAIL


def cmd_rto_rpo(args: argparse.Namespace, root: Path, stack: str) -> int:
    settings = validated(root, stack)
    measured = None
    if args.measured:
        steps, actual = activation.measured_seconds(args.measured)
        measured = budget.measured(steps, actual, str(args.measured))
    progress = Progress(1, args.quiet)
    with progress.step(f"previewing stack {stack} and its peer offline under mocks"):
        plan, peer_plan = drill.stack_plans(stack, root)
    b = budget.compute(plan, peer_plan, settings.recovery, measured)
    print(render.budget(b))
    if args.json:
        _write_json(args.json, b.to_json())
    return EXIT_OK


def cmd_readiness(args: argparse.Namespace, root: Path, stack: str) -> int:
    mode: drill.Mode = "promoted" if args.promoted else "ready"
    print(f"Readiness of {stack} ({mode}){' without the peer region' if args.peer_lost else ''}")
    with Progress(1, args.quiet).step(f"checking stack {stack}'s region live"):
        rows = orchestrate.check_stack(stack, mode, args.peer_lost, root, args.endpoint_url)
    print(render.readiness(rows))
    return EXIT_OK if readiness.passed(rows) else EXIT_FAIL
