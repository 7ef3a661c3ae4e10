"""The config validation matrix: every malformed config gives its one line and exit 2."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from infra.settings import (
    KEYS,
    ConfigError,
    Retention,
    config_reference_markdown,
    load_settings,
    validate_bucket_name,
)
from reskflow_dr.cli import main
from reskflow_dr.preview import check_peer_files
from reskflow_dr.stackfiles import load_stack

ROOT = Path(__file__).resolve().parent.parent

# The shipped stack files are the valid bases every malformed case starts from.
PROD = dict(load_stack(ROOT, "prod").values)
DR = dict(load_stack(ROOT, "dr").values)
SECRETS = load_stack(ROOT, "prod").secret_keys | load_stack(ROOT, "dr").secret_keys


def test_valid_prod_defaults() -> None:
    s = load_settings(PROD, "prod", secret_keys=SECRETS)
    assert (s.region, s.peer_region, s.role) == ("us-east-1", "us-west-2", "active")
    assert s.bucket_prefix == "reskflow-123456789012"
    assert s.holds_kms_primary and s.kms_primary_key_id is None
    assert s.peer_deployed is True
    assert s.retention == Retention(90, 30, 7, 28, 30, 7)
    assert s.weekly_backup_storage_class == "GLACIER_IR"
    assert [store.key for store in s.stores] == [
        "uploads",
        "logs",
        "config",
        "backups",
        "blockchain",
    ]


def test_valid_dr_derives_primary_key_arn() -> None:
    s = load_settings(DR, "dr", secret_keys=SECRETS)
    assert not s.holds_kms_primary
    assert s.kms_key_arn("us-east-1", str(s.kms_primary_key_id)) == (
        "arn:aws:kms:us-east-1:123456789012:key/mrk-8f1c2a7e5b9d4c3fa0e6b1d2c3f4a5b6"
    )


def test_retention_and_tags_objects_parse() -> None:
    raw = {
        **PROD,
        "reskflow:retention": json.dumps({"uploadsDays": 120, "dailyBackupsDays": "10"}),
        "reskflow:tags": json.dumps({"cost-center": "ops"}),
        "reskflow:peerDeployed": "false",
    }
    s = load_settings(raw, "prod", secret_keys=SECRETS)
    assert s.retention.uploads_days == 120 and s.retention.daily_backups_days == 10
    assert s.retention.logs_days == 30
    assert dict(s.tags) == {"cost-center": "ops"}
    assert s.peer_deployed is False


# (overrides applied to a valid base, expected message)
MATRIX = [
    (
        PROD,
        {"reskflow:role": "primary"},
        'config error: reskflow:role = "primary": allowed values are active, passive',
    ),
    (
        PROD,
        {"reskflow:role": None},
        "config error: reskflow:role = (not set): required; allowed values are active, passive",
    ),
    (
        PROD,
        {"aws:region": "eu-west-1"},
        'config error: aws:region = "eu-west-1": allowed values are us-east-1, us-west-2',
    ),
    (
        PROD,
        {"aws:region": None},
        "config error: aws:region = (not set): required; allowed values are us-east-1, us-west-2",
    ),
    (
        PROD,
        {"reskflow:peerRegion": "us-east-1"},
        'config error: reskflow:peerRegion = "us-east-1": both stacks would be in one region; '
        "the peer of us-east-1 must be us-west-2",
    ),
    (
        PROD,
        {"reskflow:peerRegion": "ap-south-1"},
        'config error: reskflow:peerRegion = "ap-south-1": allowed values are us-east-1, us-west-2',
    ),
    (
        PROD,
        {"reskflow:rol": "active"},
        'config error: reskflow:rol = "active": unknown config key; did you mean reskflow:role?',
    ),
    (
        PROD,
        {"aws:regoin": "us-east-1"},
        'config error: aws:regoin = "us-east-1": unknown config key; did you mean aws:region?',
    ),
    (
        PROD,
        {"reskflow:accountId": "12345"},
        'config error: reskflow:accountId = "12345": expected a 12-digit AWS account id',
    ),
    (
        PROD,
        {"reskflow:retention": json.dumps({"uploadsDays": 0})},
        "config error: reskflow:retention.uploadsDays = 0: expected a positive whole number of "
        "days (at least 1)",
    ),
    (
        PROD,
        {"reskflow:retention": json.dumps({"logsDays": -5})},
        "config error: reskflow:retention.logsDays = -5: expected a positive whole number of days "
        "(at least 1)",
    ),
    (
        PROD,
        {"reskflow:retention": json.dumps({"logsDays": 2.5})},
        "config error: reskflow:retention.logsDays = 2.5: expected a positive whole number of days",
    ),
    (
        PROD,
        {"reskflow:retention": json.dumps({"uploadDays": 5})},
        "config error: reskflow:retention.uploadDays = 5: unknown field; did you mean uploadsDays?",
    ),
    (
        PROD,
        {"reskflow:retention": "[1, 2]"},
        'config error: reskflow:retention = "[1, 2]": expected an object (a YAML map)',
    ),
    (
        PROD,
        {"reskflow:bucketPrefix": "ReskFlow_Data"},
        'config error: reskflow:bucketPrefix = "ReskFlow_Data-uploads-us-east-1": bucket name '
        "'ReskFlow_Data-uploads-us-east-1' may contain only lowercase letters, digits, dots and "
        "hyphens, and must begin and end with a letter or digit",
    ),
    (
        PROD,
        {"reskflow:bucketPrefix": "x" * 43},
        f'config error: reskflow:bucketPrefix = "{"x" * 43}-blockchain-us-east-1": bucket name '
        f"'{'x' * 43}-blockchain-us-east-1' is 64 characters (allowed 3 to 63)",
    ),
    (
        PROD,
        {"reskflow:bucketPrefix": "xn--reskflow"},
        'config error: reskflow:bucketPrefix = "xn--reskflow-uploads-us-east-1": bucket name '
        "'xn--reskflow-uploads-us-east-1' must not start with 'xn--'",
    ),
    (
        PROD,
        {"reskflow:bucketPrefix": "reskflow..data"},
        'config error: reskflow:bucketPrefix = "reskflow..data-uploads-us-east-1": bucket name '
        "'reskflow..data-uploads-us-east-1' must not contain two adjacent dots",
    ),
    (
        PROD,
        {"reskflow:peerDeployed": "yes"},
        'config error: reskflow:peerDeployed = "yes": expected a boolean: true or false',
    ),
    (
        PROD,
        {"reskflow:weeklyBackupStorageClass": "DEEP_ARCHIVE"},
        'config error: reskflow:weeklyBackupStorageClass = "DEEP_ARCHIVE": allowed values are '
        "GLACIER_IR, GLACIER",
    ),
    (
        PROD,
        {"reskflow:tags": json.dumps({"aws:owner": "me"})},
        'config error: reskflow:tags.aws:owner = "me": '
        "tag keys starting with 'aws:' are reserved",
    ),
    (
        DR,
        {"reskflow:kmsPrimaryKeyId": None},
        "config error: reskflow:kmsPrimaryKeyId = (not set): required in the us-west-2 stack: the "
        "id of the multi-Region primary key in us-east-1 (after the first `pulumi up -s prod`: "
        "`pulumi stack output kmsKeyId -s prod`)",
    ),
    (
        DR,
        {"reskflow:kmsPrimaryKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"},
        'config error: reskflow:kmsPrimaryKeyId = "1234abcd-12ab-34cd-56ef-1234567890ab": '
        "expected a multi-Region key id: 'mrk-' followed by 32 lowercase hex digits",
    ),
]


@pytest.mark.parametrize(("base", "change", "message"), MATRIX)
def test_malformed_config_names_key_value_and_allowed(
    base: dict[str, str], change: dict[str, str | None], message: str
) -> None:
    raw = {**base, **change}
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(ConfigError) as err:
        load_settings(raw, "test", secret_keys=SECRETS)
    assert str(err.value) == message
    assert "\n" not in str(err.value)


def test_matrix_is_large_enough() -> None:
    assert len(MATRIX) >= 15


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ab", "is 2 characters"),
        ("192.168.1.10", "IP address"),
        ("reskflow-s3alias", "must not end with '-s3alias'"),
        ("-reskflow", "must begin and end"),
    ],
)
def test_bucket_name_rules(name: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        validate_bucket_name("reskflow:bucketPrefix", name)


def test_valid_bucket_name_passes() -> None:
    assert validate_bucket_name("k", "reskflow-123456789012-uploads-us-east-1").endswith("east-1")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (
            ["preview", "prod", "--set", "reskflow:role=primary"],
            ["reskflow:role", '"primary"', "active, passive"],
        ),
        (["preview", "prod", "--set", "reskflow:rol=active"], ["did you mean reskflow:role?"]),
        (["preview", "qa"], ["unknown stack 'qa'", "known stacks: dr, prod"]),
        (["preview", "prod", "--set", "novalue"], ["--set expects KEY=VALUE"]),
        (["preview"], ["usage error"]),
        (["preview", "prod", "dr", "--json", "x.json"], ["--json takes one stack"]),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(
    args: list[str], needles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    captured = capsys.readouterr()
    assert code == 2
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    for needle in needles:
        assert needle in lines[0]
    assert "Traceback" not in captured.err
    assert "Previewing" not in captured.out  # nothing ran


def test_two_stacks_in_one_region_are_refused() -> None:
    """Offline both stack files are at hand: a third stack file in prod's region is refused."""
    settings = replace(load_settings(PROD, "prod", secret_keys=SECRETS), stack="qa")
    with pytest.raises(ConfigError) as err:
        check_peer_files(ROOT, settings)
    assert str(err.value) == (
        "config error: aws:region = \"us-east-1\": stack 'prod' is already in us-east-1; the "
        "peer of this stack must be in us-west-2"
    )


def test_readme_config_reference_is_generated_from_the_registry() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert config_reference_markdown() in readme
    for key in KEYS:
        assert f"`{key.name}`" in readme
