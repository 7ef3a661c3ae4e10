"""``reskflow-dr``: the offline preview and the tools built on it.

Exit codes: 0 fine; 1 a mandatory policy violation or an unsafe plan; 2 bad config or usage
(one line naming the key, the value and what is allowed; no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from infra.config import ConfigError, config_reference_markdown
from reskflow_dr import drill_cli, render
from reskflow_dr.engine import ProgramError
from reskflow_dr.orchestrate import OrchestrationError
from reskflow_dr.preview import preview
from reskflow_dr.readiness import ReadinessError
from reskflow_dr.stackfiles import UsageError

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
    p.add_argument("--quiet", action="store_true", help="print only the counts")

    ref = sub.add_parser("config-reference", help="print the config reference table (Markdown)")
    ref.add_argument(
        "--update", type=Path, metavar="FILE", help="rewrite the table between the markers in FILE"
    )
    drill_cli.add_parsers(sub)  # drill, rto-rpo, readiness (docs/runbooks/)
    return parser


def _fail(message: str, code: int) -> int:
    print(f"reskflow-dr: {message}", file=sys.stderr)
    return code


def cmd_preview(args: argparse.Namespace) -> int:
    if args.json and len(args.stacks) > 1:
        return _fail("usage error: --json takes one stack; run one preview per stack", EXIT_USAGE)
    for stack in args.stacks:
        started = time.perf_counter()
        plan = preview(stack, args.set)
        elapsed = time.perf_counter() - started
        region = plan.outputs.get("region", "?")
        role = plan.outputs.get("role", "?")
        print(f"Previewing stack {stack} ({region}, role {role}) offline under mocks")
        if not args.quiet:
            print(render.tree(plan))
            print()
        print(render.counts(plan))
        for line in plan.diagnostics:
            print(f"  {line}")
        print(f"Done in {elapsed:.2f}s\n")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(plan.to_json(), indent=2, sort_keys=True) + "\n")
            print(f"Plan written to {args.json}")
    return EXIT_OK


START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"


def cmd_config_reference(args: argparse.Namespace) -> int:
    table = config_reference_markdown()
    if args.update is None:
        print(table)
        return EXIT_OK
    text = args.update.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return _fail(f"usage error: {args.update} has no {START} ... {END} markers", EXIT_USAGE)
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    args.update.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")
    print(f"Config reference written to {args.update}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "preview":
            return cmd_preview(args)
        if args.command == "config-reference":
            return cmd_config_reference(args)
        if args.command in drill_cli.COMMANDS:
            return drill_cli.run(args)
    except (ConfigError, UsageError, ReadinessError, OrchestrationError) as err:
        return _fail(str(err), EXIT_USAGE)
    except ProgramError as err:
        return _fail(str(err), EXIT_USAGE if err.config_error else EXIT_UNSAFE)
    return _fail(f"usage error: unknown command {args.command!r}", EXIT_USAGE)


if __name__ == "__main__":
    sys.exit(main())
