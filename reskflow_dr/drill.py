"""DR drills by switching stack config: the config changes, each stack's diff, the data-safety
verdict, the ordered runbook and the RTO/RPO budget.

Scenarios (``home`` is the stack of the normally active region, us-east-1; ``away`` its peer):

- ``failover``: planned drill, away becomes active and home passive;
- ``failback``: back from a failover, home becomes active again and away passive (on stacks in
  normal operation it is shown from the state a failover leaves);
- ``disaster``: home's region is lost; only away changes, with the peer-lost flag, and nothing in
  it calls into home's region.

Runbook order follows RUN-002: promote the standby before demoting the old primary. The
split-brain guard is satisfied by setting both stacks' config first (nothing is deployed by
``pulumi config set``), with writes stopped in the old primary's region.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from components.region_switch_steps import render_workflows, workflow_problems
from failover_steps.contract import TrafficMode
from failover_steps.workflows import Mode as FailoverMode
from infra.settings import (
    ACCOUNT_ID_KEY,
    AWS_REGION_KEY,
    CACHE_PRIMARY_REGION_KEY,
    DB_GENERATION_KEY,
    DOCDB_PRIMARY_REGION_KEY,
    NORMALLY_ACTIVE_REGION,
    PEER_DB_GENERATION_KEY,
    PEER_LOST_KEY,
    PEER_ROLE_KEY,
    RETAINED_DB_GENERATIONS_KEY,
    ROLE_KEY,
    SUPPORTED_REGIONS,
)
from reskflow_dr import batch
from reskflow_dr import budget as budget_mod
from reskflow_dr.diff import Finding, PlanDiff, Verdict, diff_plans, verdict
from reskflow_dr.engine import Plan, run_program
from reskflow_dr.preview import ROOT, preview, settings_of, validated
from reskflow_dr.stackfiles import StackConfig, UsageError, known_stacks, load_stack

Scenario = Literal["failover", "failback", "disaster"]
SCENARIOS: tuple[Scenario, ...] = ("failover", "failback", "disaster")
StepKind = Literal["gate", "activate", "config", "refresh", "up", "after"]
DEFAULT_TRAFFIC_MODE: TrafficMode = "arc"
"""The traffic switch's mode until the stacks declare it in config (docs/traffic-switch.md)."""
ROLE, PEER_ROLE, PEER_LOST = ROLE_KEY.name, PEER_ROLE_KEY.name, PEER_LOST_KEY.name


@dataclass(frozen=True)
class Pair:
    """The two stacks: ``home`` in the normally active region, ``away`` in the other."""

    home: str
    away: str
    regions: Mapping[str, str]

    def peer(self, stack: str) -> str:
        return self.away if stack == self.home else self.home


def stack_pair(root: Path = ROOT) -> Pair:
    by_region: dict[str, str] = {}
    for stack in known_stacks(root):
        region = load_stack(root, stack).values.get(AWS_REGION_KEY.name, "")
        if region in SUPPORTED_REGIONS:
            by_region.setdefault(region, stack)
    if set(by_region) != set(SUPPORTED_REGIONS):
        raise UsageError(
            "a drill needs one stack per region ("
            + ", ".join(SUPPORTED_REGIONS)
            + f"); found {by_region or 'none'}"
        )
    home = by_region[NORMALLY_ACTIVE_REGION]
    away = next(s for r, s in by_region.items() if r != NORMALLY_ACTIVE_REGION)
    return Pair(home, away, {s: r for r, s in by_region.items()})


def stack_plans(stack: str, root: Path = ROOT) -> tuple[Plan, Plan]:
    """A stack's plan (fully checked) and its peer's, for readiness and the budget.

    The peer's plan is only read for what it declares (replication into this region, backup
    copies, health checks), so it skips the cross-check against this stack's file: after a
    disaster failover the lost region's file still says ``active``, and must still be readable."""
    pair = stack_pair(root)
    peer = pair.peer(stack)
    config = load_stack(root, peer)
    settings = settings_of(config)
    return preview(stack, root=root), run_program(config, settings.account_id, settings.region)


# --------------------------------------------------------------------------------------------
# Config transitions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigChange:
    stack: str
    key: str
    value: str

    @property
    def command(self) -> str:
        return f"pulumi config set {self.key} {shlex.quote(self.value)} -s {self.stack}"

    @property
    def override(self) -> str:
        return f"{self.key}={self.value}"


@dataclass(frozen=True)
class Move:
    """Which stack goes active, which goes passive (None when its region is lost)."""

    promote: str
    demote: str | None
    peer_lost: bool = False


@dataclass(frozen=True)
class TransitionContext:
    """What a contributor sees: the move and each stack's effective config before it."""

    move: Move
    config: Mapping[str, Mapping[str, str]]


#: A building block's part of a role switch: target config values per stack.
Contributor = Callable[[TransitionContext], Mapping[str, Mapping[str, str]]]


def roles_contributor(ctx: TransitionContext) -> dict[str, dict[str, str]]:
    """The role, the peer's role as each stack knows it, and the peer-lost flag."""
    m = ctx.move
    promote = {ROLE: "active"}
    promote.update(
        {PEER_LOST: "true"} if m.peer_lost else {PEER_ROLE: "passive", PEER_LOST: "false"}
    )
    out = {m.promote: promote}
    if m.demote is not None:
        out[m.demote] = {ROLE: "passive", PEER_ROLE: "active", PEER_LOST: "false"}
    return out


DB_GENERATION = DB_GENERATION_KEY.name
PEER_DB_GENERATION = PEER_DB_GENERATION_KEY.name
RETAINED_GENERATIONS = RETAINED_DB_GENERATIONS_KEY.name
GLOBAL_PRIMARY_REGIONS = (CACHE_PRIMARY_REGION_KEY.name, DOCDB_PRIMARY_REGION_KEY.name)


def _generations(config: Mapping[str, str]) -> tuple[int, list[int]]:
    """A stack's live PostgreSQL generation and its retained ones (validated config strings)."""
    retained = json.loads(config.get(RETAINED_GENERATIONS) or "[]")
    return int(config.get(DB_GENERATION) or "1"), [int(g) for g in retained]


def database_contributor(ctx: TransitionContext) -> dict[str, dict[str, str]]:
    """docs/database-failover.md: the promoted stack keeps its instance (promotion removes its
    source in place); the demoted one cannot turn its old primary into a replica, so it keeps it
    retained and declares a new replica generation, numbered above every generation in use, of
    the promoted stack's instance. The Redis and DocumentDB global primaries are recorded in the
    promoted region on both stacks (their switch is an AWS API call the runbook makes first)."""
    m = ctx.move
    region = ctx.config[m.promote][AWS_REGION_KEY.name]
    primaries = {key: region for key in GLOBAL_PRIMARY_REGIONS}
    out = {m.promote: dict(primaries)}
    if m.demote is not None:
        promoted_gen, promoted_retained = _generations(ctx.config[m.promote])
        own_gen, own_retained = _generations(ctx.config[m.demote])
        new_gen = max([promoted_gen, own_gen, *promoted_retained, *own_retained]) + 1
        out[m.demote] = {
            **primaries,
            DB_GENERATION: str(new_gen),
            RETAINED_GENERATIONS: json.dumps(sorted([*own_retained, own_gen])),
            PEER_DB_GENERATION: str(promoted_gen),
        }
    return out


#: Contributors to every role switch. A tier whose config depends on the role appends its own;
#: each returns only the keys it owns.
CONTRIBUTORS: list[Contributor] = [roles_contributor, database_contributor]


def effective_config(config: StackConfig) -> dict[str, str]:
    """The raw config plus the values the guard derives (``peerRole``, ``peerLost`` defaults)."""
    s = settings_of(config)
    return {
        **config.values,
        ROLE: s.role,
        PEER_ROLE: s.peer_role,
        PEER_LOST: "true" if s.peer_lost else "false",
    }


def changes_for(move: Move, config: Mapping[str, Mapping[str, str]]) -> list[ConfigChange]:
    """The config changes the move needs, demoted stack first; values already set are skipped."""
    ctx = TransitionContext(move, config)
    targets: dict[str, dict[str, str]] = {}
    for contribute in CONTRIBUTORS:
        for stack, values in contribute(ctx).items():
            targets.setdefault(stack, {}).update(values)
    order = [s for s in (move.demote, move.promote) if s is not None]
    return [
        ConfigChange(stack, key, value)
        for stack in order
        for key, value in targets.get(stack, {}).items()
        if config[stack].get(key) != value
    ]


@dataclass(frozen=True)
class Transition:
    scenario: Scenario
    pair: Pair
    move: Move
    baseline: tuple[ConfigChange, ...]
    """Overrides simulating the state the scenario starts from (empty when the files are in it)."""
    config: Mapping[str, Mapping[str, str]]
    """Each stack's effective config in that starting state."""
    changes: tuple[ConfigChange, ...]
    note: str = ""

    def overrides(self, stack: str, target: bool, extra: Sequence[str] = ()) -> list[str]:
        steps = [*self.baseline, *(self.changes if target else ())]
        return [c.override for c in steps if c.stack == stack] + (list(extra) if target else [])


def _configs(
    root: Path, pair: Pair, baseline: Sequence[ConfigChange] = ()
) -> dict[str, dict[str, str]]:
    out = {}
    for stack in (pair.home, pair.away):
        overrides = [c.override for c in baseline if c.stack == stack]
        out[stack] = effective_config(load_stack(root, stack, overrides))
    return out


def transition(scenario: Scenario, root: Path = ROOT) -> Transition:
    pair = stack_pair(root)
    config = _configs(root, pair)
    home_active = config[pair.home][ROLE] == "active"
    away_active = config[pair.away][ROLE] == "active"
    if scenario in ("failover", "disaster") and away_active:
        raise UsageError(
            f"stack {pair.away!r} is already active: run `reskflow-dr drill failback` to return"
        )
    if scenario == "failback" and home_active and away_active:
        fence = changes_for(Move(pair.away, pair.home), config)
        raise UsageError(
            f"stack {pair.home!r} is still active in its file after a disaster failover: fence it "
            "first (" + "; ".join(c.command for c in fence) + "), then run the failback"
        )
    if scenario == "failover":
        move = Move(promote=pair.away, demote=pair.home)
    elif scenario == "disaster":
        move = Move(promote=pair.away, demote=None, peer_lost=True)
    else:
        return _failback(pair, config, root)
    return Transition(scenario, pair, move, (), config, tuple(changes_for(move, config)))


def _failback(pair: Pair, config: dict[str, dict[str, str]], root: Path) -> Transition:
    baseline: tuple[ConfigChange, ...] = ()
    note = ""
    if config[pair.away][ROLE] != "active":
        baseline = tuple(changes_for(Move(pair.away, pair.home), config))
        config = _configs(root, pair, baseline)
        note = (
            f"the stacks are in normal operation: failback is shown from the state `drill "
            f"failover` leaves ({pair.away} active, {pair.home} passive)"
        )
    move = Move(promote=pair.home, demote=pair.away)
    changes = tuple(changes_for(move, config))
    return Transition("failback", pair, move, baseline, config, changes, note)


# --------------------------------------------------------------------------------------------
# The runbook: readiness gates, the activation (Region switch plan or local runner), config,
# refresh and up. Every step is a step of the declared plan or a command this program runs.
# --------------------------------------------------------------------------------------------

Mode = Literal["ready", "promoted"]

#: Data stores an activation changes outside Pulumi (promotion, global failover, fences): the
#: refresh after it reads them back, so the next preview shows no drift.
REFRESHED_TYPES = (
    "aws:rds/instance:Instance",
    "aws:docdb/cluster:Cluster",
    "aws:docdb/globalCluster:GlobalCluster",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
)


@dataclass(frozen=True)
class Step:
    title: str
    kind: StepKind
    source: str
    commands: tuple[str, ...] = ()
    verify: str = ""
    stack: str | None = None
    check: Mode | None = None
    """For gates and ``up`` steps: the readiness mode that must pass on ``stack`` afterwards."""
    workflow: tuple[Mapping[str, Any], ...] = ()
    """``activate``: the Region switch workflow steps (render_workflows rows) it executes."""
    targets: tuple[str, ...] = ()
    """``refresh``: the URNs read back (empty: the whole stack)."""

    def to_json(self, number: int) -> dict[str, Any]:
        return {
            "step": number,
            "title": self.title,
            "kind": self.kind,
            "source": self.source,
            "commands": list(self.commands),
            "verify": self.verify,
            "stack": self.stack,
            "workflow": [
                {"step": r["step"], "block": r["block"], "ranBy": r["ranBy"]} for r in self.workflow
            ],
        }


def _readiness(stack: str, mode: Mode, peer_lost: bool) -> str:
    flags = (" --promoted" if mode == "promoted" else "") + (" --peer-lost" if peer_lost else "")
    return f"reskflow-dr readiness {stack}{flags}"


def _gate(stack: str, title: str, source: str, peer_lost: bool) -> Step:
    cmd = _readiness(stack, "ready", peer_lost)
    return Step(title, "gate", source, (cmd,), f"{cmd} exits 0", stack, "ready")


def activation_mode(t: Transition) -> FailoverMode:
    return "ungraceful" if t.move.peer_lost else "graceful"


def activation_command(t: Transition) -> str:
    region = t.pair.regions[t.move.promote]
    return f"reskflow-dr failover --to {region}" + (" --disaster" if t.move.peer_lost else "")


def _activate(t: Transition, workflow: Sequence[Mapping[str, Any]]) -> Step:
    mode = activation_mode(t)
    region = t.pair.regions[t.move.promote]
    lost = " (the peer is not called)" if t.move.peer_lost else " (the peer is fenced first)"
    return Step(
        f"Activate {region} ({mode}){lost}: the Region switch plan's workflow, then the steps "
        "it leaves to the tool",
        "activate",
        "RUN-002 2_stop_applications to 5_restart_applications; the Region switch plan",
        (activation_command(t),),
        f"the activation report out/activation-{region}.json says completed",
        t.move.promote,
        workflow=tuple(
            {**r, "ranBy": r[mode]}
            for r in workflow
            if r["target"] == region and r[mode] != "skipped"
        ),
    )


def _config_step(t: Transition) -> Step:
    stacks = " ".join(s for s in (t.move.demote, t.move.promote) if s)
    first = (
        "the demoted stack first, so the split-brain guard sees it passive; "
        if t.move.demote
        else ""
    )
    return Step(
        f"Set the config ({first}nothing is deployed yet)",
        "config",
        "split-brain guard (DESIGN: a stack goes active only when its peer is known passive)",
        tuple(c.command for c in t.changes),
        f"reskflow-dr preview {stacks} --quiet exits 0",
    )


def refresh_command(stack: str, targets: Sequence[str]) -> str:
    return " ".join(
        [f"pulumi refresh -s {stack} --yes", *(f"--target {shlex.quote(u)}" for u in targets)]
    )


def _refresh(stack: str, targets: Sequence[str]) -> Step:
    return Step(
        f"Read back in {stack} what the activation changed outside Pulumi (promotion, global "
        "primaries, fences)",
        "refresh",
        "no drift: the next preview shows only the config changes",
        (refresh_command(stack, targets),),
        "",
        stack,
        targets=tuple(targets),
    )


def up_command(stack: str) -> str:
    return f"pulumi up -s {stack} --policy-pack policy"


def _up(stack: str, title: str, source: str, mode: Mode, peer_lost: bool) -> Step:
    verify = _readiness(stack, mode, peer_lost)
    return Step(title, "up", source, (up_command(stack),), f"{verify} exits 0", stack, mode)


def runbook(
    t: Transition,
    workflow: Sequence[Mapping[str, Any]] = (),
    refresh: Mapping[str, Sequence[str]] | None = None,
) -> list[Step]:
    """The ordered steps. ``workflow``: the Region switch plan's rows (render_workflows);
    ``refresh``: per stack, the data stores to read back (default: the whole stack)."""
    refresh = refresh or {}
    promote, demote = t.move.promote, t.move.demote
    lost = t.move.peer_lost
    head = [
        _gate(
            promote,
            f"Readiness of {promote}"
            + (f" without {t.pair.regions[t.pair.home]}" if lost else ": replica lag under RPO"),
            "RUN-002 1_assess_situation",
            lost,
        ),
        _activate(t, workflow),
        _config_step(t),
        *(_refresh(s, refresh.get(s, ())) for s in (promote, demote) if s is not None),
        _up(
            promote,
            f"Promote {promote}",
            "RUN-002 3_promote_standby; checklist 4",
            "promoted",
            lost,
        ),
    ]
    if demote is not None:
        return [
            *head,
            _up(
                demote,
                f"Demote {demote}: it becomes the new standby",
                "RUN-002 7_setup_new_standby",
                "ready",
                False,
            ),
        ]
    return [*head, _returning(t)]


def _returning(t: Transition) -> Step:
    """After a disaster: the lost region, once it answers, is fenced before anything else."""
    home = t.pair.home
    after = changes_for(Move(t.move.promote, home), _post_disaster(t))
    return Step(
        f"When {t.pair.regions[home]} returns: fence it before anything else, then set up the "
        "new standby",
        "after",
        "RUN-002 7_setup_new_standby; docs/traffic-switch.md (a region comes back)",
        (f"reskflow-dr fence {home}", *(c.command for c in after), up_command(home)),
        f"reskflow-dr readiness {home} exits 0; then `reskflow-dr drill failback` when planned",
        home,
    )


def _post_disaster(t: Transition) -> dict[str, dict[str, str]]:
    """Each stack's config after the disaster changes (the lost stack's file untouched)."""
    return {
        stack: {**values, **{c.key: c.value for c in t.changes if c.stack == stack}}
        for stack, values in t.config.items()
    }


# --------------------------------------------------------------------------------------------
# Running a drill offline
# --------------------------------------------------------------------------------------------


@dataclass
class DrillReport:
    transition: Transition
    diffs: list[PlanDiff]
    verdict: Verdict
    steps: list[Step]
    budget: budget_mod.Budget
    plans: dict[tuple[str, bool], Plan] = field(default_factory=dict)
    workflow: list[dict[str, Any]] = field(default_factory=list)
    """The Region switch plan's rows for the activated region (render_workflows)."""

    def to_json(self) -> dict[str, Any]:
        t = self.transition
        return {
            "scenario": t.scenario,
            "promote": t.move.promote,
            "demote": t.move.demote,
            "peerLost": t.move.peer_lost,
            "note": t.note,
            "startingState": [c.command for c in t.baseline],
            "configChanges": [
                {"stack": c.stack, "key": c.key, "value": c.value, "command": c.command}
                for c in t.changes
            ],
            "stacks": {d.stack: d.to_json() for d in self.diffs},
            "verdict": {
                "safe": self.verdict.safe,
                "checked": self.verdict.checked,
                "findings": [f.to_json() for f in self.verdict.findings],
                "notes": list(self.verdict.notes),
            },
            "runbook": [s.to_json(i) for i, s in enumerate(self.steps, 1)],
            "regionSwitch": {
                "mode": activation_mode(t),
                "targetRegion": t.pair.regions[t.move.promote],
                "workflow": self.workflow,
            },
            "budget": self.budget.to_json(),
        }


PLAN_TYPE = "aws:arcregionswitch/plan:Plan"
PLAN_NAME = "reskflow-dr"


def plan_workflows(
    t: Transition, traffic_mode: TrafficMode = DEFAULT_TRAFFIC_MODE
) -> tuple[list[dict[str, Any]], list[Finding]]:
    """The Region switch plan's workflows as rows, and what makes them unsafe as findings (on
    the stack that owns the plan: the home stack)."""
    regions = (
        NORMALLY_ACTIVE_REGION,
        *(r for r in SUPPORTED_REGIONS if r != NORMALLY_ACTIVE_REGION),
    )
    account = t.config[t.move.promote][ACCOUNT_ID_KEY.name]
    rows = render_workflows(regions, account, traffic_mode)
    findings = [
        Finding(t.pair.home, PLAN_TYPE, PLAN_NAME, "", f"workflow unsafe: {problem}")
        for problem in workflow_problems(rows, regions)
    ]
    return rows, findings


def refresh_targets(t: Transition, plans: Mapping[tuple[str, bool], Plan]) -> dict[str, list[str]]:
    """Per changed stack, the URNs of the data stores an activation changes outside Pulumi."""
    return {
        stack: [r.urn for r in plans[(stack, True)].resources if r.type in REFRESHED_TYPES]
        for stack in (t.move.promote, t.move.demote)
        if stack is not None
    }


def run(
    scenario: Scenario,
    extra: Sequence[str] = (),
    root: Path = ROOT,
    progress: Callable[[str], None] = lambda _: None,
    t: Transition | None = None,
) -> DrillReport:
    """Four offline previews (each stack, current and target config), their diffs, the
    verdict, the runbook and the budget of failing over to the promoted stack."""
    t = t or transition(scenario, root)
    stacks = (t.pair.home, t.pair.away)
    jobs = [(stack, target) for stack in stacks for target in (False, True)]
    requests: dict[tuple[str, bool], batch.Request] = {}
    for i, (stack, target) in enumerate(jobs, 1):
        region = t.pair.regions[stack]
        if target and stack not in (t.move.promote, t.move.demote):
            progress(f"[{i}/{len(jobs)}] {stack} ({region}) is lost: its stack is not touched")
            continue
        which = "target" if target else "current"
        progress(f"[{i}/{len(jobs)}] previewing {stack} ({region}) with its {which} config")
        peer = t.pair.peer(stack)
        requests[(stack, target)] = batch.Request(
            stack, t.overrides(stack, target, extra), {peer: t.overrides(peer, target, extra)}
        )
    # The programs run in parallel once every config is checked (reskflow_dr/batch.py).
    plans = dict(zip(requests, batch.previews(list(requests.values()), root), strict=True))
    for stack, target in jobs:
        plans.setdefault((stack, target), plans[(stack, False)])  # a lost stack stays as it is
    diffs = [diff_plans(plans[(s, False)], plans[(s, True)]) for s in stacks]
    promote = t.move.promote
    settings = validated(root, promote, t.overrides(promote, False))
    budget = budget_mod.compute(
        plans[(promote, False)], plans[(t.pair.peer(promote), False)], settings.recovery
    )
    rows, problems = plan_workflows(t)
    checked = verdict(diffs)
    judged = replace(checked, findings=(*checked.findings, *problems))
    region = t.pair.regions[promote]
    steps = runbook(t, rows, refresh_targets(t, plans))
    ours = [{k: v for k, v in r.items() if k != "target"} for r in rows if r["target"] == region]
    return DrillReport(t, diffs, judged, steps, budget, plans, ours)
