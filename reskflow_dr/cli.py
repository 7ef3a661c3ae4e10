"""``reskflow-dr``: the offline preview and the tools built on it.

Exit codes: 0 fine; 1 a mandatory policy violation or an unsafe plan; 2 bad config or usage
(one line naming the key, the value and what is allowed; no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from infra.settings import ConfigError, config_reference_markdown
from reskflow_dr import drill_cli, graph, render
from reskflow_dr.engine import Plan, ProgramError, run_program
from reskflow_dr.orchestrate import OrchestrationError
from reskflow_dr.policy_runner import (
    PolicyConfigError,
    PolicyPackError,
    PolicyPackSession,
    format_verdicts,
    has_mandatory_violation,
    load_policy_config,
)
from reskflow_dr.preview import ROOT, load
from reskflow_dr.progress import Progress
from reskflow_dr.readiness import ReadinessError
from reskflow_dr.stackfiles import UsageError, known_stacks

EXIT_OK, EXIT_UNSAFE, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: usage error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reskflow-dr", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("preview", help="preview stacks offline, under the Pulumi SDK's mocks")
    p.add_argument("stacks", nargs="+", metavar="STACK", help="stack name(s), e.g. prod dr")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the plan as JSON (one stack)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set reskflow:role=passive (repeatable)",
    )
    p.add_argument("--quiet", action="store_true", help="print only the counts and verdicts")
    p.add_argument(
        "--policy-config",
        type=Path,
        metavar="FILE",
        help="policy config JSON, the format of `pulumi preview --policy-pack-config`",
    )
    p.add_argument(
        "--no-policy", action="store_true", help="skip the policy pack (no verdicts, exit 0/2 only)"
    )

    g = sub.add_parser("graph", help="draw the DR topology from the offline plans")
    g.add_argument("stack", metavar="STACK|all", help="a stack, or all to draw every stack")
    g.add_argument("--format", choices=("mermaid", "dot", *graph.IMAGE_FORMATS), default="mermaid")
    g.add_argument("--output", type=Path, metavar="FILE", help="write to FILE, not stdout")
    g.add_argument(
        "--update", type=Path, metavar="FILE", help="rewrite the diagram between markers in FILE"
    )
    g.add_argument("--quiet", action="store_true", help="no progress lines")

    ref = sub.add_parser("config-reference", help="print the config reference table (Markdown)")
    ref.add_argument(
        "--update", type=Path, metavar="FILE", help="rewrite the table between the markers in FILE"
    )
    drill_cli.add_parsers(sub)  # drill, rto-rpo, readiness (docs/runbooks/)
    return parser


def _fail(message: str, code: int) -> int:
    print(f"reskflow-dr: {message}", file=sys.stderr)
    return code


def _previews(stacks: Sequence[str], overrides: Sequence[str], quiet: bool) -> list[Plan]:
    """Every stack's plan, with a progress line per stack. Every config is checked first: a bad
    one stops everything before anything runs."""
    loaded = [load(ROOT, stack, overrides) for stack in stacks]
    progress = Progress(len(stacks), quiet)
    plans = []
    for config, settings in loaded:
        with progress.step(f"previewing stack {config.stack} offline under mocks"):
            plans.append(run_program(config, settings.account_id, settings.region))
    return plans


def cmd_preview(args: argparse.Namespace) -> int:
    if args.json and len(args.stacks) > 1:
        return _fail("usage error: --json takes one stack; run one preview per stack", EXIT_USAGE)
    policy_config = load_policy_config(args.policy_config) if args.policy_config else None
    plans = _previews(args.stacks, args.set, args.quiet)
    code = EXIT_OK
    with contextlib.ExitStack() as stack_exit:
        session = None if args.no_policy else stack_exit.enter_context(PolicyPackSession())
        for plan in plans:
            started = time.perf_counter()
            region = plan.outputs.get("region", "?")
            role = plan.outputs.get("role", "?")
            print(f"Previewing stack {plan.stack} ({region}, role {role}) offline under mocks")
            if not args.quiet:
                print(render.tree(plan))
                print()
            print(render.counts(plan))
            for line in plan.diagnostics:
                print(f"  {line}")
            if session is not None:
                verdicts = session.evaluate(plan.to_json(), policy_config)
                plan.policy = [v.to_dict() for v in verdicts]
                print()
                print(format_verdicts(verdicts))
                if has_mandatory_violation(verdicts):
                    code = EXIT_UNSAFE
                print(f"Policies evaluated in {time.perf_counter() - started:.2f}s")
            print()
            if args.json:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(plan.to_json(), indent=2, sort_keys=True) + "\n")
                print(f"Plan written to {args.json}")
    if code == EXIT_UNSAFE:
        print("reskflow-dr: mandatory policy violations (above)", file=sys.stderr)
    return code


def _update_between(path: Path, name: str, text: str) -> None:
    """Replace what stands between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` in FILE."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    content = path.read_text(encoding="utf-8")
    if start not in content or end not in content:
        raise UsageError(f"usage error: {path} has no {start} ... {end} markers")
    head, rest = content.split(start, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")


def cmd_config_reference(args: argparse.Namespace) -> int:
    table = config_reference_markdown()
    if args.update is None:
        print(table)
        return EXIT_OK
    _update_between(args.update, "config-reference", table)
    print(f"Config reference written to {args.update}")
    return EXIT_OK


def cmd_graph(args: argparse.Namespace) -> int:
    if args.update and args.format != "mermaid":
        return _fail("usage error: --update writes Mermaid; leave out --format", EXIT_USAGE)
    if args.format in graph.IMAGE_FORMATS:
        graph.graphviz(args.format)  # fail before the previews run, not after
    stacks = known_stacks(ROOT) if args.stack == "all" else [args.stack]
    topology = graph.build(_previews(stacks, (), args.quiet))
    if args.update:
        _update_between(args.update, "topology", f"```mermaid\n{graph.mermaid(topology)}```")
        print(f"Topology written to {args.update}")
        return EXIT_OK
    drawing = graph.render(topology, args.format)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_bytes(drawing.encode() if isinstance(drawing, str) else drawing)
        print(f"Topology ({args.format}) written to {args.output}")
    elif isinstance(drawing, str):
        print(drawing, end="")
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(drawing)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "preview":
            return cmd_preview(args)
        if args.command == "config-reference":
            return cmd_config_reference(args)
        if args.command == "graph":
            return cmd_graph(args)
        if args.command in drill_cli.COMMANDS:
            return drill_cli.run(args)
    except (
        ConfigError,
        UsageError,
        PolicyConfigError,
        ReadinessError,
        OrchestrationError,
    ) as err:
        return _fail(str(err), EXIT_USAGE)
    except PolicyPackError as err:
        return _fail(f"policy pack failed: {err}", EXIT_UNSAFE)
    except ProgramError as err:
        return _fail(str(err), EXIT_USAGE if err.config_error else EXIT_UNSAFE)
    return _fail(f"usage error: unknown command {args.command!r}", EXIT_USAGE)


if __name__ == "__main__":
    sys.exit(main())
