"""The RUN-002 sequence of docs/database-failover.md, committed stack file by stack file: every
state previews, and no data store of a stack disappears or changes identity from one state to the
next (what `pulumi up` would replace or delete)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.settings import ConfigError
from reskflow_dr.engine import Plan
from reskflow_dr.preview import ROOT, preview

DATA_TYPES = (
    "aws:rds/instance:Instance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
    "aws:docdb/cluster:Cluster",
    "aws:docdb/globalCluster:GlobalCluster",
)
IDENTITY = ("identifier", "replicationGroupId", "clusterIdentifier", "globalClusterIdentifier")
WEST = {"reskflow:cachePrimaryRegion": "us-west-2", "reskflow:docdbPrimaryRegion": "us-west-2"}

#: Stack file changes per state, on top of the committed files (None: the key is removed).
SEQUENCE: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("normal", {}, {}),
    ("failover", {}, {"reskflow:role": "active", "reskflow:peerLost": True, **WEST}),
    (
        "failback-1",
        {
            "reskflow:role": "passive",
            "reskflow:peerRole": "active",
            "reskflow:dbGeneration": 3,
            "reskflow:retainedDbGenerations": [1],
            "reskflow:peerDbGeneration": 2,
            **WEST,
        },
        {"reskflow:role": "active", "reskflow:peerRole": "passive", **WEST},
    ),
    (
        "failback-2",
        {
            "reskflow:role": "active",
            "reskflow:dbGeneration": 3,
            "reskflow:retainedDbGenerations": [1],
        },
        {
            "reskflow:role": "passive",
            "reskflow:dbGeneration": 4,
            "reskflow:retainedDbGenerations": [2],
            "reskflow:peerDbGeneration": 3,
        },
    ),
]


def write_project(root: Path, prod: dict[str, Any], dr: dict[str, Any]) -> None:
    """A project directory whose program is this one and whose stack files carry the changes."""
    if not (root / "infra").exists():
        (root / "infra").symlink_to(ROOT / "infra")
        (root / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    for stack, changes in (("prod", prod), ("dr", dr)):
        doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
        doc["config"].update(changes)
        (root / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc))


def data_stores(plan: Plan) -> dict[str, tuple[Any, ...]]:
    return {
        r.urn: tuple(r.inputs.get(k) for k in IDENTITY)
        for r in plan.resources
        if r.type in DATA_TYPES
    }


def test_the_runbook_sequence_keeps_every_data_store(tmp_path: Path) -> None:
    previous: dict[str, dict[str, tuple[Any, ...]]] = {}
    roles: list[tuple[Any, ...]] = []
    for state, prod, dr in SEQUENCE:
        write_project(tmp_path, prod, dr)
        plans = {}
        for stack in ("prod", "dr"):
            if state == "failover" and stack == "prod":
                # us-east-1 is down and its file still says active: it must not deploy.
                with pytest.raises(ConfigError, match="two writable primaries"):
                    preview(stack, root=tmp_path)
                continue
            plans[stack] = preview(stack, root=tmp_path)
            stores = data_stores(plans[stack])
            kept = {urn: ident for urn, ident in previous.get(stack, {}).items() if urn in stores}
            assert kept == previous.get(stack, {}), f"{state}: {stack} loses a data store"
            assert all(stores[urn] == ident for urn, ident in kept.items())
            previous[stack] = stores
        roles.append(
            (
                state,
                *((p.outputs["role"], p.outputs["postgres"]["identifier"]) for p in plans.values()),
            )
        )
    assert roles == [
        ("normal", ("active", "reskflow-postgres-g1"), ("passive", "reskflow-postgres-g2")),
        ("failover", ("active", "reskflow-postgres-g2")),
        ("failback-1", ("passive", "reskflow-postgres-g3"), ("active", "reskflow-postgres-g2")),
        ("failback-2", ("active", "reskflow-postgres-g3"), ("passive", "reskflow-postgres-g4")),
    ]
