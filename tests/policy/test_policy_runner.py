"""The offline runner: pack load, start and stop, analyzer info, config, unknowns, formatting."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from reskflow_dr.policy_analyzer import AnalyzerPackSession
from reskflow_dr.policy_runner import (
    PolicyConfigError,
    PolicyPackError,
    PolicyPackSession,
    Verdict,
    evaluate,
    has_mandatory_violation,
    load_policy_config,
    provider_urn,
    resolve_config,
)

from .builders import reference_plan, remove, resource
from .conftest import Evaluate, flagged


def test_pack_describes_every_policy(pack: PolicyPackSession) -> None:
    assert pack.pack_name == "reskflow-dr"
    names = [p.name for p in pack.policies]
    assert len(names) == len(set(names)) == 49  # 40 + 8 CloudFront and WAF + 1 lag alarm
    assert all(n.startswith("reskflow-") and n == n.lower() for n in names)
    assert all(p.description and p.remediation for p in pack.policies)
    advisory = {p.name for p in pack.policies if p.enforcement == "advisory"}
    assert advisory == {"reskflow-cost-minimum-storage-duration", "reskflow-rpo-note"}
    kinds = {p.name: p.kind for p in pack.policies}
    assert kinds["reskflow-3-2-1"] == "stack"
    assert kinds["reskflow-s3-replication-rtc"] == "resource"
    retention = next(p for p in pack.policies if p.name == "reskflow-backup-retention")
    defaults = {k: v["default"] for k, v in retention.schema.items()}
    assert defaults == {"dailyDays": 7, "weeklyDays": 28, "continuousDays": 1}


@pytest.mark.parametrize("analyzer", [False, True], ids=["in-process", "pack-process"])
def test_evaluate_starts_and_stops_its_own_pack(analyzer: bool) -> None:
    plan = reference_plan("prod")
    resource(plan, "kms-key")["inputs"]["enableKeyRotation"] = False
    verdicts = evaluate(plan, analyzer=analyzer)
    assert flagged(verdicts, "reskflow-kms-rotation") == {
        "kms-key": ["Key kms-key: enableKeyRotation must be true (is false)"]
    }


def test_session_stops_the_pack_cleanly() -> None:
    session = AnalyzerPackSession()
    session.start()
    process = session._process
    assert process is not None and process.poll() is None
    session.close()
    assert process.returncode == 0


def test_a_pack_started_with_ctrl_c_ignored_still_stops_on_ctrl_c() -> None:
    """As under ``nohup`` or ``&`` in a script: the pack inherits SIGINT ignored unless given the
    default back; it must exit on the Ctrl-C that stops it (code 0), not be terminated later."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        session = AnalyzerPackSession()
        session.start()
    finally:
        signal.signal(signal.SIGINT, previous)
    process = session._process
    assert process is not None and process.poll() is None
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=AnalyzerPackSession.STOP_TIMEOUT) == 0
    session.close()


@pytest.mark.parametrize("session", [PolicyPackSession, AnalyzerPackSession])
def test_a_missing_pack_is_an_error(tmp_path: Path, session: type[PolicyPackSession]) -> None:
    with pytest.raises(PolicyPackError, match=r"no PulumiPolicy\.yaml"):
        session(tmp_path).start()


def test_a_pack_whose_program_fails_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("raise ValueError('no policies here')\n")
    with pytest.raises(PolicyPackError, match=r"failed to load: ValueError: no policies here$"):
        PolicyPackSession(tmp_path).start()


def test_a_failing_policy_is_a_pack_error(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text(
        "from pulumi_policy import PolicyPack, ResourceValidationPolicy\n"
        "def broken(args, report):\n"
        "    raise KeyError('bucket')\n"
        "PolicyPack('broken', policies=[ResourceValidationPolicy(\n"
        "    name='broken', description='d', validate=broken)])\n"
    )
    with (
        PolicyPackSession(tmp_path) as pack,
        pytest.raises(PolicyPackError, match=r"failed in Analyze: KeyError: 'bucket'$"),
    ):
        pack.evaluate(reference_plan("prod"))


def test_config_raises_a_retention_minimum(evaluate: Evaluate) -> None:
    config = {"reskflow-backup-retention": {"dailyDays": 14}}
    found = flagged(evaluate(reference_plan("prod"), config), "reskflow-backup-retention")
    assert found == {
        "backup-plan": [
            "Plan backup-plan rule daily (daily): recovery points are kept 7 days, below the "
            "14-day minimum",
            "Plan backup-plan rule daily (daily): copies in "
            "arn:aws:backup:us-west-2:123456789012:backup-vault:reskflow-us-west-2 are kept 7 "
            "days, below the 14-day minimum",
            "Plan backup-plan rule daily (daily): copies in "
            "arn:aws:backup:us-east-1:123456789012:backup-vault:reskflow-us-east-1-airgapped are "
            "kept 7 days, below the 14-day minimum",
        ]
    }


def test_config_changes_enforcement_levels(evaluate: Evaluate) -> None:
    plan = reference_plan("prod")
    remove(plan, "backup-selection")
    advisory = evaluate(plan, {"reskflow-3-2-1": "advisory"})
    assert flagged(advisory, "reskflow-3-2-1") and not has_mandatory_violation(advisory)
    assert flagged(evaluate(plan, {"all": "disabled"}), "reskflow-3-2-1") == {}
    exempt = {"reskflow-3-2-1": {"exempt": ["uploads", "backups", "cache"]}}
    assert set(flagged(evaluate(plan, exempt), "reskflow-3-2-1")) == {"orders-db", "sessions-docdb"}


def test_config_allowed_regions(evaluate: Evaluate) -> None:
    found = flagged(
        evaluate(reference_plan("prod"), {"reskflow-allowed-regions": {"allowedRegions": ["x"]}}),
        "reskflow-allowed-regions",
    )
    assert found["aws-us-east-1"] == ["provider aws-us-east-1 is in us-east-1; allowed: x"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"reskflow-nope": "advisory"}, 'reskflow-nope = "advisory": no such policy in the pack'),
        ({"all": "loud"}, 'all = "loud": allowed values are advisory, mandatory, remediate'),
        (
            {"reskflow-backup-retention": {"dailyDays": "7"}},
            'reskflow-backup-retention.dailyDays = "7": expected integer',
        ),
        (
            {"reskflow-backup-retention": {"dailyDays": 0}},
            "reskflow-backup-retention.dailyDays = 0: minimum is 1",
        ),
        (
            {"reskflow-backup-retention": {"hourlyDays": 1}},
            "reskflow-backup-retention.hourlyDays = 1: unknown property; known: continuousDays",
        ),
        (
            {"reskflow-allowed-regions": {"allowedRegions": ["us-east-1", 2]}},
            "reskflow-allowed-regions.allowedRegions[1] = 2: expected string",
        ),
    ],
)
def test_bad_policy_config_is_one_clear_line(
    pack: PolicyPackSession, config: dict[str, object], message: str
) -> None:
    with pytest.raises(PolicyConfigError) as err:
        resolve_config(pack.policies, config)
    assert str(err.value).startswith("policy config error: " + message)
    assert "\n" not in str(err.value)


def test_policy_config_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"reskflow-rpo-note": {"rpoMinutes": 20}}))
    assert load_policy_config(path) == {"reskflow-rpo-note": {"rpoMinutes": 20}}
    path.write_text("[1]")
    with pytest.raises(PolicyConfigError, match="expected a JSON object"):
        load_policy_config(path)
    with pytest.raises(PolicyConfigError, match="unreadable"):
        load_policy_config(tmp_path / "absent.json")


def test_unknown_values_are_not_checkable_never_pass_or_fail(evaluate: Evaluate) -> None:
    plan = reference_plan("prod")
    resource(plan, "uploads-public-access")["inputs"]["bucket"] = "[unknown]"
    resource(plan, "kms-key")["inputs"]["enableKeyRotation"] = "[unknown]"
    verdicts = evaluate(plan)
    notes = {(v.policy, v.resource): v.message for v in verdicts if v.not_checkable}
    assert notes == {
        ("reskflow-kms-rotation", "kms-key"): "not checkable at preview (values known only after "
        "apply): kms-key: enableKeyRotation",
        ("reskflow-s3-public-access-block", ""): "not checkable at preview (values known only "
        "after apply): uploads: which bucket uploads-public-access applies to (bucket unknown)",
    }
    assert all(v.enforcement == "advisory" for v in verdicts if v.not_checkable)
    assert not has_mandatory_violation(verdicts)


def test_property_dependencies_join_a_bucket_whose_name_is_unknown(evaluate: Evaluate) -> None:
    plan = reference_plan("prod")
    pab = resource(plan, "uploads-public-access")
    pab["inputs"].update(bucket="[unknown]", ignorePublicAcls=False)
    pab["propertyDependencies"] = {"bucket": [resource(plan, "uploads")["urn"]]}
    verdicts = evaluate(plan)
    assert flagged(verdicts, "reskflow-s3-public-access-block") == {
        "uploads": ["bucket uploads: uploads-public-access leaves ignorePublicAcls off"]
    }
    assert [v for v in verdicts if v.not_checkable] == []


def test_secret_values_reach_the_pack_as_set(evaluate: Evaluate) -> None:
    plan = reference_plan("dr")
    resource(plan, "orders-replica")["inputs"]["password"] = "[secret]"
    assert flagged(evaluate(plan), "reskflow-rds-replica-credentials") == {
        "orders-replica": [
            "Instance orders-replica: a read replica takes its credentials from the source; "
            "remove password"
        ]
    }


def test_verdict_json_names_the_resource() -> None:
    """The table is tests/test_render.py's; the JSON form keeps the resource's name."""
    verdict = Verdict(
        "reskflow-3-2-1", "mandatory", "urn:x", "uploads", "bucket uploads: short", "high"
    )
    assert verdict.to_dict()["resource"] == "uploads"


def test_provider_reference_to_urn() -> None:
    urn = "urn:pulumi:prod::reskflow::pulumi:providers:aws::aws-us-east-1"
    assert provider_urn(f"{urn}::0f2b07eb") == urn
    assert provider_urn(urn) == urn
