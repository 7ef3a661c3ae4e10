"""``reskflow-dr``: the offline preview and the tools built on it.

Exit codes (reskflow_dr/errors.py, docs/cli.md): 0 fine; 1 a mandatory policy violation or an
unsafe plan; 2 bad config or usage (one line naming the key, the value and what is allowed; no
traceback); 3 an internal error (one line; ``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, NoReturn

import shtab

from infra.settings import ConfigError, config_reference_markdown
from reskflow_dr import drill_cli, graph, jsonio, policy_config, render, restore_cli
from reskflow_dr.engine import Plan, ProgramError, run_program
from reskflow_dr.errors import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_UNSAFE,
    EXIT_USAGE,
    OutputError,
    broken_pipe,
    fail,
    internal_error,
)
from reskflow_dr.orchestrate import OrchestrationError
from reskflow_dr.policy_runner import (
    PolicyConfigError,
    PolicyPackError,
    PolicyPackSession,
    has_mandatory_violation,
)
from reskflow_dr.preview import find_project, load
from reskflow_dr.progress import Progress
from reskflow_dr.readiness import ReadinessError
from reskflow_dr.stackfiles import UsageError, known_stacks

__all__ = ["EXIT_INTERNAL", "EXIT_OK", "EXIT_UNSAFE", "EXIT_USAGE", "main"]

#: Errors that are the user's input: exit 2, one line.
USAGE_ERRORS = (
    ConfigError,
    UsageError,
    PolicyConfigError,
    ReadinessError,
    OrchestrationError,
    OutputError,
)
_KEY = re.compile(r"^[A-Za-z][\w-]*:[A-Za-z][\w.-]*$")


def package_version() -> str:
    try:
        return version("reskflow-dr")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: usage error: {message} (see --help)\n")


def check_overrides(overrides: Sequence[str]) -> None:
    """``--set KEY=VALUE``: refused before any work without ``=`` or a key. The argument is echoed
    only when it looks like a config key: it may be a secret value typed without its key."""
    for text in overrides:
        key, sep, _ = text.partition("=")
        if sep and key.strip():
            continue
        shown = f"got {text!r}" if _KEY.match(text) else "got an argument without KEY="
        raise UsageError(f"usage error: --set expects KEY=VALUE, {shown}")


def _file(action: argparse.Action) -> None:
    action.complete = shtab.FILE  # type: ignore[attr-defined]


def _dir(action: argparse.Action) -> None:
    action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]


def common(parser: argparse.ArgumentParser, top: bool) -> None:
    """``--debug`` and ``-C/--cwd``, accepted before and after the subcommand."""
    default: dict[str, Any] = {} if top else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an internal error", **default
    )
    _dir(
        parser.add_argument(
            "-C",
            "--cwd",
            type=Path,
            metavar="DIR",
            help="the project directory (default: the nearest one up holding Pulumi.yaml)",
            **default,
        )
    )


def stack_options(parser: argparse.ArgumentParser, many: bool, metavar: str = "STACK") -> None:
    """Stacks as positionals and, as Pulumi spells it, ``-s/--stack`` (repeatable with ``many``)."""
    what = "stack name(s), e.g. prod dr" if many else "the stack, e.g. prod"
    parser.add_argument("stacks", nargs="*", metavar=metavar, help=what)
    parser.add_argument(
        "-s", "--stack", dest="stack_flags", action="append", default=[], metavar="STACK",
        help="a stack, as `pulumi -s` takes it" + (" (repeatable)" if many else ""),
    )  # fmt: skip


def set_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=help_text)


def json_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    _file(parser.add_argument("--json", type=Path, metavar="FILE", help=help_text))


def stacks_of(args: argparse.Namespace, many: bool) -> list[str]:
    stacks = [*args.stacks, *args.stack_flags]
    if not stacks:
        raise UsageError("usage error: name a stack (STACK or -s/--stack STACK)")
    if not many and len(stacks) > 1:
        raise UsageError(f"usage error: {args.command} takes one stack, got {' '.join(stacks)}")
    return stacks


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reskflow-dr", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"reskflow-dr {package_version()}")
    common(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
        common(p, top=False)
        return p

    p = add("preview", "preview stacks offline, under the Pulumi SDK's mocks")
    stack_options(p, many=True)
    json_option(p, "write the plan as JSON (one stack; schema: docs/cli.md)")
    set_option(p, "override a config value, e.g. --set reskflow:role=passive (repeatable)")
    p.add_argument("--quiet", action="store_true", help="print only the counts and verdicts")
    _file(
        p.add_argument(
            "--policy-pack-config",
            "--policy-config",
            dest="policy_config",
            type=Path,
            metavar="FILE",
            help="policy config JSON, as `pulumi preview --policy-pack-config` takes it",
        )
    )
    p.add_argument(
        "--no-policy", action="store_true", help="skip the policy pack (no verdicts, exit 0/2 only)"
    )

    g = add("graph", "draw the DR topology from the offline plans")
    stack_options(g, many=False, metavar="STACK|all")
    g.add_argument("--format", choices=("mermaid", "dot", *graph.IMAGE_FORMATS), default="mermaid")
    _file(g.add_argument("--output", type=Path, metavar="FILE", help="write to FILE, not stdout"))
    _file(
        g.add_argument(
            "--update", type=Path, metavar="FILE", help="rewrite the diagram between the markers"
        )
    )
    g.add_argument("--quiet", action="store_true", help="no progress lines")

    ref = add("config-reference", "print the config reference table (Markdown)")
    _file(
        ref.add_argument(
            "--update", type=Path, metavar="FILE", help="rewrite the table between the markers"
        )
    )
    drill_cli.add_parsers(add, stack_options, set_option, json_option)
    restore_cli.add_parser(add, stack_options, json_option)

    c = add("completion", "print a shell completion script (bash or zsh)")
    c.add_argument("shell", choices=("bash", "zsh"))
    return parser


def _update_between(path: Path, name: str, text: str) -> None:
    """Replace what stands between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` in FILE."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as err:
        raise UsageError(f"usage error: --update {path}: {err.strerror}") from None
    if start not in content or end not in content:
        raise UsageError(f"usage error: {path} has no {start} ... {end} markers")
    head, rest = content.split(start, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")


def _previews(
    root: Path, stacks: Sequence[str], overrides: Sequence[str], progress: Progress
) -> list[Plan]:
    """Every stack's plan, with a progress line per stack. Every config is checked first: a bad
    one stops everything before anything runs."""
    loaded = [load(root, stack, overrides) for stack in stacks]
    plans = []
    for config, settings in loaded:
        with progress.step(f"previewing stack {config.stack} offline under mocks"):
            plans.append(run_program(config, settings.account_id, settings.region))
    return plans


def cmd_preview(args: argparse.Namespace, root: Path) -> int:
    stacks = stacks_of(args, many=True)
    if args.json and len(stacks) > 1:
        return fail("usage error: --json takes one stack; run one preview per stack", EXIT_USAGE)
    if args.policy_config and args.no_policy:
        return fail("usage error: --policy-pack-config has no effect with --no-policy", EXIT_USAGE)
    if args.json:
        jsonio.check_writable(args.json)
    user_policy = policy_config.read(args.policy_config) if args.policy_config else None
    for stack in stacks:  # every stack's config, before the pack starts or anything runs
        load(root, stack, args.set)
    code = EXIT_OK
    with contextlib.ExitStack() as stack_exit:
        session = None
        if not args.no_policy:
            session = stack_exit.enter_context(PolicyPackSession(root / "policy"))
            if user_policy is not None:
                policy_config.check(user_policy, session.policies)
        steps = len(stacks) * (1 if session is None else 2)
        progress = Progress(steps, args.quiet)
        plans = _previews(root, stacks, args.set, progress)
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
                with progress.step(f"evaluating the policy pack on stack {plan.stack}"):
                    verdicts = session.evaluate(plan.to_json(), user_policy)
                plan.policy = [v.to_dict() for v in verdicts]
                print()
                print(render.verdicts(verdicts))
                if has_mandatory_violation(verdicts):
                    code = EXIT_UNSAFE
                print(f"Policies evaluated in {time.perf_counter() - started:.2f}s")
            print()
            if args.json:
                jsonio.write_json(args.json, jsonio.versioned(plan.to_json()))
                print(f"Plan written to {args.json}")
    if code == EXIT_UNSAFE:
        print("reskflow-dr: mandatory policy violations (above)", file=sys.stderr)
    return code


def cmd_config_reference(args: argparse.Namespace, root: Path) -> int:
    table = config_reference_markdown()
    if args.update is None:
        print(table)
        return EXIT_OK
    _update_between(args.update, "config-reference", table)
    print(f"Config reference written to {args.update}")
    return EXIT_OK


def cmd_graph(args: argparse.Namespace, root: Path) -> int:
    (stack,) = stacks_of(args, many=False)
    if args.update and args.format != "mermaid":
        return fail("usage error: --update writes Mermaid; leave out --format", EXIT_USAGE)
    if args.format in graph.IMAGE_FORMATS:
        graph.graphviz(args.format)  # fail before the previews run, not after
    stacks = known_stacks(root) if stack == "all" else [stack]
    topology = graph.build(_previews(root, stacks, (), Progress(len(stacks), args.quiet)))
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


def _dispatch(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.command == "completion":
        print(shtab.complete(parser, shell=args.shell), end="")
        return EXIT_OK
    check_overrides(getattr(args, "set", []))
    root = find_project(args.cwd)
    if args.command == "preview":
        return cmd_preview(args, root)
    if args.command == "config-reference":
        return cmd_config_reference(args, root)
    if args.command == "graph":
        return cmd_graph(args, root)
    if args.command in drill_cli.COMMANDS:
        return drill_cli.run(args, root, stacks_of)
    if args.command == "restore":
        (stack,) = stacks_of(args, False)
        return restore_cli.run(args, root, stack)
    return fail(f"usage error: unknown command {args.command!r}", EXIT_USAGE)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code = _dispatch(args, parser)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
        return code
    except BrokenPipeError:
        return broken_pipe()
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except USAGE_ERRORS as err:
        return fail(str(err), EXIT_USAGE)
    except PolicyPackError as err:
        return internal_error("the policy pack did not run", err, args.debug)
    except ProgramError as err:
        if err.config_error:
            return fail(str(err), EXIT_USAGE)
        if err.__cause__ is not None:  # the program raised: a defect, not a verdict on the plan
            return internal_error("the program failed under mocks", err.__cause__, args.debug)
        return fail(str(err), EXIT_UNSAFE)  # the engine refused the plan (e.g. no provider)
    except Exception as err:  # noqa: BLE001 - the one place a crash becomes exit 3, one line
        return internal_error(f"{args.command} failed", err, args.debug)


if __name__ == "__main__":
    sys.exit(main())
