"""Shared fixtures: every preview runs the real program with fresh mocks (``preview=False``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from reskflow_dr.engine import Plan, PlannedResource
from reskflow_dr.preview import preview

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


@pytest.fixture
def plan_of() -> PlanOf:
    """``plan_of("prod", "reskflow:role=passive", ...)``: a fresh offline preview of a stack."""

    def run(stack: str, *overrides: str) -> Plan:
        return preview(stack, list(overrides))

    return run


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
