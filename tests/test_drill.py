"""Drill scenarios on the real stacks: config changes, diffs, verdict, runbook order, the CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.settings import ConfigError
from reskflow_dr import drill
from reskflow_dr.cli import main
from reskflow_dr.diff import ABSENT
from reskflow_dr.engine import Plan, PlannedResource
from reskflow_dr.preview import preview
from reskflow_dr.stackfiles import UsageError

ROOT = Path(__file__).resolve().parent.parent
FAILOVER = [
    "pulumi config set reskflow:role passive -s prod",
    "pulumi config set reskflow:peerRole active -s prod",
    "pulumi config set reskflow:cachePrimaryRegion us-west-2 -s prod",
    "pulumi config set reskflow:docdbPrimaryRegion us-west-2 -s prod",
    # prod's old primary (g1) cannot become a replica: it is retained, g3 replicates dr's g2
    "pulumi config set reskflow:dbGeneration 3 -s prod",
    "pulumi config set reskflow:retainedDbGenerations '[1]' -s prod",
    "pulumi config set reskflow:peerDbGeneration 2 -s prod",
    "pulumi config set reskflow:role active -s dr",
    "pulumi config set reskflow:peerRole passive -s dr",
    "pulumi config set reskflow:cachePrimaryRegion us-west-2 -s dr",
    "pulumi config set reskflow:docdbPrimaryRegion us-west-2 -s dr",
]
FAILBACK = [
    "pulumi config set reskflow:role passive -s dr",
    "pulumi config set reskflow:peerRole active -s dr",
    "pulumi config set reskflow:cachePrimaryRegion us-east-1 -s dr",
    "pulumi config set reskflow:docdbPrimaryRegion us-east-1 -s dr",
    "pulumi config set reskflow:dbGeneration 4 -s dr",
    "pulumi config set reskflow:retainedDbGenerations '[2]' -s dr",
    "pulumi config set reskflow:peerDbGeneration 3 -s dr",
    "pulumi config set reskflow:role active -s prod",
    "pulumi config set reskflow:peerRole passive -s prod",
    "pulumi config set reskflow:cachePrimaryRegion us-east-1 -s prod",
    "pulumi config set reskflow:docdbPrimaryRegion us-east-1 -s prod",
]


def commands(changes: tuple[drill.ConfigChange, ...]) -> list[str]:
    return [c.command for c in changes]


def ups(steps: list[drill.Step]) -> list[str]:
    return [c for s in steps if s.kind == "up" for c in s.commands]


def test_failover_changes_both_stacks_demoted_first() -> None:
    t = drill.transition("failover")
    assert (t.move.promote, t.move.demote, t.move.peer_lost) == ("dr", "prod", False)
    assert commands(t.changes) == FAILOVER
    assert t.baseline == () and t.note == ""


def test_failback_on_normal_stacks_starts_from_the_failed_over_state() -> None:
    t = drill.transition("failback")
    assert commands(t.baseline) == FAILOVER
    assert commands(t.changes) == FAILBACK
    assert "failback is shown from the state `drill failover` leaves" in t.note


def test_disaster_changes_only_dr_with_the_peer_lost_flag() -> None:
    t = drill.transition("disaster")
    assert (t.move.promote, t.move.demote, t.move.peer_lost) == ("dr", None, True)
    assert commands(t.changes) == [
        "pulumi config set reskflow:role active -s dr",
        "pulumi config set reskflow:peerLost true -s dr",
        "pulumi config set reskflow:cachePrimaryRegion us-west-2 -s dr",
        "pulumi config set reskflow:docdbPrimaryRegion us-west-2 -s dr",
    ]


def test_disaster_runbook_needs_nothing_from_us_east_1() -> None:
    steps = drill.runbook(drill.transition("disaster"))
    *during, after = steps
    assert [s.kind for s in during] == ["gate", "activate", "config", "refresh", "up"]
    assert all("prod" not in c for s in during for c in s.commands)
    assert during[1].commands == ("reskflow-dr failover --to us-west-2 --disaster",)
    gates = [c for s in during if s.kind in ("gate", "up") for c in (s.verify,)]
    assert gates and all("--peer-lost" in g for g in gates)
    assert after.kind == "after"
    assert after.title.startswith("When us-east-1 returns: fence it")
    assert list(after.commands) == [
        "reskflow-dr fence prod",
        *FAILOVER[:7],  # prod: passive, a new replica generation, its old primary retained
        "pulumi config set reskflow:peerRole passive -s dr",
        "pulumi config set reskflow:peerLost false -s dr",
        "pulumi up -s prod --policy-pack policy",
    ]


#: The only commands a runbook may name: this program's, and Pulumi's with the policy pack.
ALLOWED = ("reskflow-dr ", "pulumi config set ", "pulumi up -s ", "pulumi refresh -s ")


@pytest.mark.parametrize("scenario", drill.SCENARIOS)
def test_runbooks_name_only_program_commands_and_up_carries_the_policy_pack(
    scenario: drill.Scenario,
) -> None:
    for step in drill.runbook(drill.transition(scenario)):
        for command in step.commands:
            assert command.startswith(ALLOWED), command
            assert "./scripts" not in command and not command.startswith(("aws ", "kubectl"))
            if command.startswith("pulumi up"):
                assert command.endswith(" --policy-pack policy"), command


@pytest.mark.parametrize(
    ("scenario", "order"),
    [("failover", ["dr", "prod"]), ("failback", ["prod", "dr"]), ("disaster", ["dr"])],
)
def test_runbook_promotes_before_it_demotes(scenario: drill.Scenario, order: list[str]) -> None:
    steps = drill.runbook(drill.transition(scenario))
    assert ups(steps) == [f"pulumi up -s {s} --policy-pack policy" for s in order]
    kinds = [s.kind for s in steps]
    assert (
        kinds.index("gate")
        < kinds.index("activate")
        < kinds.index("config")
        < kinds.index("refresh")
        < kinds.index("up")
    )
    assert [s.stack for s in steps if s.kind == "refresh"] == order
    promote_step = next(s for s in steps if s.kind == "up")
    assert promote_step.check == "promoted"


RDS = "aws:rds/instance:Instance"


@pytest.mark.parametrize("scenario", drill.SCENARIOS)
def test_real_stacks_switch_roles_safely(scenario: drill.Scenario) -> None:
    report = drill.run(scenario)
    assert report.verdict.safe, [f.line() for f in report.verdict.findings]
    for d in report.diffs:
        for r in d.resources:
            if r.data_bearing:
                assert r.action in ("create", "update"), r.urn
                assert "identifier" not in [c.path for c in r.changes], r.urn
    assert report.budget.stack == report.transition.move.promote


def _replicas(p: Plan) -> list[PlannedResource]:
    return [r for r in p.of_type(RDS) if r.inputs.get("replicateSourceDb")]


def test_real_failover_promotes_the_replica_in_place() -> None:
    """Shape proven on hand-built plans in test_drill_diff.py; here on the real stacks once the
    database tier declares a replica."""
    report = drill.run("failover")
    replicas = _replicas(report.plans[("dr", False)])
    if not replicas:
        pytest.skip("no RDS read replica declared in the dr stack yet (database tier)")
    dr_diff = {r.urn: r for r in report.diffs[1].resources}
    for replica in replicas:
        promoted = dr_diff[replica.urn]
        assert promoted.action == "update"
        paths = {c.path: c for c in promoted.changes}
        assert paths["replicateSourceDb"].after is ABSENT


def test_real_failback_declares_a_new_generation_and_keeps_the_old() -> None:
    report = drill.run("failback")
    before, after = report.plans[("dr", False)], report.plans[("dr", True)]
    if not before.of_type(RDS):
        pytest.skip("no RDS instance declared in the dr stack yet (database tier)")
    old = {r.urn for r in before.of_type(RDS)}
    new = {r.urn for r in after.of_type(RDS)}
    assert old < new  # every earlier instance still declared, and a new one created
    assert all(r.inputs.get("replicateSourceDb") for r in after.of_type(RDS) if r.urn not in old)


def test_cli_failover_prints_changes_diffs_verdict_runbook_and_budget(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert main(["drill", "failover"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    # progress on stderr, one line per preview; the report alone on stdout
    assert captured.err.splitlines()[-1] == "[4/4] previewing dr (us-west-2) with its target config"
    assert "previewing" not in out
    for needle in (
        "Drill failover: dr (us-west-2) becomes active, prod (us-east-1) passive",
        *FAILOVER,
        # prod: g3 (replica) and its lag, not-replicating and Redis lag alarms created; g1, the
        # DocumentDB cluster and the Redis group fenced (their fence groups always exist), the
        # drained health check updated and the distribution's origin group puts the us-west-2
        # bucket first; the backup copy moves to dr. dr: g2 promoted in place.
        "Diff prod (us-east-1): 5 to create, 5 to update, 0 to replace",
        "Diff dr (us-west-2): 2 to create, 1 to update, 0 to replace",
        "Data safety: SAFE",
        "Runbook (promote dr before demoting prod):",
        "2. [activate] Activate us-west-2 (graceful)",
        "       $ reskflow-dr failover --to us-west-2",
        "       - fence-peer        CustomActionLambda  region-switch",
        "       - switch-traffic    ARCRoutingControl   region-switch",
        "6. [up] Promote dr",
        "       $ pulumi up -s dr --policy-pack policy",
        "7. [up] Demote prod",
        "RTO/RPO budget: failing over to dr (us-west-2)",
        "AWS cannot meet the 5-minute RPO for S3 objects",
    ):
        assert needle in out, needle


def test_cli_unsafe_what_if_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drill", "failover", "--set", "reskflow:bucketPrefix=other", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "Data safety: UNSAFE - 13 finding(s)" in out  # 12, and the edge-logs bucket
    assert "prod: aws:s3/bucket:Bucket s3-uploads: replaced: a new, empty resource [bucket]" in out


def test_cli_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "drill.json"
    assert main(["drill", "disaster", "--quiet", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["scenario"] == "disaster" and data["peerLost"] is True
    assert [c["command"] for c in data["configChanges"]] == [
        "pulumi config set reskflow:role active -s dr",
        "pulumi config set reskflow:peerLost true -s dr",
        "pulumi config set reskflow:cachePrimaryRegion us-west-2 -s dr",
        "pulumi config set reskflow:docdbPrimaryRegion us-west-2 -s dr",
    ]
    checked = drill.run("disaster").verdict.checked  # the same drill, in process
    assert data["verdict"] == {"safe": True, "checked": checked, "findings": [], "notes": []}
    assert checked > 12  # keys and buckets, and now the data tier and the vault
    assert set(data["stacks"]) == {"prod", "dr"}
    assert data["budget"]["stores"][0]["store"] == "traffic (Route 53 failover)"
    region_switch = data["regionSwitch"]
    assert (region_switch["mode"], region_switch["targetRegion"]) == ("ungraceful", "us-west-2")
    assert [(r["step"], r["ungraceful"]) for r in region_switch["workflow"]] == [
        ("approve", "region-switch"),
        ("scale-target", "region-switch"),
        ("fence-peer", "skipped"),
        ("promote-postgres", "local"),
        ("failover-cache", "local"),
        ("failover-docdb", "region-switch"),
        ("verify-writable", "local"),
        ("switch-traffic", "local"),
    ]
    activate = data["runbook"][1]
    assert activate["kind"] == "activate"
    assert [w["step"] for w in activate["workflow"]] == [
        "approve",
        "scale-target",
        "promote-postgres",
        "failover-cache",
        "failover-docdb",
        "verify-writable",
        "switch-traffic",
    ]
    refresh = data["runbook"][3]
    assert refresh["kind"] == "refresh" and refresh["stack"] == "dr"
    assert (
        "--target 'urn:pulumi:dr::reskflow::reskflow:data:PostgresDatabase"
        "$aws:rds/instance:Instance::postgres-g2'" in refresh["commands"][0]
    )


def test_an_unsafe_region_switch_workflow_makes_the_drill_unsafe(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A workflow whose traffic switch is not last (here: the runbook reordered) is an unsafe
    verdict, exit 1, with the problem named as a finding on the plan's stack."""
    from components import region_switch_steps

    real = region_switch_steps.plan_steps

    def traffic_first(mode: Any) -> Any:
        steps = real(mode)
        return (steps[-1], *steps[:-1])

    monkeypatch.setattr(region_switch_steps, "plan_steps", traffic_first)
    assert main(["drill", "failover", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert (
        "prod: aws:arcregionswitch/plan:Plan reskflow-dr: workflow unsafe: us-east-1: the last "
        "step is verify-writable, not the traffic switch"
    ) in out


def test_cli_execute_without_pulumi_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)
    assert main(["drill", "failover", "--quiet", "--execute"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "reskflow-dr: no pulumi CLI on PATH: --execute needs it "
        "(https://www.pulumi.com/docs/install/); the offline drill above is complete without it"
    ]


def _project(tmp_path: Path, configs: Mapping[str, Mapping[str, str]]) -> Path:
    """A copy of the project's stack files with some keys changed."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for stack, changes in configs.items():
        doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
        doc["config"].update(changes)
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc))
    return tmp_path


_WEST = {"reskflow:cachePrimaryRegion": "us-west-2", "reskflow:docdbPrimaryRegion": "us-west-2"}
FAILED_OVER = {
    "prod": {
        "reskflow:role": "passive",
        "reskflow:peerRole": "active",
        "reskflow:dbGeneration": 3,
        "reskflow:retainedDbGenerations": [1],
        "reskflow:peerDbGeneration": 2,
        **_WEST,
    },
    "dr": {"reskflow:role": "active", "reskflow:peerRole": "passive", **_WEST},
}
DISASTER = {"reskflow:role": "active", "reskflow:peerLost": "true", **_WEST}


def test_failed_over_stacks_fail_back_without_simulation(tmp_path: Path) -> None:
    root = _project(tmp_path, FAILED_OVER)
    t = drill.transition("failback", root)
    assert t.baseline == () and commands(t.changes) == FAILBACK
    with pytest.raises(
        UsageError, match="stack 'dr' is already active: run `reskflow-dr drill failback`"
    ):
        drill.transition("failover", root)


def test_failback_after_a_disaster_asks_to_fence_the_old_region_first(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {"prod": {}, "dr": DISASTER},
    )
    with pytest.raises(UsageError) as err:
        drill.transition("failback", root)
    assert str(err.value) == (
        "stack 'prod' is still active in its file after a disaster failover: fence it first "
        "("
        + "; ".join(
            [
                *FAILOVER[:7],
                "pulumi config set reskflow:peerRole passive -s dr",
                "pulumi config set reskflow:peerLost false -s dr",
            ]
        )
        + "), then run the failback"
    )


def test_building_blocks_contribute_their_own_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tier whose config follows the role (e.g. a database generation) adds a contributor."""

    def generations(ctx: drill.TransitionContext) -> dict[str, dict[str, str]]:
        assert ctx.move.demote is not None
        return {ctx.move.demote: {"reskflow:dbGeneration": "3"}, ctx.move.promote: {}}

    monkeypatch.setattr(drill, "CONTRIBUTORS", [drill.roles_contributor, generations])
    t = drill.transition("failover")
    assert commands(t.changes) == [
        *FAILOVER[:2],
        "pulumi config set reskflow:dbGeneration 3 -s prod",
        *FAILOVER[7:9],
    ]


@pytest.mark.parametrize(
    ("doc", "scenario"),
    [("drill.md", "failover"), ("failback.md", "failback"), ("disaster-failover.md", "disaster")],
)
def test_runbook_docs_hold_every_command(doc: str, scenario: drill.Scenario) -> None:
    text = (ROOT / "docs" / "runbooks" / doc).read_text()
    t = drill.transition(scenario)
    for step in drill.runbook(t):
        for command in step.commands:
            assert command in text, (doc, command)
    for command in commands(t.changes):
        assert command in text


def test_cli_from_step_out_of_range_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drill", "failover", "--quiet", "--execute", "--from-step", "8"]) == 2
    assert capsys.readouterr().err.strip() == (
        "reskflow-dr: --from-step 8: the runbook has steps 1 to 7"
    )


def test_after_a_disaster_the_lost_peer_is_still_readable(tmp_path: Path) -> None:
    """readiness and rto-rpo read what the lost region declares, although its stale file says
    active (previewing it as a stack of its own is refused, as it should be)."""
    root = _project(
        tmp_path,
        {"prod": {}, "dr": DISASTER},
    )
    (root / "infra").symlink_to(ROOT / "infra")
    plan, peer_plan = drill.stack_plans("dr", root)
    assert (plan.outputs["role"], peer_plan.outputs["role"]) == ("active", "active")
    with pytest.raises(ConfigError, match="stack 'dr' is active too"):
        preview("prod", root=root)
