"""The offline preview: JSON contract, tree output, secrets, and the language-host path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reskflow_dr.cli import main
from reskflow_dr.engine import ProgramError, sanitize
from reskflow_dr.preview import preview
from reskflow_dr.stackfiles import SECRET, load_stack
from tests.conftest import PlanOf

ROOT = Path(__file__).resolve().parent.parent


def test_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "prod.json"
    assert main(["preview", "prod", "--json", str(out), "--quiet", "--no-policy"]) == 0
    data = json.loads(out.read_text())
    assert {"project", "stack", "config", "resources", "policy"} <= set(data)
    assert (data["project"], data["stack"]) == ("reskflow", "prod")
    assert data["config"]["aws:region"] == "us-east-1"
    assert data["config"]["reskflow:role"] == "active"
    for r in data["resources"]:
        assert set(r) == {
            "urn",
            "type",
            "name",
            "parent",
            "provider",
            "region",
            "inputs",
            "options",
        }
        assert set(r["options"]) == {"protect", "retainOnDelete", "dependsOn", "ignoreChanges"}
        assert r["urn"].startswith("urn:pulumi:prod::reskflow::")
        assert r["urn"].endswith("::" + r["name"])
    stack = [r for r in data["resources"] if r["type"] == "pulumi:pulumi:Stack"]
    assert [s["parent"] for s in stack] == [None]
    urns = {r["urn"] for r in data["resources"]}
    assert all(r["parent"] in urns for r in data["resources"] if r["parent"])
    # camelCase inputs as the engine sees them
    bucket = next(r for r in data["resources"] if r["type"] == "aws:s3/bucket:Bucket")
    assert "forceDestroy" in bucket["inputs"] and "force_destroy" not in bucket["inputs"]
    assert "Plan written to" in capsys.readouterr().out


def test_tree_output_groups_by_component(
    capsys: pytest.CaptureFixture[str], plan_of: PlanOf
) -> None:
    plan = plan_of("dr")
    total = len([r for r in plan.resources if r.type != "pulumi:pulumi:Stack"])
    kept = len([r for r in plan.resources if r.options["protect"] and r.options["retainOnDelete"]])
    assert main(["preview", "dr", "--no-policy"]) == 0
    out = capsys.readouterr().out
    assert "Previewing stack dr (us-west-2, role passive) offline under mocks" in out
    lines = out.splitlines()
    component = next(i for i, line in enumerate(lines) if "reskflow:storage:SecureBucket" in line)
    assert lines[component].startswith("├─ ")
    assert lines[component + 1].startswith("│  ├─ aws:s3:Bucket ")
    assert "[protect, retain]" in lines[component + 1]
    assert f"Resources: {total} to create ({kept} protected and retained)" in out
    assert "     5  aws:s3:Bucket\n" in out


def test_both_stacks_in_one_call(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "prod", "dr", "--quiet", "--no-policy"]) == 0
    out = capsys.readouterr().out
    assert out.count("Previewing stack") == 2


def test_secure_config_is_never_printed_or_written(tmp_path: Path) -> None:
    (tmp_path / "infra").symlink_to(ROOT / "infra")
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.prod.yaml").write_text(
        (ROOT / "Pulumi.prod.yaml").read_text()
        + "  aws:profile:\n    secure: AAABAHsuperSecretCiphertext\n"
    )
    config = load_stack(tmp_path, "prod")
    assert config.values["aws:profile"] == SECRET
    assert "aws:profile" in config.secret_keys
    plan = preview("prod", root=tmp_path)
    text = json.dumps(plan.to_json())
    assert "superSecret" not in text
    assert plan.config["aws:profile"] == SECRET


def test_sanitize_hides_secrets_and_unknowns() -> None:
    from pulumi.output import Unknown
    from pulumi.runtime.rpc import wrap_rpc_secret

    value = {"a": wrap_rpc_secret("hunter2"), "b": [Unknown(), 3.0, 2.5], "c": None}
    assert sanitize(value) == {"a": SECRET, "b": ["[unknown]", 3, 2.5], "c": None}


def test_resource_without_provider_is_refused(tmp_path: Path) -> None:
    project = (ROOT / "Pulumi.yaml").read_text().replace("main: infra/", "main: prog/")
    (tmp_path / "Pulumi.yaml").write_text(project)
    (tmp_path / "Pulumi.prod.yaml").write_text((ROOT / "Pulumi.prod.yaml").read_text())
    (tmp_path / "prog").mkdir()
    (tmp_path / "prog" / "__main__.py").write_text(
        "import pulumi_aws as aws\naws.s3.Bucket('loose', bucket='loose-bucket')\n"
    )
    with pytest.raises(ProgramError, match="'loose' has no explicit provider"):
        preview("prod", root=tmp_path)


@pytest.mark.fresh_plans
def test_fresh_mocks_per_preview(plan_of: PlanOf) -> None:
    first, second = plan_of("prod"), plan_of("prod")
    assert [r.urn for r in first.resources] == [r.urn for r in second.resources]
    assert len({r.urn for r in first.resources}) == len(first.resources)


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_language_host_path_without_repo_on_sys_path(stack: str, tmp_path: Path) -> None:
    """Run infra/ as the language host does, from another directory, with only infra/ on the
    path: the program must find its components by itself. The SDK's plain mocks answer a stack
    reference with no outputs, so the peer reference is off here (tests/test_failover_tier.py
    covers it)."""
    config = load_stack(ROOT, stack)
    values = {**dict(config.values), "reskflow:peerStack": "none"}
    script = tmp_path / "host.py"
    script.write_text(
        f"""
import asyncio, json, runpy, sys
sys.path = [p for p in sys.path if p not in ("", {str(ROOT)!r})]
# Nor through an editable install of this repository: only what the language host gives.
sys.meta_path = [
    f for f in sys.meta_path if "__editable__" not in str(getattr(f, "__module__", ""))
]
import pulumi
from pulumi.runtime import Mocks, set_mocks
from pulumi.runtime.config import set_all_config
from pulumi.runtime.settings import ROOT as ROOT_RESOURCE

class M(Mocks):
    def new_resource(self, args):
        return args.name + "-id", {{**args.inputs, "arn": "arn:aws:x:::" + args.name,
                                     "keyId": "mrk-" + "0" * 32}}
    def call(self, args):
        return {{}}

loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
set_mocks(M(), project="reskflow", stack={stack!r}, preview=False)
ROOT_RESOURCE.set(None)  # run_in_stack creates the stack, as under the language host
set_all_config(json.loads({json.dumps(values)!r}), {sorted(config.secret_keys)!r})
loop.run_until_complete(
    pulumi.runtime.run_in_stack(lambda: runpy.run_path({str(ROOT / "infra")!r},
                                                        run_name="__main__") and None))
print("program ran")
"""
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-I", str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "program ran" in result.stdout


def test_preview_adds_policy_verdicts_and_takes_pack_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pack runs through its analyzer interface; its config file uses the format of
    `pulumi preview --policy-pack-config`."""
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"all": "advisory"}))
    out = tmp_path / "prod.json"
    code = main(["preview", "prod", "--quiet", "--json", str(out), "--policy-config", str(config)])
    assert code == 0
    verdicts = json.loads(out.read_text())["policy"]
    assert verdicts, "the pack reported nothing"
    assert {v["enforcement"] for v in verdicts} == {"advisory"}
    assert "POLICY" in capsys.readouterr().out


def test_bad_policy_config_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"reskflow-no-such-policy": "mandatory"}))
    assert main(["preview", "prod", "--quiet", "--policy-config", str(config)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_a_plan_breaking_a_mandatory_policy_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """Before the peer exists (first bring-up) nothing leaves the region: 3-2-1 fails, by name."""
    assert main(["preview", "prod", "--quiet", "--set", "reskflow:peerDeployed=false"]) == 1
    captured = capsys.readouterr()
    flagged = [line for line in captured.out.splitlines() if line.startswith("reskflow-3-2-1 ")]
    assert flagged and all(" mandatory " in line for line in flagged)
    assert any("s3-uploads" in line and "offsite" in line for line in flagged)
    assert captured.err.strip() == "reskflow-dr: mandatory policy violations (above)"
