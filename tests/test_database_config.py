"""Data-tier config: derived names, the one-writable-primary rules, allow-lists and secrets."""

from __future__ import annotations

import dataclasses
import json

import pytest

from infra.settings import (
    KEYS,
    OFFLINE_SECRET,
    ConfigError,
    Secret,
    load_settings,
    postgres_arn,
)
from reskflow_dr.cli import main
from reskflow_dr.engine import run_program
from reskflow_dr.preview import ROOT, load
from reskflow_dr.stackfiles import SECRET, load_stack

TOKEN = "Kx7-redis-AUTH-token-9qZ"
PASSWORD = "Dq4!docdb-master-pw"


def test_prod_stack_file_yields_the_primary_tier() -> None:
    _, settings = load(ROOT, "prod")
    db = settings.database
    assert (db.home, db.generation, db.retained_generations) == (True, 1, ())
    assert (db.source_arn, db.peer_generation, db.identifier) == (
        None,
        None,
        "reskflow-postgres-g1",
    )
    assert (db.cache_primary_region, db.docdb_primary_region) == ("us-east-1", "us-east-1")
    assert db.cache_global_datastore_id is None
    assert db.cache_auth_token == Secret(OFFLINE_SECRET)
    assert db.docdb_master_password == Secret(OFFLINE_SECRET)
    assert db.network.vpc_id == "vpc-0a1b2c3d4e5f60718"
    assert db.network.private_subnet_ids == (
        "subnet-0a11b22c33d44e551",
        "subnet-0b22c33d44e55f662",
        "subnet-0c33d44e55f66a773",
    )
    assert db.network.allowed_security_group_ids == ("sg-0d44e55f66a77b884",)
    assert settings.peer_lost is False


def test_dr_stack_file_derives_the_replica_source_from_config() -> None:
    _, settings = load(ROOT, "dr")
    db = settings.database
    assert (db.home, db.generation, db.peer_generation) == (False, 2, 1)
    assert db.source_arn == "arn:aws:rds:us-east-1:123456789012:db:reskflow-postgres-g1"
    assert db.source_arn == postgres_arn("123456789012", "us-east-1", 1)
    assert db.cache_global_datastore_id == "uvxag-reskflow-redis"
    assert (db.cache_auth_token, db.docdb_master_password) == (None, None)


def test_the_offline_placeholder_is_the_preview_one() -> None:
    assert OFFLINE_SECRET == SECRET
    assert str(Secret("hunter2hunter2hunter2")) == "[secret]"
    assert "hunter2" not in repr(Secret("hunter2hunter2hunter2"))


def test_the_data_keys_are_documented() -> None:
    names = {k.name for k in KEYS}
    assert {
        "reskflow:peerLost",
        "reskflow:network",
        "reskflow:dbGeneration",
        "reskflow:peerDbGeneration",
        "reskflow:retainedDbGenerations",
        "reskflow:cachePrimaryRegion",
        "reskflow:docdbPrimaryRegion",
        "reskflow:cacheGlobalDatastoreId",
        "reskflow:cacheAuthToken",
        "reskflow:docdbMasterPassword",
        "reskflow:postgres",
        "reskflow:redis",
        "reskflow:docdb",
    } <= names


GOOD_NETWORK = (
    "{vpcId: vpc-0a1b2c3d4e5f60718, privateSubnetIds: [subnet-0a11b22c33d44e551, "
    "subnet-0b22c33d44e55f662], allowedSecurityGroupIds: [sg-0d44e55f66a77b884]}"
)

BAD = [
    pytest.param(
        "dr",
        ["reskflow:role=active", "reskflow:peerLost=true"],
        'reskflow:cachePrimaryRegion = "us-east-1": must be us-west-2 while this stack is '
        "active: move the global primary with the AWS API first, then record it here "
        "(docs/database-failover.md)",
        id="promotion-before-the-global-stores-moved",
    ),
    pytest.param(
        "dr",
        [
            "reskflow:role=active",
            "reskflow:cachePrimaryRegion=us-west-2",
            "reskflow:docdbPrimaryRegion=us-west-2",
        ],
        'reskflow:role = "active": the peer stack (us-east-1) is active too '
        "(reskflow:peerRole = active): two writable primaries. Make the peer passive first and "
        "set reskflow:peerRole passive here, or set reskflow:peerLost true if us-east-1 is lost",
        id="two-writable-primaries",
    ),
    pytest.param(
        "dr",
        ["reskflow:peerLost=true"],
        "reskflow:peerLost = true: only an active stack may declare its peer lost",
        id="passive-with-peer-lost",
    ),
    pytest.param(
        "dr",
        ["reskflow:peerDbGeneration="],
        "reskflow:peerDbGeneration = (not set): required when passive: the generation of the "
        "peer's primary, from which the replica's source ARN is derived "
        "(`pulumi stack output dbGeneration`)",
        id="replica-without-peer-arn",
    ),
    pytest.param(
        "dr",
        ["reskflow:peerDeployed=false"],
        'reskflow:role = "passive": a passive stack replicates its peer, but '
        "reskflow:peerDeployed is false",
        id="replica-of-a-peer-not-deployed",
    ),
    pytest.param(
        "dr",
        ["reskflow:dbGeneration=1"],
        "reskflow:dbGeneration = 1: a replica's generation must be above its source's "
        "(reskflow:peerDbGeneration is 1): the replica is always the newer instance",
        id="replica-generation-not-above-source",
    ),
    pytest.param(
        "prod",
        ["reskflow:dbGeneration=3", "reskflow:retainedDbGenerations=[1, 4]"],
        "reskflow:dbGeneration = 3: a generation never goes backwards: it must be above every "
        "retained generation (4)",
        id="generation-going-backwards",
    ),
    pytest.param(
        "dr",
        ["reskflow:dbGeneration=5", "reskflow:peerDbGeneration=3"],
        "reskflow:peerDbGeneration = 3: stack 'prod' runs generation 1: a replica follows the "
        "peer's live primary",
        id="replica-of-a-generation-the-peer-does-not-run",
    ),
    pytest.param(
        "prod",
        ["reskflow:dbGeneration=2"],
        "reskflow:dbGeneration = 2: stack 'dr' already uses generation 2: generation numbers "
        "are shared by both stacks, take one above every number in use",
        id="generation-used-by-the-peer",
    ),
    pytest.param(
        "prod",
        ["reskflow:postgres={engineVersion: '12'}"],
        'reskflow:postgres.engineVersion = "12": allowed values are 15, 16, 17',
        id="postgres-version-not-offered",
    ),
    pytest.param(
        "prod",
        ["reskflow:redis={engineVersion: '5.0.6', nodeType: cache.r6g.large}"],
        'reskflow:redis.engineVersion = "5.0.6": allowed values are 6.2, 7.0, 7.1',
        id="redis-version-not-offered",
    ),
    pytest.param(
        "prod",
        ["reskflow:docdb={instanceClass: db.t3.medium}"],
        'reskflow:docdb.instanceClass = "db.t3.medium": allowed values are db.r5.large, '
        "db.r5.xlarge, db.r5.2xlarge, db.r5.4xlarge, db.r6g.large, db.r6g.xlarge, "
        "db.r6g.2xlarge, db.r6g.4xlarge",
        id="docdb-class-not-offered-for-global-clusters",
    ),
    pytest.param(
        "prod",
        ["reskflow:postgres={allocatedStorageGb: 600}"],
        "reskflow:postgres.maxAllocatedStorageGb = 500: must be at least allocatedStorageGb (600)",
        id="autoscaling-ceiling-below-storage",
    ),
    pytest.param(
        "prod",
        ["reskflow:postgres={instancType: db.r6g.large}"],
        'reskflow:postgres.instancType = "db.r6g.large": unknown field; did you mean '
        "instanceClass?",
        id="misspelt-field",
    ),
    pytest.param(
        "prod",
        [
            "reskflow:network={vpcId: vpc-0a1b2c3d4e5f60718, privateSubnetIds: "
            "[subnet-0a11b22c33d44e551], allowedSecurityGroupIds: [sg-0d44e55f66a77b884]}"
        ],
        'reskflow:network.privateSubnetIds = ["subnet-0a11b22c33d44e551"]: expected at least 2 '
        "distinct subnet ids (^subnet-([0-9a-f]{8}|[0-9a-f]{17})$)",
        id="one-subnet",
    ),
    pytest.param(
        "prod",
        [f"reskflow:cacheAuthToken={TOKEN}"],
        'reskflow:cacheAuthToken = "(secret, not shown)": must be a secret (`secure:`): '
        "`pulumi config set --secret reskflow:cacheAuthToken`",
        id="auth-token-in-clear",
    ),
    pytest.param(
        "dr",
        ["reskflow:cacheGlobalDatastoreId=reskflow-redis"],
        'reskflow:cacheGlobalDatastoreId = "reskflow-redis": required here: the full Global '
        "Datastore id, e.g. abcde-reskflow-redis (`pulumi stack output "
        "cacheGlobalDatastoreId -s prod`)",
        id="datastore-id-without-region-prefix",
    ),
]


@pytest.mark.parametrize(("stack", "overrides", "message"), BAD)
def test_bad_data_config_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], stack: str, overrides: list[str], message: str
) -> None:
    argv = ["preview", stack, "--quiet"] + [a for o in overrides for a in ("--set", o)]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err == f"reskflow-dr: config error: {message}\n"
    assert "Previewing" not in out
    assert TOKEN not in err


def _raw(stack: str, **values: str) -> tuple[dict[str, str], frozenset[str]]:
    config = load_stack(ROOT, stack)
    return {**config.values, **values}, config.secret_keys


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        (
            "reskflow:cacheAuthToken",
            "too-short",
            "must be 16-128 printable ASCII characters, none of '/' '\"' '@' ' '",
        ),
        (
            "reskflow:cacheAuthToken",
            "has@sign-and-is-long-enough",
            "must be 16-128 printable ASCII characters, none of '/' '\"' '@' ' '",
        ),
        (
            "reskflow:docdbMasterPassword",
            "short",
            "must be 8-100 printable ASCII characters, none of '/' '\"' '@'",
        ),
    ],
)
def test_a_decrypted_secret_is_checked_without_being_shown(
    key: str, value: str, allowed: str
) -> None:
    raw, secret_keys = _raw("prod", **{key: value})
    with pytest.raises(ConfigError) as caught:
        load_settings(raw, "prod", secret_keys=secret_keys)
    assert str(caught.value) == f'config error: {key} = "(secret, not shown)": {allowed}'
    assert value not in str(caught.value)


def test_decrypted_secrets_stay_secret_in_the_plan() -> None:
    """With real values (as `pulumi up` decrypts them), the plan still shows only [secret]."""
    config = load_stack(ROOT, "prod")
    values = {
        **config.values,
        "reskflow:cacheAuthToken": TOKEN,
        "reskflow:docdbMasterPassword": PASSWORD,
    }
    config = dataclasses.replace(config, values=values)
    settings = load_settings(values, "prod", config.project, config.secret_keys)
    assert settings.database.cache_auth_token == Secret(TOKEN)
    plan = run_program(config, settings.account_id, settings.region)
    text = json.dumps(plan.to_json())
    assert TOKEN not in text
    assert PASSWORD not in text
    redis = next(r for r in plan.resources if r.name == "redis-group")
    docdb = next(r for r in plan.resources if r.name == "docdb-cluster")
    assert (redis.inputs["authToken"], docdb.inputs["masterPassword"]) == ("[secret]", "[secret]")


def test_the_runtime_tells_which_keys_are_secret() -> None:
    """Without an explicit list, load_settings asks the Pulumi runtime (as `pulumi up` does)."""
    raw, _ = _raw("prod")
    with pytest.raises(ConfigError, match="reskflow:cacheAuthToken"):
        load_settings(raw, "prod")  # no runtime here: nothing is known to be secret
