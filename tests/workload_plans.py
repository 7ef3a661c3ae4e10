"""Helpers for the workload tests: cached offline previews and accessors for Kubernetes objects.

Previews take seconds each, so every (stack, overrides) pair is run once per session; tests must
not mutate what they get (copy first).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from typing import Any

from reskflow_dr.engine import Plan, PlannedResource
from reskflow_dr.preview import preview

SERVICE_NAMES = (
    "api-gateway",
    "order-service",
    "user-service",
    "payment-service",
    "tracking-service",
    "notification-service",
)
JOB_NAMES = ("postgres-daily", "postgres-weekly", "mongodb-daily", "redis-daily")
#: redis-daily is off by default (ElastiCache refuses SYNC); this override turns it on.
WITH_REDIS = "reskflow:backupJobs={redis-daily: '0 4 * * *'}"


@functools.cache
def plan(stack: str, *overrides: str) -> Plan:
    return preview(stack, list(overrides))


def kubernetes_objects(p: Plan) -> list[PlannedResource]:
    return [r for r in p.resources if r.type.startswith("kubernetes:")]


def manifests(p: Plan, kind: str) -> dict[str, dict[str, Any]]:
    """Inputs (the manifest) of every object of ``kind``, by ``metadata.name``."""
    return {
        r.inputs["metadata"]["name"]: r.inputs
        for r in kubernetes_objects(p)
        if r.inputs.get("kind") == kind
    }


def manifest(p: Plan, kind: str, name: str) -> dict[str, Any]:
    found = manifests(p, kind)
    assert name in found, f"no {kind} {name!r}; have {sorted(found)}"
    return copy.deepcopy(found[name])


def pod_specs(p: Plan) -> Iterator[tuple[str, dict[str, Any]]]:
    """(owner name, pod spec) of every Deployment and CronJob."""
    for name, m in manifests(p, "Deployment").items():
        yield name, m["spec"]["template"]["spec"]
    for name, m in manifests(p, "CronJob").items():
        yield name, m["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Leaf paths of a manifest; list items carrying a ``name`` are keyed by it, so a diff reads
    ``spec.template.spec.containers[api-gateway].env[RESKFLOW_READ_ONLY].value``."""
    if isinstance(value, dict):
        items = [(f"{path}.{k}" if path else str(k), v) for k, v in value.items()]
    elif isinstance(value, list) and value:
        named = all(isinstance(v, dict) and "name" in v for v in value)
        items = [(f"{path}[{v['name'] if named else i}]", v) for i, v in enumerate(value)]
    else:
        return {path: value}
    flat: dict[str, Any] = {}
    for sub_path, sub in items:
        flat.update(flatten(sub, sub_path))
    return flat


def changed_paths(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    a, b = flatten(before), flatten(after)
    return {k for k in a.keys() | b.keys() if a.get(k, "<absent>") != b.get(k, "<absent>")}


def job_names(p: Plan) -> list[str]:
    """The backup jobs a plan declares (``postgres-daily``...)."""
    return [n.removeprefix("backup-") for n in manifests(p, "CronJob")]
