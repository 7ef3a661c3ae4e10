"""The documents generated from the key declarations do not drift from them, and the stack
files' JSON Schema accepts the committed files and refuses malformed ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from infra.settings import KEYS, PROJECT
from infra.settings.reference import (
    SCHEMA_PATH,
    config_reference_markdown,
    project_text,
    pulumi_declaration,
    schema_text,
)
from reskflow_dr.stackfiles import UsageError, load_stack

ROOT = Path(__file__).resolve().parent.parent


def stack_doc(stack: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def schema() -> dict[str, Any]:
    loaded = json.loads((ROOT / SCHEMA_PATH).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_each_key_is_declared_once() -> None:
    names = [k.name for k in KEYS]
    # 45 + the 8 failover keys (infra/settings/failover.py) + 2 backup keys + 2 edge keys
    assert len(names) == len(set(names)) == 57


def test_readme_table_matches_the_declarations() -> None:
    assert config_reference_markdown() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_committed_json_schema_matches_the_declarations() -> None:
    assert (ROOT / SCHEMA_PATH).read_text(encoding="utf-8") == schema_text()


def test_pulumi_yaml_declarations_match_the_declarations() -> None:
    current = (ROOT / "Pulumi.yaml").read_text(encoding="utf-8")
    assert current == project_text(current)
    config = yaml.safe_load(current)["config"]
    typed = {name for name, spec in config.items() if "type" in spec}
    assert typed == {k.name for k in KEYS if pulumi_declaration(k) is not None}
    assert typed == {
        f"{PROJECT}:{name}"
        for name in (
            "role",
            "accountId",
            "peerDeployed",
            "weeklyBackupStorageClass",
            "rtoTargetMinutes",
            "rpoTargetMinutes",
            "promotionMinutes",
            "trafficSwitch",
            "regionSwitch",
            "regionSwitchPlanName",
        )
    }


def test_pulumi_yaml_follows_pulumis_project_config_rules() -> None:
    """Pulumi refuses a type or default on another namespace's key, both value and default, and
    an array without items (sdk/go/common/workspace/project.go, Project.Validate)."""
    config = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]
    for name, spec in config.items():
        assert not ("value" in spec and "default" in spec), name
        if not name.startswith(f"{PROJECT}:"):
            assert set(spec) == {"value"}, name
        if "type" in spec:
            assert spec["type"] in ("string", "integer", "boolean", "array"), name


def test_shared_values_live_once_in_pulumi_yaml() -> None:
    # alarms: per stack since each names the other region's endpoint (docs/monitoring.md)
    shared = {"accountId", "vaultLock", "imageTag"}
    config = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]
    assert {n for n in shared if "value" in config[f"{PROJECT}:{n}"]} == shared
    for stack in ("prod", "dr"):
        assert not shared & {k.split(":", 1)[1] for k in stack_doc(stack)["config"]}
        values = load_stack(ROOT, stack).values
        assert values[f"{PROJECT}:accountId"] == "123456789012"
        assert values[f"{PROJECT}:imageTag"] == "1.0.0"


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_schema_accepts_the_committed_stack_files(stack: str) -> None:
    jsonschema.validate(stack_doc(stack), schema())
    first = (ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema=./{SCHEMA_PATH.as_posix()}"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("reskflow:rol", "active"),
        ("reskflow:role", "primary"),
        ("reskflow:dbGeneration", 0),
        ("reskflow:peerDeployed", "yes"),
        ("reskflow:retention", {"uploadDays": 90}),
        ("reskflow:cacheAuthToken", "plain text"),
        ("reskflow:cacheAuthToken", {"secure": 1}),
        ("aws:regoin", "us-east-1"),
    ],
)
def test_schema_refuses_a_malformed_stack_file(key: str, value: Any) -> None:
    doc = stack_doc("prod")
    doc["config"][key] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema())


def test_schema_leaves_other_namespaces_to_their_owners() -> None:
    doc = stack_doc("prod")
    doc["config"]["kubernetes:context"] = "x"
    jsonschema.validate(doc, schema())


def write_project(root: Path, project_config: str, stack_config: str) -> None:
    (root / "Pulumi.yaml").write_text(
        f"name: reskflow\nruntime: python\nconfig:\n{project_config}", encoding="utf-8"
    )
    (root / "Pulumi.s.yaml").write_text(f"config:\n{stack_config}", encoding="utf-8")


def test_project_values_and_defaults_merge_as_pulumi_does(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        "  reskflow:shared:\n    value: {a: 1}\n  reskflow:overridden:\n    value: x\n"
        "  reskflow:n:\n    type: integer\n    default: 3\n  aws:region:\n    value: us-east-1\n"
        "  plain: 7\n",
        "  reskflow:overridden: y\n",
    )
    config = load_stack(tmp_path, "s")
    assert dict(config.values) == {
        "reskflow:shared": '{"a": 1}',
        "reskflow:overridden": "y",
        "reskflow:n": "3",
        "aws:region": "us-east-1",
        "reskflow:plain": "7",
    }
    # A default reaches the program but is not shown as written config.
    assert dict(config.display) == {
        "reskflow:shared": {"a": 1},
        "reskflow:overridden": "y",
        "aws:region": "us-east-1",
        "reskflow:plain": 7,
    }


def test_project_key_with_value_and_default_is_refused(tmp_path: Path) -> None:
    write_project(tmp_path, "  reskflow:n:\n    type: integer\n    default: 3\n    value: 4\n", "")
    with pytest.raises(UsageError) as err:
        load_stack(tmp_path, "s")
    assert str(err.value) == (
        "Pulumi.yaml: reskflow:n: a project key has a 'value' or a 'default', not both"
    )


def test_the_program_spells_no_config_key() -> None:
    """Outside infra/settings, keys are imported from their declaration, never spelled."""
    spelled = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "infra").rglob("*.py"))
        if "settings" not in path.parts and f'"{PROJECT}:' in path.read_text(encoding="utf-8")
    ]
    assert spelled == []


def test_no_module_in_infra_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in sorted((ROOT / "infra").rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}
