"""A real, non-editable ``pip install .`` gives a CLI that works against a checkout elsewhere.

pip builds the wheel in its usual isolated build environment (setuptools from PyPI or pip's
cache). The new venv (made without pip) gets this venv's site-packages as a plain path entry (a
``.pth`` line) to reuse pip and the installed dependencies without downloading them; a path
entry's own ``.pth`` files are not run, so the editable install of this checkout stays inactive
there. The fixture proves that ``reskflow_dr`` is imported from the new venv's site-packages, and
the tests run the CLI from a copy of the checkout: the project is found by walking up from the
current directory, or named with ``-C``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(
    "venv", ".git", "out", ".*_cache", "__pycache__", "*.egg-info", "build"
)  # fmt: skip


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, env=env, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(the new venv's bin directory, a copy of the checkout, the environment)."""
    base = tmp_path_factory.mktemp("install")
    checkout = base / "checkout"
    shutil.copytree(ROOT, checkout, ignore=SKIP)
    venv = base / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["CI"] = "true"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], base, env)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], base, env
    ).stdout.strip()
    Path(site, "reuse-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = _run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps",
         "--disable-pip-version-check", str(checkout)],
        base,
        env,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stderr[-3000:]
    located = _run(
        [str(python), "-I", "-c", "import reskflow_dr; print(reskflow_dr.__file__)"], base, env
    )
    assert Path(located.stdout.strip()).is_relative_to(Path(site)), located.stdout
    return venv / "bin", checkout, env


def test_installed_package_is_not_the_checkout(
    installed: tuple[Path, Path, dict[str, str]],
) -> None:
    bin_dir, checkout, env = installed
    result = _run([str(bin_dir / "reskflow-dr"), "--version"], checkout, env)
    assert (result.returncode, result.stdout) == (0, "reskflow-dr 0.1.0\n")


def test_installed_cli_finds_the_project_from_a_subdirectory(
    installed: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    bin_dir, checkout, env = installed
    out = tmp_path / "prod.json"
    result = _run(
        [str(bin_dir / "reskflow-dr"), "preview", "prod", "--quiet", "--json", str(out)],
        checkout / "docs",
        env,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert (data["schemaVersion"], data["stack"]) == (1, "prod")
    assert data["policy"], "the policy pack of the checkout ran"


def test_installed_cli_with_cwd_and_without_a_project(
    installed: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    bin_dir, checkout, env = installed
    result = _run(
        [str(bin_dir / "reskflow-dr"), "-C", str(checkout), "rto-rpo", "-s", "dr"], tmp_path, env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("RTO/RPO budget: failing over to dr (us-west-2)")
    result = _run([str(bin_dir / "reskflow-dr"), "preview", "prod"], tmp_path, env)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(
        f"reskflow-dr: usage error: no Pulumi.yaml in {tmp_path.resolve()}"
    )
