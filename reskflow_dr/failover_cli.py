"""``reskflow-dr failover``, ``fence`` and ``bootstrap``, and the activation step of
``drill --execute``: the step config from the stacks, the approvals, the runner choice.

``failover --to REGION [--disaster]`` runs the activation (the runbook's activation step) and
writes its report; ``drill SCENARIO --execute`` runs it within the whole runbook (config,
refresh, up with the policy pack). Exit codes (reskflow_dr/errors.py): 0 completed, 1 failed or
declined, 2 usage, 4 stopped awaiting an approval (run again once it can be given).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from failover_steps.fence import fence_region
from failover_steps.workflows import Mode
from reskflow_dr import activation, bootstrap, drill, orchestrate
from reskflow_dr.errors import EXIT_AWAITING, EXIT_OK, EXIT_UNSAFE
from reskflow_dr.failover.approvals import default_approver
from reskflow_dr.failover.local import Executors, aws_executors
from reskflow_dr.preview import validated
from reskflow_dr.stackfiles import UsageError

COMMANDS = ("failover", "fence", "bootstrap")
RunnerChoice = Literal["auto", "region-switch", "local"]
DEFAULT_DIRECTORY = Path("out")

AddParser = Callable[[str, str], argparse.ArgumentParser]
#: (step config, target stack) -> the executors (tests swap in fakes)
ExecutorsFor = Callable[[Any, str], Executors]


def activation_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--runner",
        choices=("auto", "region-switch", "local"),
        default="auto",
        help="region-switch: the plan's execution; local: the local runner; auto: Region switch "
        f"when the plan's ARN is known (--plan-arn or the `{activation.PLAN_ARN_OUTPUT}` output)",
    )
    p.add_argument("--plan-arn", default="", help="the Region switch plan's ARN")
    p.add_argument(
        "--journal-dir",
        type=Path,
        default=DEFAULT_DIRECTORY,
        help="where the journal, the execution record and the activation report go (default out)",
    )


def add_parsers(add: AddParser, stack_options: Callable[..., None]) -> None:
    f = add("failover", "activate a region: the Region switch execution or the local runner")
    f.add_argument("--to", required=True, metavar="REGION", help="the region to activate")
    f.add_argument(
        "--disaster",
        action="store_true",
        help="ungraceful: the peer region is unreachable and is not called",
    )
    activation_options(f)

    g = add("fence", "fence a stack's region: no-ingress security groups on its data stores")
    stack_options(g, many=False)

    b = add("bootstrap", "bring up both stacks from empty: prod without peer legs, dr, prod")
    b.add_argument(
        "--state",
        type=Path,
        default=DEFAULT_DIRECTORY / "bootstrap.json",
        help="progress file, for resuming (default out/bootstrap.json)",
    )


def _plain(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Automation API ``OutputValue``s (or plain values in tests) as plain values."""
    return {k: getattr(v, "value", v) for k, v in outputs.items()}


def deferred_scaling(stack: str) -> Callable[..., Mapping[str, Any]]:
    """The local runner's ``scale-target``: the workloads follow the stack's role, so they reach
    the active size at the ``pulumi up`` that follows; recorded, not skipped silently."""

    def scale(step: Any, target: str, mode: Mode) -> Mapping[str, Any]:
        return {
            "deferred": f"the workloads in {target} reach their active size at "
            f"`{drill.up_command(stack)}` (their replicas follow the role)"
        }

    return scale


def _aws_executors(config: Any, stack: str) -> Executors:
    return aws_executors(config, deferred_scaling(stack))


def run_activation(
    root: Path,
    ws: orchestrate.Workspace,
    target_stack: str,
    mode: Mode,
    *,
    runner: RunnerChoice = "auto",
    plan_arn: str = "",
    directory: Path = DEFAULT_DIRECTORY,
    say: Callable[[str], None] = print,
    executors_for: ExecutorsFor = _aws_executors,
    rs: Any = None,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> activation.ActivationReport:
    """Activate ``target_stack``'s region. Reads the stacks' files (offline) and, through the
    Automation API, the target stack's outputs; the peer stack's outputs only when graceful (in a
    disaster its region and state are not needed)."""
    pair = drill.stack_pair(root)
    peer_stack = pair.peer(target_stack)
    target = pair.regions[target_stack]
    settings = {pair.regions[s]: validated(root, s) for s in (target_stack, peer_stack)}
    read = [target_stack] + ([peer_stack] if mode == "graceful" else [])
    outputs = {pair.regions[s]: _plain(ws.select(s).outputs()) for s in read}
    config = activation.load_step_config(settings, outputs)
    arn = (
        ""
        if runner == "local"
        else plan_arn or str(outputs[target].get(activation.PLAN_ARN_OUTPUT) or "")
    )
    if runner == "region-switch" and not arn:
        raise activation.ActivationError(
            f"--runner region-switch: no plan ARN (give --plan-arn, or export "
            f"`{activation.PLAN_ARN_OUTPUT}` from stack {target_stack})"
        )
    return activation.activate(
        target,
        mode,
        config,
        executors_for(config, target_stack),
        directory,
        approver=default_approver(environ),
        plan_arn=arn,
        rs=rs,
        say=say,
        sleep=sleep,
    )


def exit_code(outcome: str) -> int:
    if outcome == "completed":
        return EXIT_OK
    return EXIT_AWAITING if outcome == "awaiting-approval" else EXIT_UNSAFE


def cmd_failover(args: argparse.Namespace, root: Path, ws: orchestrate.Workspace) -> int:
    pair = drill.stack_pair(root)
    stacks = {region: stack for stack, region in pair.regions.items()}
    if args.to not in stacks:
        raise UsageError(f"--to {args.to}: expected one of {', '.join(sorted(stacks))}")
    mode: Mode = "ungraceful" if args.disaster else "graceful"
    print(f"Activating {args.to} ({mode})")
    report = run_activation(
        root,
        ws,
        stacks[args.to],
        mode,
        runner=args.runner,
        plan_arn=args.plan_arn,
        directory=args.journal_dir,
    )
    path = activation.report_path(args.journal_dir, args.to)
    detail = f": {report.message}" if report.message else ""
    print(f"Activation {report.outcome} ({report.runner}){detail}")
    print(f"Report written to {path} (reskflow-dr rto-rpo {stacks[args.to]} --measured {path})")
    return exit_code(report.outcome)


def cmd_fence(root: Path, ws: orchestrate.Workspace, stack: str) -> int:
    """Fence ``stack``'s region (a region returning after a disaster): its own stack's outputs
    name the fence groups; nothing else is called."""
    pair = drill.stack_pair(root)
    region = pair.regions[stack]
    settings = {pair.regions[s]: validated(root, s) for s in (stack, pair.peer(stack))}
    config = activation.load_step_config(settings, {region: _plain(ws.select(stack).outputs())})
    result = fence_region(config, region)
    for check in result.checks:
        print(f"  {'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    print(f"Fenced {region}: {', '.join(result.changed) or 'already fenced'}")
    return EXIT_OK if result.ok else EXIT_UNSAFE


def run(
    args: argparse.Namespace,
    root: Path,
    stack: str | None,
    ws_factory: Callable[[Path], orchestrate.Workspace] | None = None,
) -> int:
    ws = (ws_factory or orchestrate.AutomationWorkspace)(root)
    if args.command == "failover":
        return cmd_failover(args, root, ws)
    if args.command == "fence":
        assert stack is not None
        return cmd_fence(root, ws, stack)
    return bootstrap.cmd_bootstrap(root, ws, args.state)
