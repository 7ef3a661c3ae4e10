"""The command line as a Pulumi user expects it: exit codes, options, completion, tables, schemas.

Exit codes: 0 fine, 1 unsafe, 2 bad config or usage, 3 internal error, 141 closed pipe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reskflow_dr import cli, jsonio
from reskflow_dr.cli import main
from reskflow_dr.tables import short_type

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, with CI unset (progress lines shown) and ``env`` added."""
    environment = {**os.environ, "CI": "", **env}
    return subprocess.run(
        [sys.executable, "-m", "reskflow_dr", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )


def test_version() -> None:
    result = run("--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, "reskflow-dr 0.1.0\n", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["preview", "prod", "--set", "reskflow:role"],
            "reskflow-dr: usage error: --set expects KEY=VALUE, got 'reskflow:role'",
        ),
        (
            ["preview", "prod", "--set", "hunter2-secret-value"],
            "reskflow-dr: usage error: --set expects KEY=VALUE, got an argument without KEY=",
        ),
        (
            ["preview", "prod", "--no-such-option"],
            "reskflow-dr: usage error: unrecognized arguments: --no-such-option (see --help)",
        ),
        (
            ["drill", "sideways"],
            "reskflow-dr drill: usage error: argument scenario: invalid choice: 'sideways' "
            "(choose from 'failover', 'failback', 'disaster', 'corruption') (see --help)",
        ),
        (
            ["rto-rpo", "dr", "--json"],
            "reskflow-dr rto-rpo: usage error: argument --json: expected one argument (see --help)",
        ),
        (
            ["drill", "failover", "--execute", "--from-step", "0"],
            "reskflow-dr drill: usage error: argument --from-step: expected a step number from 1, "
            "got '0' (see --help)",
        ),
        (["preview"], "reskflow-dr: usage error: name a stack (STACK or -s/--stack STACK)"),
        (
            ["rto-rpo", "prod", "-s", "dr"],
            "reskflow-dr: usage error: rto-rpo takes one stack, got prod dr",
        ),
        (
            ["preview", "prod", "dr", "--json", "x.json"],
            "reskflow-dr: usage error: --json takes one stack; run one preview per stack",
        ),
        (
            ["preview", "nope"],
            "reskflow-dr: unknown stack 'nope': no Pulumi.nope.yaml; known stacks: dr, prod",
        ),
    ],
)
def test_malformed_options_are_one_line_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        code = main(argv)
        raise SystemExit(code)
    captured = capsys.readouterr()
    assert (exit_info.value.code, captured.err.splitlines(), captured.out) == (2, [message], "")
    assert "hunter2" not in captured.err
    assert not list(tmp_path.iterdir()) and not (ROOT / "x.json").exists()


def _policy_file(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"reskflow-no-such-policy": "mandatory"},
            'policy config error: reskflow-no-such-policy = "mandatory": no such policy in '
            "the pack",
        ),
        (
            {"all": "fatal"},
            'policy config error: all = "fatal": allowed values are advisory, '
            "mandatory, remediate, disabled",
        ),
        (
            {"reskflow-rpo-note": {"noSuchProperty": 1}},
            "policy config error: reskflow-rpo-note.noSuchProperty = 1: unknown property; known: ",
        ),
    ],
)
def test_policy_pack_config_is_checked_before_any_preview(
    tmp_path: Path, config: object, message: str
) -> None:
    """Under the Pulumi spelling; nothing is previewed (no tree, no progress), nothing written."""
    out = tmp_path / "plan.json"
    path = _policy_file(tmp_path, config)
    result = run("preview", "prod", "--policy-pack-config", str(path), "--json", str(out))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith(f"reskflow-dr: {message}"), line
    assert not out.exists()


def test_policy_config_old_spelling_still_works(tmp_path: Path) -> None:
    path = _policy_file(tmp_path, {"all": "sometimes"})
    result = run("preview", "prod", "--policy-config", str(path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith('reskflow-dr: policy config error: all = "sometimes"')


def test_policy_config_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text("{all: advisory")
    result = run("preview", "prod", "--policy-pack-config", str(path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f'reskflow-dr: policy config error: --policy-pack-config = "{path}": not JSON '
        "(Expecting property name enclosed in double quotes, line 1 column 2)\n"
    )


def test_internal_error_is_one_line_exit_3_and_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(*_args: object) -> int:
        raise KeyError("resources")

    monkeypatch.setattr(cli, "cmd_preview", boom)
    assert main(["preview", "prod"]) == 3
    assert capsys.readouterr().err == (
        "reskflow-dr: internal error: preview failed: KeyError: 'resources'; rerun with --debug "
        "for the traceback\n"
    )
    assert main(["preview", "prod", "--debug"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert (
        err.splitlines()[-1] == "reskflow-dr: internal error: preview failed: KeyError: 'resources'"
    )


def test_broken_pipe_exits_quietly() -> None:
    command = f"{sys.executable} -m reskflow_dr preview prod --no-policy | head -1"
    result = subprocess.run(
        ["bash", "-c", f'set -o pipefail; {command}; echo "exit=$?" >&2'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true"},
        timeout=300,
        check=False,
    )
    assert result.stdout == "Previewing stack prod (us-east-1, role active) offline under mocks\n"
    assert result.stderr == "exit=141\n"


def test_stack_flag_and_cwd_from_elsewhere(tmp_path: Path) -> None:
    """-s as Pulumi takes it, -C to name the project from another directory."""
    out = tmp_path / "dr.json"
    result = run("-C", str(ROOT), "preview", "-s", "dr", "--quiet", "--no-policy", "--json",
                 str(out), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["stack"] == "dr"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dr.json"]  # no temporary file left


def test_no_project_found_is_exit_2(tmp_path: Path) -> None:
    result = run("preview", "prod", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"reskflow-dr: usage error: no Pulumi.yaml in {tmp_path.resolve()} or any directory "
        "above it: run inside the project, or name it with -C/--cwd DIR\n"
    )
    result = run("preview", "prod", "-C", str(tmp_path))
    assert result.stderr == (
        f"reskflow-dr: usage error: --cwd {tmp_path}: no Pulumi.yaml in that directory\n"
    )


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o"), ("zsh", "#compdef")])
def test_completion(shell: str, marker: str) -> None:
    result = run("completion", shell)
    assert result.returncode == 0
    assert marker in result.stdout
    for word in ("preview", "drill", "rto-rpo", "--policy-pack-config", "--cwd", "failover"):
        assert word in result.stdout, word


@pytest.mark.parametrize("command", [["preview", "prod"], ["rto-rpo", "dr"], ["drill", "failover"]])
def test_unwritable_json_is_exit_2_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    target = blocker / "sub" / "plan.json"
    assert main([*command, "--quiet", "--json", str(target)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"reskflow-dr: --json {target}: {blocker} is not a directory\n"
    assert captured.out == ""  # nothing previewed, nothing printed
    assert main([*command, "--quiet", "--json", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"reskflow-dr: --json {tmp_path}: is a directory; name a file\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_atomic_write_leaves_no_temporary_file_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old\n")

    def fail_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jsonio.os, "replace", fail_replace)
    with pytest.raises(jsonio.OutputError, match="No space left on device"):
        jsonio.write_json(target, {"a": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]
    assert target.read_text() == "old\n"


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("aws:s3/bucketV2:BucketV2", "aws:s3:BucketV2"),
        ("aws:route53/healthCheck:HealthCheck", "aws:route53:HealthCheck"),
        ("aws:s3/bucket:Bucket", "aws:s3:Bucket"),
        ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:Deployment"),
        ("reskflow:storage:SecureBucket", "reskflow:storage:SecureBucket"),
        ("pulumi:providers:aws", "pulumi:providers:aws"),
    ],
)
def test_type_tokens_shortened_like_pulumi(token: str, shown: str) -> None:
    assert short_type(token) == shown


def test_tree_fits_a_narrow_terminal() -> None:
    result = run("preview", "dr", "--no-policy", COLUMNS="80")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    tree = lines[1 : lines.index("")]
    assert tree[0].split() == ["Type", "Name", "Region", "Options"]
    assert max(len(line) for line in tree) <= 80
    assert any(line.startswith("│  ├─ aws:s3:Bucket ") for line in tree)


def test_budget_fits_a_narrow_terminal() -> None:
    result = run("rto-rpo", "dr", COLUMNS="80")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "RTO/RPO budget: failing over to dr (us-west-2); targets RTO 15 min"
    assert max(len(line) for line in lines) <= 80
    assert "  RDS reskflow-postgres-g2 RPO: ReplicaLag threshold 60 s + period 60 s x 3" in lines
    assert result.stderr == "[1/1] previewing stack dr and its peer offline under mocks\n"


def test_json_reports_match_their_schemas(tmp_path: Path) -> None:
    outputs = {
        "preview": ("preview", "prod", "--quiet", "--json"),
        "rto-rpo": ("rto-rpo", "dr", "--quiet", "--json"),
        "drill": ("drill", "failover", "--quiet", "--json"),
    }
    for report, argv in outputs.items():
        path = tmp_path / f"{report}.json"
        assert main([*argv, str(path)]) == 0
        data = json.loads(path.read_text())
        assert data["schemaVersion"] == jsonio.SCHEMA_VERSION
        validator = jsonio.validator(report)  # type: ignore[arg-type]
        validator.check_schema(validator.schema)
        assert [e.message for e in validator.iter_errors(data)] == [], report
        broken = {k: v for k, v in data.items() if k != "schemaVersion"}
        assert not validator.is_valid(broken), report
