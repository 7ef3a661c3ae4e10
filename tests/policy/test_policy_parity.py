"""The analyzer in this process gives the verdicts the pack gives through its gRPC interface.

Offline verdicts come from ``pulumi_policy``'s servicer called in this process, each resource
converted once (``reskflow_dr.policy_inprocess``). Here the same plans -- the program's real plans
in both roles, the same plans with a protection removed, and hand-built plans with unknown and
secret values, under several policy configs -- go to the pack started as the Pulumi CLI starts
it, over gRPC, and the two lists of verdicts must be equal, order included.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf import json_format

from reskflow_dr import policy_inprocess
from reskflow_dr.policy_analyzer import AnalyzerPackSession
from reskflow_dr.policy_runner import PolicyPackSession
from tests.conftest import ROLE_OVERRIDES, PlanCache

from .builders import reference_plan, remove, resource
from .test_policy_real_plans import MUTATIONS

CONFIGS: list[dict[str, Any] | None] = [
    None,
    {"all": "advisory"},
    {"reskflow-backup-retention": {"dailyDays": 14}, "reskflow-3-2-1": "disabled"},
    {"reskflow-allowed-regions": {"allowedRegions": ["us-east-1"]}},
]


def _unknowns(plan: dict[str, Any]) -> None:
    resource(plan, "uploads-public-access")["inputs"]["bucket"] = "[unknown]"
    resource(plan, "kms-key")["inputs"]["enableKeyRotation"] = "[unknown]"


def _secret(plan: dict[str, Any]) -> None:
    resource(plan, "orders-replica")["inputs"]["password"] = "[secret]"


def _no_backups(plan: dict[str, Any]) -> None:
    remove(plan, "backup-selection")


def _property_dependency(plan: dict[str, Any]) -> None:
    pab = resource(plan, "uploads-public-access")
    pab["inputs"].update(bucket="[unknown]", ignorePublicAcls=False)
    pab["propertyDependencies"] = {"bucket": [resource(plan, "uploads")["urn"]]}


HAND_BUILT: dict[str, tuple[str, Callable[[dict[str, Any]], None]]] = {
    "unknowns": ("prod", _unknowns),
    "secret": ("dr", _secret),
    "no-backups": ("prod", _no_backups),
    "property-dependency": ("prod", _property_dependency),
}


def _same(
    local: PolicyPackSession,
    remote: AnalyzerPackSession,
    plan: dict[str, Any],
    configs: list[dict[str, Any] | None] = CONFIGS,
) -> int:
    """Assert equal verdicts for each config; return how many verdicts were compared."""
    compared = 0
    for config in configs:
        here = local.evaluate(plan, config)
        there = remote.evaluate(plan, config)
        assert here == there, f"verdicts differ with policy config {config}"
        compared += len(here)
    return compared


@pytest.mark.parametrize("role", sorted(ROLE_OVERRIDES), ids=lambda r: f"{r[0]}-{r[1]}")
def test_real_plans_give_the_same_verdicts(
    pack: PolicyPackSession,
    analyzer_pack: AnalyzerPackSession,
    plan_cache: PlanCache,
    role: tuple[str, str],
) -> None:
    stack, _ = role
    plan = plan_cache.plan(stack, *ROLE_OVERRIDES[role]).to_json()
    assert _same(pack, analyzer_pack, plan, [None]) > 0


def test_a_real_plan_gives_the_same_verdicts_under_every_policy_config(
    pack: PolicyPackSession, analyzer_pack: AnalyzerPackSession, plan_cache: PlanCache
) -> None:
    assert _same(pack, analyzer_pack, plan_cache.plan("prod").to_json(), CONFIGS[1:]) > 0


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_real_plans_with_a_protection_removed_give_the_same_verdicts(
    pack: PolicyPackSession,
    analyzer_pack: AnalyzerPackSession,
    plan_cache: PlanCache,
    mutation: str,
) -> None:
    policy, mutate = MUTATIONS[mutation]
    plan = copy.deepcopy(plan_cache.plan("prod").to_json())
    mutate(plan)
    verdicts = pack.evaluate(plan)
    assert policy in {v.policy for v in verdicts if v.enforcement == "mandatory"}
    assert _same(pack, analyzer_pack, plan, [None]) > 0


@pytest.mark.parametrize("case", sorted(HAND_BUILT))
def test_hand_built_plans_give_the_same_verdicts(
    pack: PolicyPackSession, analyzer_pack: AnalyzerPackSession, case: str
) -> None:
    stack, mutate = HAND_BUILT[case]
    plan = reference_plan(stack)
    mutate(plan)
    assert _same(pack, analyzer_pack, plan) > 0


def test_the_pack_describes_itself_the_same(
    pack: PolicyPackSession, analyzer_pack: AnalyzerPackSession
) -> None:
    assert pack.pack_name == analyzer_pack.pack_name == "reskflow-dr"
    assert pack.policies == analyzer_pack.policies
    assert pack.plugin_version == analyzer_pack.plugin_version == policy_inprocess.PINNED_VERSION


def test_each_resource_is_converted_once(
    pack: PolicyPackSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The properties' ``MessageToDict`` runs once per resource and once per provider, not once
    per resource and policy (35 policies, several of them resource policies)."""
    calls: list[object] = []

    class Counting:
        @staticmethod
        def MessageToDict(message: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(message)
            return json_format.MessageToDict(message, *args, **kwargs)

    monkeypatch.setattr(policy_inprocess, "json_format", Counting)
    plan = reference_plan("prod")
    providers = {(r["provider"], r["region"]) for r in plan["resources"] if r["provider"]}
    pack.evaluate(plan)
    assert len(calls) == len(plan["resources"]) + len(providers)
