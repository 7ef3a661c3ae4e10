"""The split-brain guard: a stack goes active only while its peer is known passive or declared
lost. Checked by the program itself (so at `pulumi up`) and, offline, against the peer's file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.settings import ConfigError, RecoveryTargets, load_settings
from reskflow_dr.cli import main
from reskflow_dr.engine import ProgramError, run_program
from reskflow_dr.preview import preview
from reskflow_dr.stackfiles import load_stack
from tests.conftest import ROLE_OVERRIDES

ROOT = Path(__file__).resolve().parent.parent
PROD = dict(load_stack(ROOT, "prod").values)
DR = dict(load_stack(ROOT, "dr").values)
SECRETS = load_stack(ROOT, "prod").secret_keys
#: dr's databases follow its role: promoted, the global stores' primaries are in us-west-2.
WEST = {"reskflow:cachePrimaryRegion": "us-west-2", "reskflow:docdbPrimaryRegion": "us-west-2"}
WEST_SET = [f"{k}={v}" for k, v in WEST.items()]


def settings(raw: dict[str, str], stack: str) -> Any:
    return load_settings(raw, stack, secret_keys=SECRETS)


BOTH_ACTIVE = (
    'config error: reskflow:role = "active": the peer stack (us-east-1) is active too '
    "(reskflow:peerRole = active): two writable primaries. Make the peer passive first and set "
    "reskflow:peerRole passive here, or set reskflow:peerLost true if us-east-1 is lost"
)


def test_default_peer_role_is_the_normal_topology() -> None:
    assert settings(PROD, "prod").peer_role == "passive"
    assert settings(DR, "dr").peer_role == "active"
    assert settings(DR, "dr").peer_lost is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reskflow:role": "active"}, BOTH_ACTIVE),
        (
            {"reskflow:role": "active", "reskflow:peerRole": "active"},
            BOTH_ACTIVE,
        ),
        (
            {"reskflow:peerLost": "true"},
            "config error: reskflow:peerLost = true: only an active stack may declare its peer "
            "lost",
        ),
        (
            {"reskflow:peerRole": "standby"},
            'config error: reskflow:peerRole = "standby": allowed values are active, passive',
        ),
        (
            {"reskflow:role": "active", "reskflow:peerLost": "maybe"},
            'config error: reskflow:peerLost = "maybe": expected a boolean: true or false',
        ),
        (
            {"reskflow:rpoTargetMinutes": "0"},
            'config error: reskflow:rpoTargetMinutes = "0": expected a whole number of minutes '
            "from 1 to 1440",
        ),
        (
            {"reskflow:promotionMinutes": "ten"},
            'config error: reskflow:promotionMinutes = "ten": expected a whole number of minutes '
            "from 1 to 240",
        ),
    ],
)
def test_rejected_combinations(change: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        settings({**DR, **change}, "dr")
    assert str(err.value) == message


def test_prod_declaring_its_peer_active_is_refused() -> None:
    with pytest.raises(ConfigError, match="the peer stack \\(us-west-2\\) is active too"):
        settings({**PROD, "reskflow:peerRole": "active"}, "prod")


@pytest.mark.parametrize(
    "change",
    [
        {"reskflow:role": "active", "reskflow:peerRole": "passive", **WEST},
        {"reskflow:role": "active", "reskflow:peerLost": "true", **WEST},
    ],
)
def test_allowed_promotions(change: dict[str, str]) -> None:
    s = settings({**DR, **change}, "dr")
    assert s.role == "active"


def test_recovery_targets_default_and_override() -> None:
    assert settings(DR, "dr").recovery == RecoveryTargets(15, 5, 10)
    custom = {**DR, "reskflow:rtoTargetMinutes": "30", "reskflow:promotionMinutes": "20"}
    assert settings(custom, "dr").recovery == RecoveryTargets(30, 5, 20)


def test_the_program_itself_refuses_at_pulumi_up() -> None:
    """`pulumi up` runs only the program, with only its own stack's config: the guard is there."""
    config = load_stack(ROOT, "dr", ["reskflow:role=active"])
    with pytest.raises(ProgramError) as err:
        run_program(config, "123456789012", "us-west-2")
    assert err.value.config_error
    assert str(err.value) == BOTH_ACTIVE


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["dr", "--set", "reskflow:role=active"], "reskflow:peerRole = active"),
        (
            [
                "dr",
                "--set",
                "reskflow:role=active",
                "--set",
                "reskflow:peerRole=passive",
                *(a for kv in WEST_SET for a in ("--set", kv)),
            ],
            "stack 'prod' is active too (Pulumi.prod.yaml)",
        ),
        (
            ["dr", "--set", "reskflow:peerRole=passive"],
            "stack 'prod' is active (Pulumi.prod.yaml): set reskflow:peerRole active",
        ),
        (["prod", "--set", "reskflow:peerRole=active"], "the peer stack (us-west-2) is active"),
    ],
)
def test_preview_refuses_with_one_line_exit_2(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["preview", *args, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err


def test_peer_lost_lets_dr_go_active_while_prod_file_says_active() -> None:
    plan = preview("dr", ["reskflow:role=active", "reskflow:peerLost=true", *WEST_SET])
    assert plan.outputs["role"] == "active"


def test_consistent_targets_of_both_stacks_pass() -> None:
    """The drill previews each target against the peer's target config, not its file."""
    prod_target = [*ROLE_OVERRIDES["prod", "passive"], "reskflow:peerRole=active"]
    dr_target = ["reskflow:role=active", "reskflow:peerRole=passive", *WEST_SET]
    assert preview("dr", dr_target, peers={"prod": prod_target}).outputs["role"] == "active"
    assert preview("prod", prod_target, peers={"dr": dr_target}).outputs["role"] == "passive"
