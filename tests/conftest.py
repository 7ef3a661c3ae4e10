"""Shared fixtures: every preview runs the real program with fresh mocks (``preview=False``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from reskflow_dr.engine import Plan, PlannedResource
from reskflow_dr.preview import preview

PlanOf = Callable[..., Plan]


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
