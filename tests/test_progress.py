"""Progress: a line per step on stderr, none with --quiet or in CI; the report stays on stdout."""

from __future__ import annotations

import io

import pytest

from reskflow_dr.cli import main
from reskflow_dr.progress import Progress


def test_preview_prints_a_line_per_stack_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert main(["preview", "prod", "dr"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "[1/4] previewing stack prod offline under mocks",
        "[2/4] previewing stack dr offline under mocks",
        "[3/4] evaluating the policy pack on stack prod",
        "[4/4] evaluating the policy pack on stack dr",
    ]
    assert captured.out.count("Previewing stack") == 2
    assert "[1/2]" not in captured.out


@pytest.mark.parametrize(
    ("ci", "quiet", "printed"),
    [
        (None, False, True),
        ("false", False, True),
        ("0", False, True),
        ("true", False, False),
        ("1", False, False),
        (None, True, False),
    ],
)
def test_quiet_with_the_flag_or_in_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, quiet: bool, printed: bool
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    stream = io.StringIO()
    progress = Progress(2, quiet=quiet, stream=stream)
    with progress.step("first"):
        pass
    with progress.step("second"):
        pass
    assert stream.getvalue() == ("[1/2] first\n[2/2] second\n" if printed else "")


def test_bad_config_of_a_later_stack_stops_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert main(["preview", "prod", "dr", "--set", "reskflow:role=primary"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        'reskflow-dr: config error: reskflow:role = "primary": allowed values are active, passive'
    ]
