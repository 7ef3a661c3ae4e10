"""``reskflow-dr bootstrap`` against a fake Automation workspace: the phase order, the config set
before each phase (dr's values read from prod's outputs), every ``up`` with the policy pack, a
failure at each phase and the resume that runs only what is left."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reskflow_dr import bootstrap, orchestrate
from reskflow_dr.cli import main
from reskflow_dr.preview import ROOT
from tests.automation_fakes import FakeWorkspace

PROD_OUTPUTS = {
    "kmsKeyId": "mrk-0123456789abcdef0123456789abcdef",
    "cacheGlobalDatastoreId": "ldgnf-reskflow-redis",
}
FULL = [
    ("config", "prod", "reskflow:peerDeployed", "false"),
    ("up", "prod", ('{\n  "reskflow-3-2-1": "advisory"\n}\n',)),  # nothing offsite yet
    ("config", "dr", "reskflow:kmsPrimaryKeyId", "mrk-0123456789abcdef0123456789abcdef"),
    ("config", "dr", "reskflow:cacheGlobalDatastoreId", "ldgnf-reskflow-redis"),
    ("up", "dr"),
    ("config", "prod", "reskflow:peerDeployed", "true"),
    ("up", "prod"),
]
#: Where each phase starts in FULL.
PHASE_START = {"prod-first": 0, "dr": 2, "prod-peer": 5}


def fake() -> FakeWorkspace:
    ws = FakeWorkspace()
    ws.outputs["prod"] = dict(PROD_OUTPUTS)
    return ws


def test_phases_run_in_order_with_their_config_and_the_policy_pack(tmp_path: Path) -> None:
    ws = fake()
    lines: list[str] = []
    ok, reason = bootstrap.run_bootstrap(ROOT, ws, tmp_path / "b.json", lines.append)
    assert (ok, reason) == (True, "")
    assert ws.actions() == FULL
    assert json.loads((tmp_path / "b.json").read_text())["completed"] == [
        "prod-first",
        "dr",
        "prod-peer",
    ]
    assert [line for line in lines if line.startswith("[")] == [
        "[1/3] prod without its peer legs (reskflow:peerDeployed false)",
        "[2/3] dr, with the values prod's deployment produced",
        "[3/3] prod with its peer legs (reskflow:peerDeployed true)",
    ]
    assert "    pulumi up -s dr --policy-pack policy" in lines


@pytest.mark.parametrize(
    ("phase", "stack"), [("prod-first", "prod"), ("dr", "dr"), ("prod-peer", "prod")]
)
@pytest.mark.parametrize("how", ["failed", "raised"])
def test_a_failure_at_each_phase_stops_and_the_rerun_resumes_there(
    tmp_path: Path, phase: str, stack: str, how: str
) -> None:
    ws = fake()
    state = tmp_path / "b.json"
    broken = ws.failing_ups if how == "failed" else ws.raising_ups
    ups = {"prod-first": 1, "dr": 1, "prod-peer": 2}[phase]  # which up of ``stack`` fails

    original_up = type(ws.select(stack)).up
    seen = {"n": 0}

    def up(self, **kw):  # type: ignore[no-untyped-def]
        if self.name == stack:
            seen["n"] += 1
            if seen["n"] == ups:
                broken.add(stack)
            else:
                broken.discard(stack)
        return original_up(self, **kw)

    mp = pytest.MonkeyPatch()
    mp.setattr(type(ws.select(stack)), "up", up)
    try:
        ok, reason = bootstrap.run_bootstrap(ROOT, ws, state, lambda _l: None)
    finally:
        mp.undo()
    assert not ok
    assert reason.startswith(f"stopped at {phase} (")
    assert reason.endswith("fix it and run again to resume")
    done = json.loads(state.read_text())["completed"] if state.exists() else []
    assert done == list(PHASE_START)[: list(PHASE_START).index(phase)]

    retry = fake()
    ok, _ = bootstrap.run_bootstrap(ROOT, retry, state, lambda _l: None)
    assert ok
    assert retry.actions() == FULL[PHASE_START[phase] :]


def test_dr_phase_refuses_to_run_without_prods_outputs(tmp_path: Path) -> None:
    ws = FakeWorkspace()
    state = tmp_path / "b.json"
    state.write_text(json.dumps({"completed": ["prod-first"]}))
    with pytest.raises(bootstrap.BootstrapError, match="stack prod has no output 'kmsKeyId'"):
        bootstrap.run_bootstrap(ROOT, ws, state, lambda _l: None)
    assert ws.actions() == []


def test_cli_bootstrap_exit_codes_and_a_bad_progress_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = fake()
    monkeypatch.setattr(orchestrate, "AutomationWorkspace", lambda root=ROOT: ws)
    assert main(["bootstrap", "--state", str(tmp_path / "b.json")]) == 0
    assert capsys.readouterr().out.endswith("Bootstrap done: both stacks deployed.\n")
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    assert main(["bootstrap", "--state", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(
        f"reskflow-dr: --state {bad}: not a bootstrap progress file"
    )
    ws.failing_ups.add("prod")
    assert main(["bootstrap", "--state", str(tmp_path / "c.json")]) == 1
