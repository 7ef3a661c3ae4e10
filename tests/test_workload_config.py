"""Workload config: bad values end with one line and exit 2; the kubeconfig stays secret."""

from __future__ import annotations

import dataclasses
import json

import pytest

from infra.settings import load_settings
from reskflow_dr import cli
from reskflow_dr.engine import run_program
from reskflow_dr.preview import ROOT, preview
from reskflow_dr.stackfiles import load_stack
from tests.workload_plans import manifest, plan

SENTINEL = "k8s-aws-v1.TOPSECRETSENTINELTOKEN"
KUBECONFIG = f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "https://example.invalid"}}}}]
users: [{{name: u, user: {{token: {SENTINEL}}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u}}}}]
current-context: x
"""


@pytest.mark.parametrize(
    ("override", "key", "reason"),
    [
        (
            "reskflow:services={api-gateway: {replicas: -1}}",
            "reskflow:services.api-gateway.replicas",
            "from 0 to 50",
        ),
        (
            "reskflow:services={order-service: {replicas: 51}}",
            "reskflow:services.order-service.replicas",
            "from 0 to 50 (reskflow:replicaCeiling)",
        ),
        ("reskflow:replicaCeiling=4", "reskflow:services.api-gateway.replicas", "from 0 to 4"),
        (
            "reskflow:services={user-service: {replicas: 4, maxReplicas: 2}}",
            "reskflow:services.user-service.maxReplicas",
            "at least reskflow:services.user-service.replicas",
        ),
        (
            "reskflow:services={user-service: {replicas: three}}",
            "reskflow:services.user-service.replicas",
            "whole number",
        ),
        (
            "reskflow:services={paymnt-service: {replicas: 2}}",
            "reskflow:services.paymnt-service",
            "did you mean payment-service?",
        ),
        (
            "reskflow:services={user-service: {replica: 2}}",
            "reskflow:services.user-service.replica",
            "did you mean replicas?",
        ),
        (
            "reskflow:services={api-gateway: {image: example.com/reskflow/api-gateway}}",
            "reskflow:services.api-gateway.image",
            "needs a tag",
        ),
        ("reskflow:imageTag=latest", "reskflow:imageTag", "names no particular build"),
        ("reskflow:passiveReplicas=-1", "reskflow:passiveReplicas", "from 0 to 50"),
        ("reskflow:replicaCeiling=0", "reskflow:replicaCeiling", "from 1 to 1000"),
        (
            "reskflow:backupJobs={postgres-daily: '61 2 * * *'}",
            "reskflow:backupJobs.postgres-daily",
            "minute 61 is outside 0-59",
        ),
        (
            "reskflow:backupJobs={redis-daily: 'every night'}",
            "reskflow:backupJobs.redis-daily",
            "not a valid cron schedule",
        ),
        ("reskflow:backupJobs={nightly: '0 2 * * *'}", "reskflow:backupJobs.nightly", "unknown"),
        (
            "reskflow:backupImages={postgres: postgres}",
            "reskflow:backupImages.postgres",
            "needs a tag",
        ),
        (
            "reskflow:degradedLevel=PURPLE",
            "reskflow:degradedLevel",
            "allowed values are GREEN, YELLOW, ORANGE, RED",
        ),
        ("reskflow:namespace=kube-system", "reskflow:namespace", "not 'default' nor 'kube-*'"),
        ("reskflow:namespace=Reskflow", "reskflow:namespace", "DNS label"),
        (
            "reskflow:clusterOidcProviderArn=arn:aws:iam::999999999999:oidc-provider/x.example",
            "reskflow:clusterOidcProviderArn",
            "must be in account 123456789012",
        ),
        (
            "reskflow:clusterOidcProviderArn=oidc.eks.us-east-1.amazonaws.com",
            "reskflow:clusterOidcProviderArn",
            "expected arn:aws:iam::",
        ),
        (
            "reskflow:kubeContext=",
            "reskflow:kubeContext",
            "a cluster is required when reskflow:clusterOidcProviderArn, reskflow:imageTag is set",
        ),
        ("reskflow:kubeContext=two words", "reskflow:kubeContext", "a kubeconfig context name"),
    ],
)
def test_bad_workload_config_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], override: str, key: str, reason: str
) -> None:
    assert cli.main(["preview", "prod", "--quiet", "--set", override]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"reskflow-dr: config error: {key} = "), err
    assert reason in err, err
    assert "Traceback" not in err


def test_a_plain_text_kubeconfig_is_refused_without_echoing_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = cli.main(["preview", "prod", "--quiet", "--set", f"reskflow:kubeconfig={SENTINEL}"])
    err = capsys.readouterr().err
    assert code == 2
    assert "reskflow:kubeconfig" in err and "must be a secret" in err
    assert SENTINEL not in err


def test_without_a_cluster_the_stack_declares_no_kubernetes_objects() -> None:
    config = load_stack(ROOT, "prod")
    values = {k: v for k, v in config.values.items() if not k.startswith("reskflow:kube")}
    values.pop("reskflow:clusterOidcProviderArn")
    values.pop("reskflow:imageTag")
    settings = load_settings(values, "prod", secret_keys=config.secret_keys)
    assert settings.workloads is None
    bare = dataclasses.replace(config, values=values)
    p = run_program(bare, settings.account_id, settings.region)
    assert not [r for r in p.resources if "kubernetes" in r.type or "workloads" in r.urn]
    assert [r for r in p.resources if r.type == "aws:s3/bucket:Bucket"]


def test_a_kubeconfig_from_config_never_appears_in_the_plan_or_the_settings() -> None:
    config = load_stack(ROOT, "prod")
    real = dataclasses.replace(
        config,
        values={**config.values, "reskflow:kubeconfig": KUBECONFIG},
        secret_keys=config.secret_keys | {"reskflow:kubeconfig"},
    )
    settings = load_settings(real.values, "prod", secret_keys=real.secret_keys)
    assert settings.workloads is not None and settings.workloads.kubeconfig is not None
    assert settings.workloads.kubeconfig.value == KUBECONFIG
    assert SENTINEL not in repr(settings) and SENTINEL not in str(settings.workloads)
    p = run_program(real, settings.account_id, settings.region)
    (provider,) = p.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert provider.inputs["context"] == "reskflow-us-east-1"
    assert SENTINEL not in json.dumps(p.to_json()) + json.dumps(p.diagnostics)


def test_without_a_kubeconfig_the_provider_uses_the_stacks_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    (provider,) = preview("dr").of_type("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "reskflow-us-west-2"
    assert "kubeconfig" not in provider.inputs


def test_the_kubernetes_provider_is_keyed_to_the_cluster_not_the_credentials() -> None:
    (provider,) = plan("prod").of_type("pulumi:providers:kubernetes")
    assert provider.inputs["clusterIdentifier"] == (
        "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    )
    assert provider.name == "k8s-us-east-1"


def test_images_default_to_the_stacks_own_regional_registry() -> None:
    for stack, region in (("prod", "us-east-1"), ("dr", "us-west-2")):
        deployment = manifest(plan(stack), "Deployment", "order-service")
        image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image == f"123456789012.dkr.ecr.{region}.amazonaws.com/reskflow/order-service:1.0.0"


def test_an_oidc_provider_of_another_regions_cluster_is_warned_about() -> None:
    other = (
        "reskflow:clusterOidcProviderArn=arn:aws:iam::123456789012:oidc-provider/"
        "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    )
    (warning,) = [d for d in preview("prod", [other]).diagnostics if "OidcProvider" in d]
    assert "names a cluster in us-west-2" in warning and "us-east-1 cluster" in warning
    assert not [d for d in plan("prod").diagnostics if "OidcProvider" in d]
