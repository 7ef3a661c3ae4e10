"""The config matrix: every class of bad stack file is refused before any work.

Each case edits a copy of the committed project (Pulumi.yaml and both stack files) and runs the
CLI entry point ``reskflow_dr.cli.main`` on it. Each asserts the exact one-line message on
stderr, exit code 2, that no preview started, that the ``--json`` target was not written, and
that no secret value appears in any output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from reskflow_dr import cli
from reskflow_dr.preview import ROOT

#: A value that stands for a secret in the cases below: it must never be printed.
SENTINEL = "Top Secret Sentinel!"

Edit = Callable[[Path], None]


def with_key(text: str, key: str, value: str) -> str:
    """``text`` (a stack file) with top-level config ``key`` set to the YAML ``value``: the key's
    existing entry (with its indented lines) is removed first, so no key appears twice."""
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    skipping = False
    for line in lines:
        if re.match(rf"  {re.escape(key)}:", line):
            skipping = True
            continue
        if skipping and (line.startswith("    ") or line.startswith("  - ")):
            continue
        skipping = False
        kept.append(line)
    return "".join(kept).rstrip("\n") + f"\n  {key}: {value}\n"


def set_key(stack: str, key: str, value: str) -> Edit:
    def edit(root: Path) -> None:
        path = root / f"Pulumi.{stack}.yaml"
        path.write_text(with_key(path.read_text(encoding="utf-8"), key, value), encoding="utf-8")

    return edit


def append(stack: str, data: bytes) -> Edit:
    def edit(root: Path) -> None:
        path = root / f"Pulumi.{stack}.yaml"
        path.write_bytes(path.read_bytes() + data)

    return edit


def edits(*steps: Edit) -> Edit:
    def edit(root: Path) -> None:
        for step in steps:
            step(root)

    return edit


PROD_PASSIVE = edits(
    set_key("prod", "reskflow:role", "passive"),
    set_key("prod", "reskflow:dbGeneration", "3"),
    set_key("prod", "reskflow:retainedDbGenerations", "[1]"),
    set_key("prod", "reskflow:peerDbGeneration", "2"),
    set_key("prod", "reskflow:cachePrimaryRegion", "us-west-2"),
    set_key("prod", "reskflow:docdbPrimaryRegion", "us-west-2"),
)
DR_TRAFFIC = "{hostedZoneId: %s, recordName: %s, endpoint: api-us-west-2.reskflow.example.com}"
PG15 = "public.ecr.aws/docker/library/postgres:15.8-alpine"
EDGE_CERT = "arn:aws:acm:%s:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
EDGE_CERT_EAST = EDGE_CERT % "us-east-1"

CASES: dict[str, tuple[Edit, str]] = {
    "not UTF-8": (
        append("prod", b"  # caf\xe9\n"),
        "Pulumi.prod.yaml: byte {size} is not valid UTF-8; save the file as UTF-8",
    ),
    "not YAML": (
        append("prod", b"  reskflow:role: active: yes\n"),
        "Pulumi.prod.yaml: line {lines} is not valid YAML",
    ),
    "duplicate key": (
        append("prod", b"  reskflow:role: passive\n"),
        "Pulumi.prod.yaml: line {lines}: duplicate key 'reskflow:role'; each key may appear once "
        "(YAML would keep only the last value)",
    ),
    "secure value not ciphertext": (
        set_key("prod", "reskflow:cacheAuthToken", f'{{secure: "{SENTINEL}"}}'),
        "Pulumi.prod.yaml: reskflow:cacheAuthToken: 'secure:' holds no ciphertext (value not "
        "shown): Pulumi writes base64 text; set it with `pulumi config set --secret`",
    ),
    "secure value not a string": (
        set_key("prod", "reskflow:docdbMasterPassword", f'{{secure: ["{SENTINEL}"]}}'),
        "Pulumi.prod.yaml: reskflow:docdbMasterPassword: a secure value is a map with only "
        "'secure: <ciphertext>' (value not shown); set it with `pulumi config set --secret`",
    ),
    "secure beside another field": (
        set_key("prod", "reskflow:docdbMasterPassword", f'{{secure: abc, plain: "{SENTINEL}"}}'),
        "Pulumi.prod.yaml: reskflow:docdbMasterPassword: a secure value is a map with only "
        "'secure: <ciphertext>' (value not shown); set it with `pulumi config set --secret`",
    ),
    "account id in other Unicode digits": (
        set_key(
            "prod",
            "reskflow:accountId",
            '"\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"',
        ),
        'config error: reskflow:accountId = "\\u0661\\u0662\\u0663\\u0664\\u0665\\u0666\\u0667'
        '\\u0668\\u0669\\u0660\\u0661\\u0662": expected a 12-digit AWS account id',
    ),
    "account id with a trailing newline": (
        set_key("prod", "reskflow:accountId", '"123456789012\\n"'),
        'config error: reskflow:accountId = "123456789012\\n": expected a 12-digit AWS account id',
    ),
    "tag key with a character AWS refuses": (
        set_key("prod", "reskflow:tags", "{cost#center: ops}"),
        'config error: reskflow:tags.cost#center = "ops": tag keys are 1-128 and values 0-256 '
        "letters, numbers, spaces or _ . : / = + - @",
    ),
    "tag value longer than 256": (
        set_key("prod", "reskflow:tags", "{owner: " + "x" * 257 + "}"),
        f'config error: reskflow:tags.owner = "{"x" * 257}": tag keys are 1-128 and values '
        "0-256 letters, numbers, spaces or _ . : / = + - @",
    ),
    "tag key reserved by AWS": (
        set_key("prod", "reskflow:tags", "{AWS:owner: me}"),
        "config error: reskflow:tags.AWS:owner = \"me\": tag keys starting with 'aws:' are "
        "reserved",
    ),
    "both stacks passive": (
        PROD_PASSIVE,
        "config error: reskflow:role = \"passive\": stack 'dr' is passive too "
        "(Pulumi.dr.yaml): its generation 2 is itself a read replica, so a replica here would "
        "follow a replica and neither region has a writable primary; one stack must be active",
    ),
    "failover records with different names": (
        set_key("dr", "reskflow:traffic", DR_TRAFFIC % ("Z0123456789EXAMPLEAB", "api.other.com")),
        "config error: reskflow:traffic.recordName = \"api.reskflow.example.com\": stack 'dr' "
        "has api.other.com (Pulumi.dr.yaml): the PRIMARY and SECONDARY failover records must "
        "share one hosted zone and record name",
    ),
    "failover records in different zones": (
        set_key("dr", "reskflow:traffic", DR_TRAFFIC % ("Z999", "api.reskflow.example.com")),
        "config error: reskflow:traffic.hostedZoneId = \"Z0123456789EXAMPLEAB\": stack 'dr' has "
        "Z999 (Pulumi.dr.yaml): the PRIMARY and SECONDARY failover records must share one "
        "hosted zone and record name",
    ),
    "cron schedule that never fires": (
        set_key("prod", "reskflow:backupJobs", '{postgres-daily: "0 3 30 2 *"}'),
        'config error: reskflow:backupJobs.postgres-daily = "0 3 30 2 *": not a valid cron '
        "schedule (never fires: day of month 30 does not occur in FEB), or false to leave the "
        "job out",
    ),
    "dump tool older than its engine": (
        set_key("prod", "reskflow:backupImages", f"{{postgres: {PG15}}}"),
        f'config error: reskflow:backupImages.postgres = "{PG15}": the dump tool 15 is older '
        "than the postgres engine 16 it dumps (reskflow:postgres.engineVersion); use an image "
        "of version 16 or newer",
    ),
    "traffic switch mode unknown": (
        set_key("prod", "reskflow:trafficSwitch", "dns"),
        'config error: reskflow:trafficSwitch = "dns": allowed values are arc, signal',
    ),
    "signal region outside the pair": (
        set_key("prod", "reskflow:signalRegion", "eu-west-1"),
        'config error: reskflow:signalRegion = "eu-west-1": allowed values are us-east-1, '
        "us-west-2",
    ),
    "Region switch without an approval role": (
        set_key("prod", "reskflow:failoverApprovalRoleArn", '""'),
        "config error: reskflow:failoverApprovalRoleArn = (not set): required while "
        "reskflow:regionSwitch is true: the role an approver assumes to approve the plan's "
        "approval step (or set it false to run every step locally)",
    ),
    "approval role that is not a role ARN": (
        set_key("prod", "reskflow:failoverApprovalRoleArn", "arn:aws:iam::123456789012:user/x"),
        'config error: reskflow:failoverApprovalRoleArn = "arn:aws:iam::123456789012:user/x": '
        "an IAM role ARN: arn:aws:iam::ACCOUNT:role/NAME",
    ),
    "Region switch flag not a boolean": (
        set_key("prod", "reskflow:regionSwitch", "maybe"),
        'config error: reskflow:regionSwitch = "maybe": expected a boolean: true or false',
    ),
    "plan name too long": (
        set_key("prod", "reskflow:regionSwitchPlanName", "x" * 33),
        f'config error: reskflow:regionSwitchPlanName = "{"x" * 33}": 1-32 letters, digits '
        "and hyphens",
    ),
    "EKS cluster name for an unknown region": (
        set_key("prod", "reskflow:eksClusterNames", "{eu-west-1: reskflow}"),
        'config error: reskflow:eksClusterNames.eu-west-1 = "reskflow": keys are regions: '
        "us-east-1, us-west-2",
    ),
    "peer stack not fully qualified": (
        set_key("prod", "reskflow:peerStack", "dr"),
        'config error: reskflow:peerStack = "dr": expected ORGANIZATION/PROJECT/STACK, or '
        "'none' for no reference",
    ),
    "traffic switch modes that differ": (
        set_key("dr", "reskflow:trafficSwitch", "signal"),
        "config error: reskflow:trafficSwitch = \"arc\": stack 'dr' has signal (Pulumi.dr.yaml): "
        "both stacks must name the same traffic switch mode",
    ),
    "fenced while active": (
        set_key("prod", "reskflow:fenceDataStores", "true"),
        "config error: reskflow:fenceDataStores = true: an active stack serves and writes: only "
        "a passive stack's stores are fenced",
    ),
    "edge certificate outside us-east-1": (
        set_key("prod", "reskflow:edge", "{certificateArn: " + EDGE_CERT % "eu-west-1" + "}"),
        f'config error: reskflow:edge.certificateArn = "{EDGE_CERT % "eu-west-1"}": CloudFront '
        "only uses ACM certificates in us-east-1",
    ),
    "edge rate limit below what WAF accepts": (
        set_key("prod", "reskflow:edge", f"{{certificateArn: {EDGE_CERT_EAST}, rateLimit: 9}}"),
        "config error: reskflow:edge.rateLimit = 9: expected a whole number of requests from 10 "
        "to 2000000000 (AWS WAF's rate-based rule limits)",
    ),
    "edge static origin not a replicated bucket": (
        set_key("prod", "reskflow:edge", f"{{certificateArn: {EDGE_CERT_EAST}, staticStore: www}}"),
        'config error: reskflow:edge.staticStore = "www": must be one of the replicated '
        "buckets' stores: uploads, logs, config, backups, blockchain",
    ),
    "edge api origin not the failover name": (
        set_key(
            "prod",
            "reskflow:edge",
            f"{{certificateArn: {EDGE_CERT_EAST}, apiOrigin: api-us-east-1.reskflow.example.com}}",
        ),
        'config error: reskflow:edge.apiOrigin = "api-us-east-1.reskflow.example.com": must be '
        "the API's failover name api.reskflow.example.com (reskflow:traffic.recordName)",
    ),
    "edge distribution id in the owning stack": (
        set_key("prod", "reskflow:edgeDistributionId", "E2EXAMPLE1ABCD"),
        'config error: reskflow:edgeDistributionId = "E2EXAMPLE1ABCD": not used in the us-east-1 '
        "stack, which owns the distribution",
    ),
    "canary schedule CloudWatch refuses": (
        set_key("prod", "reskflow:alarms", "{canaryRateMinutes: 90}"),
        "config error: reskflow:alarms.canaryRateMinutes = 90: expected a whole number of minutes "
        "from 1 to 60 (a Synthetics schedule rate(N minutes))",
    ),
    "budget alert with no amount": (
        set_key("prod", "reskflow:alarms", "{budgetAlertPercents: [80]}"),
        "config error: reskflow:alarms.budgetMonthlyUsd = (not set): required: the budget alerts "
        "need an amount",
    ),
    "budget with no alert": (
        set_key("prod", "reskflow:alarms", "{budgetMonthlyUsd: 100}"),
        "config error: reskflow:alarms.budgetAlertPercents = (not set): a budget needs at least "
        "one alert (actual-cost percentages such as [80, 100], or budgetForecastPercent)",
    ),
    "alarm threshold CloudWatch cannot reach": (
        set_key("prod", "reskflow:alarms", "{lagThresholdSeconds: -5}"),
        "config error: reskflow:alarms.lagThresholdSeconds = -5: expected a whole number of "
        "seconds from 1 to 300",
    ),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's config files (the program itself is linked, not copied)."""
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.dr.yaml"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    (tmp_path / "infra").symlink_to(ROOT / "infra")
    return tmp_path


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_stack_config_is_refused_before_any_work(
    project: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    edit, expected = CASES[case]
    prod = project / "Pulumi.prod.yaml"
    size = len(prod.read_bytes())
    edit(project)
    lines = len(prod.read_text(encoding="utf-8", errors="replace").splitlines())
    target = project / "out" / "prod.json"

    code = cli.main(
        ["-C", str(project), "preview", "prod", "--json", str(target), "--quiet", "--no-policy"]
    )

    out, err = capsys.readouterr()
    assert code == 2
    assert err == "reskflow-dr: " + expected.format(size=size + 7, lines=lines) + "\n"
    assert "Previewing stack" not in out
    assert not target.exists()
    assert SENTINEL not in out + err


def test_with_key_replaces_a_block_and_keeps_the_rest() -> None:
    text = "config:\n  a: 1\n  b:\n    x: 1\n    y: 2\n  c: 3\n"
    assert with_key(text, "b", "{z: 9}") == "config:\n  a: 1\n  c: 3\n  b: {z: 9}\n"
    assert with_key(text, "d", "4") == text + "  d: 4\n"


SECRET_OVERRIDES = {
    "not YAML": (
        f"reskflow:docdbMasterPassword=[{SENTINEL}",
        'config error: reskflow:docdbMasterPassword = "(secret, not shown)": expected a YAML value',
    ),
    "too short": (
        "reskflow:cacheAuthToken=short",
        'config error: reskflow:cacheAuthToken = "(secret, not shown)": must be a secret '
        "(`secure:`): `pulumi config set --secret reskflow:cacheAuthToken`",
    ),
    "wrong type": (
        f"reskflow:alarmWebhookUrl={{url: {SENTINEL}}}",
        'config error: reskflow:alarmWebhookUrl = "<hidden>": the URL carries a token: set it '
        "with `pulumi config set --secret`",
    ),
}


@pytest.mark.parametrize("case", sorted(SECRET_OVERRIDES))
def test_a_secret_given_with_set_is_reported_by_key_only(
    project: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    override, expected = SECRET_OVERRIDES[case]
    target = project / "out" / "prod.json"
    code = cli.main(
        [
            *("-C", str(project), "preview", "prod", "--set", override),
            *("--json", str(target), "--quiet", "--no-policy"),
        ]
    )
    out, err = capsys.readouterr()
    assert (code, err) == (2, f"reskflow-dr: {expected}\n")
    assert not target.exists()
    assert SENTINEL not in out + err
    assert "short" not in err.replace("shown", "")


def test_config_error_never_shows_a_secret_keys_value() -> None:
    from infra.settings import ConfigError

    for key in ("reskflow:cacheAuthToken", "docdbMasterPassword", "reskflow:kubeconfig.users[0]"):
        assert (
            str(ConfigError(key, SENTINEL, "x"))
            == f'config error: {key} = "(secret, not shown)": x'
        )
    assert str(ConfigError("reskflow:role", "x", "y")) == 'config error: reskflow:role = "x": y'
