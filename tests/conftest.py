"""Shared fixtures: the real program run under the SDK's mocks (``preview=False``), each distinct
plan built once per test run (:class:`PlanCache`); fresh mocks for every build, and for every
preview of a test marked ``fresh_plans``."""

from __future__ import annotations

import importlib
import json
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from moto import mock_aws

from reskflow_dr import batch, engine
from reskflow_dr.engine import Plan, PlannedResource
from reskflow_dr.preview import preview
from reskflow_dr.stackfiles import StackConfig

PlanOf = Callable[..., Plan]

_WEST = ("reskflow:cachePrimaryRegion=us-west-2", "reskflow:docdbPrimaryRegion=us-west-2")
#: The overrides that put a stack in a role consistently (docs/database-failover.md): the
#: committed files are the normal state; the other role of each is its state after a failover
#: (dr promoted with the peer declared lost) or in failback phase 1 (prod a new replica
#: generation of dr's primary, its old primary retained).
ROLE_OVERRIDES: dict[tuple[str, str], tuple[str, ...]] = {
    ("prod", "active"): (),
    ("dr", "passive"): (),
    ("dr", "active"): ("reskflow:role=active", "reskflow:peerLost=true", *_WEST),
    ("prod", "passive"): (
        "reskflow:role=passive",
        "reskflow:dbGeneration=3",
        "reskflow:retainedDbGenerations=[1]",
        "reskflow:peerDbGeneration=2",
        *_WEST,
    ),
}


class PlanCache:
    """Each distinct plan built once per test run (per pytest-xdist worker).

    Stands for ``run_program`` (and ``batch.run_programs``) in the project's modules that call
    it -- preview, the CLI, drills: the key is everything the program runs with
    (``batch.program_key``: project, stack, program directory, config values, secret keys,
    account and region), so a plan is reused only for the same config, whichever stack file,
    ``--set`` override or temporary root it came from. Each caller gets its own copy (tests edit
    plans). A program that fails is not kept: it fails again, freshly, for the next caller.
    """

    def __init__(
        self,
        run: Callable[[StackConfig, str, str], Plan],
        run_many: Callable[[Sequence[batch.Job]], list[Plan]],
    ) -> None:
        self._run = run
        self._run_many = run_many
        self._plans: dict[tuple[Any, ...], bytes] = {}
        self.bypass = False
        self.built = 0

    def run_program(self, config: StackConfig, account_id: str, region: str) -> Plan:
        if self.bypass:
            return self._run(config, account_id, region)
        key = batch.program_key(config, account_id, region)
        if key not in self._plans:
            self._plans[key] = pickle.dumps(self._run(config, account_id, region))
            self.built += 1
        plan: Plan = pickle.loads(self._plans[key])
        return plan

    def run_programs(self, jobs: Sequence[batch.Job], workers: int | None = None) -> list[Plan]:
        """One after the other, from the cache: no process forked from a test worker."""
        if self.bypass:
            return self._run_many(jobs)
        return [self.run_program(*job) for job in jobs]

    def plan(self, stack: str, *overrides: str) -> Plan:
        """The repository's stack ``stack`` with ``--set`` overrides, as ``preview`` builds it."""
        return preview(stack, list(overrides))


def _holders(function: object) -> list[Any]:
    """The project's modules that hold ``function`` under its own name."""
    name = getattr(function, "__name__", "")
    return [
        module
        for key, module in list(sys.modules.items())
        if key.startswith("reskflow_dr.") and getattr(module, name, None) is function
    ]


@pytest.fixture(scope="session", autouse=True)
def plan_cache() -> Iterator[PlanCache]:
    """The session's :class:`PlanCache`, standing for ``run_program`` and ``run_programs`` in the
    project's modules. Tests that imported ``engine.run_program`` or ``batch.run_programs``
    themselves call the real ones: fresh builds."""
    for name in ("reskflow_dr.cli", "reskflow_dr.drill"):  # they hold run_program: patch them
        importlib.import_module(name)
    cache = PlanCache(engine.run_program, batch.run_programs)
    with pytest.MonkeyPatch.context() as patch:
        for module in _holders(engine.run_program):
            patch.setattr(module, "run_program", cache.run_program)
        for module in _holders(batch.run_programs):
            patch.setattr(module, "run_programs", cache.run_programs)
        yield cache


#: Fake credentials for moto: set before any client exists, so nothing can reach a real account.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def aws(fake_aws_credentials: None) -> Iterator[None]:
    """moto's mocked AWS account, behind fake credentials."""
    with mock_aws():
        yield


@pytest.fixture(autouse=True)
def _unlimited_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-xdist's workers run with ``COLUMNS=80``; the tables would then wrap as on an
    80-column terminal. Tests that want a width set it themselves."""
    monkeypatch.delenv("COLUMNS", raising=False)


@pytest.fixture(autouse=True)
def _fresh_plans(request: pytest.FixtureRequest, plan_cache: PlanCache) -> Iterator[None]:
    """``@pytest.mark.fresh_plans``: every preview of the test builds its plan anew."""
    if request.node.get_closest_marker("fresh_plans") is None:
        yield
        return
    plan_cache.bypass = True
    try:
        yield
    finally:
        plan_cache.bypass = False


@pytest.fixture
def plan_of(plan_cache: PlanCache) -> PlanOf:
    """``plan_of("prod", "reskflow:role=passive", ...)``: the offline preview of a stack (built
    once per test run, a copy of its own for each call)."""
    return plan_cache.plan


def named(plan: Plan, name: str) -> PlannedResource:
    """The one custom resource called ``name`` (fails loudly when absent or ambiguous).
    Components are left out: a component and its main child may share a name."""
    found = [r for r in plan.resources if r.name == name and r.custom]
    assert len(found) == 1, f"expected one resource named {name!r}, found {len(found)}"
    return found[0]


def policy_doc(resource: PlannedResource, key: str = "policy") -> dict[str, Any]:
    """A JSON policy input decoded."""
    return json.loads(resource.inputs[key])


def belongs_to_workloads(resource: PlannedResource) -> bool:
    """Kubernetes workloads and their backup alarms: the role switch rescales and re-arms them on
    purpose (docs/workloads.md), so other tiers' role-switch checks leave them out."""
    return "reskflow:workloads:" in resource.urn or resource.name.startswith("alerts-backup-")
