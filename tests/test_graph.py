"""The topology diagram, asserted against the plans it is drawn from.

What the diagram must show is computed here from the plans' raw inputs (data-bearing resources by
their protect/retain options, cross-region arrows from the references the resources carry), not
through the graph module's own traversal.
"""

from __future__ import annotations

import html
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from reskflow_dr import graph
from reskflow_dr.cli import main
from reskflow_dr.engine import Plan, PlannedResource
from reskflow_dr.preview import preview
from tests.conftest import PlanOf
from tests.mermaid import Flowchart, parse

ROOT = Path(__file__).resolve().parent.parent
EVERY_KIND = Path(__file__).resolve().parent / "programs" / "every_kind"

CACHE_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_GLOBAL = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"

End = tuple[str, str]
"""(region, a text the node's label carries)."""


def resources(plans: Sequence[Plan]) -> list[PlannedResource]:
    return [r for plan in plans for r in plan.resources]


def data_stores(plans: Sequence[Plan]) -> list[PlannedResource]:
    """Data-bearing resources: the program declares each protected and retained."""
    return [
        r
        for r in resources(plans)
        if r.custom and r.options["protect"] and r.options["retainOnDelete"]
    ]


def cross_region_references(plans: Sequence[Plan]) -> list[tuple[End, End]]:
    """Both ends of each cross-region S3 replication rule, replica key, RDS replica, global
    cluster or datastore member and backup copy action, read from the raw inputs."""
    everything = resources(plans)
    buckets = {r.inputs["bucket"]: r for r in everything if r.type == "aws:s3/bucket:Bucket"}
    keys = {r.region: r for r in everything if r.type == "aws:kms/key:Key"}
    dbs = {r.inputs["identifier"]: r for r in everything if r.type == "aws:rds/instance:Instance"}
    vaults = {r.inputs["name"]: r for r in everything if r.type == "aws:backup/vault:Vault"}
    docdb = [r for r in everything if r.type == "aws:docdb/globalCluster:GlobalCluster"]
    caches = [r for r in everything if r.type == CACHE_GLOBAL]
    pairs: list[tuple[End, End]] = []
    for r in everything:
        if r.type == "aws:s3/bucketReplicationConfig:BucketReplicationConfig":
            for rule in r.inputs["rules"]:
                dest = buckets[rule["destination"]["bucket"].removeprefix("arn:aws:s3:::")]
                pairs.append(((r.region, r.inputs["bucket"]), (dest.region, dest.inputs["bucket"])))
        elif r.type == "aws:kms/replicaKey:ReplicaKey":
            primary = keys[r.inputs["primaryKeyArn"].split(":")[3]]
            pairs.append(((primary.region, primary.name), (r.region, r.name)))
        elif r.type == "aws:rds/instance:Instance" and r.inputs.get("replicateSourceDb"):
            source = dbs[r.inputs["replicateSourceDb"].rsplit(":", 1)[-1]]
            pairs.append(((source.region, source.name), (r.region, r.name)))
        elif r.type == "aws:docdb/cluster:Cluster" and r.inputs.get("globalClusterIdentifier"):
            (source,) = [
                g
                for g in docdb
                if g.inputs["globalClusterIdentifier"] == r.inputs["globalClusterIdentifier"]
            ]
            pairs.append(((source.region, source.name), (r.region, r.name)))
        elif r.type == CACHE_GROUP and r.inputs.get("globalReplicationGroupId"):
            # AWS prefixes the global datastore's id to the suffix the program chooses.
            (source,) = [
                g
                for g in caches
                if r.inputs["globalReplicationGroupId"].endswith(
                    "-" + g.inputs["globalReplicationGroupIdSuffix"]
                )
            ]
            pairs.append(((source.region, source.name), (r.region, r.name)))
        elif r.type == "aws:backup/plan:Plan":
            for rule in r.inputs["rules"]:
                for copy in rule.get("copyActions", []):
                    source = vaults[rule["targetVaultName"]]
                    dest = vaults.get(copy["destinationVaultArn"].rsplit(":", 1)[-1])
                    if dest is None:  # the air-gapped vault, in the same region: no arrow
                        continue
                    pairs.append(((source.region, source.name), (dest.region, dest.name)))
    return [(a, b) for a, b in pairs if a[0] != b[0]]


def assert_arrows(chart: Flowchart, expected: list[tuple[End, End]]) -> None:
    """Each expected arrow is drawn (as often as the plans declare it: one per backup rule),
    and no other arrow crosses regions."""
    wanted = Counter((chart.node(*a).id, chart.node(*b).id) for a, b in expected)
    drawn = Counter((e.src.id, e.dst.id) for e in chart.edges if e.src.region != e.dst.region)
    assert drawn == wanted


def default_plans(plan_of: PlanOf) -> list[Plan]:
    return [plan_of("prod"), plan_of("dr")]


def test_default_stacks_show_every_data_store_and_cross_region_arrow(plan_of: PlanOf) -> None:
    plans = default_plans(plan_of)
    chart = parse(graph.mermaid(graph.build(plans)))
    stores = data_stores(plans)
    assert {r.type for r in stores} >= {"aws:s3/bucket:Bucket", "aws:kms/key:Key"}
    for r in stores:
        chart.node(r.region, r.name)
    expected = cross_region_references(plans)
    assert len(expected) >= 11  # 5 buckets each way and the replica key, today
    # The PRIMARY record uses the traffic switch's check for us-east-1, which the dr stack
    # declares (docs/traffic-switch.md): the one health-check arrow that crosses regions.
    expected.append((("us-east-1", "api-record"), ("us-west-2", "switch-us-east-1-check")))
    assert_arrows(chart, expected)
    assert not chart.external


def test_s3_arrows_carry_the_rtc_recovery_point(plan_of: PlanOf) -> None:
    chart = parse(graph.mermaid(graph.build(default_plans(plan_of))))
    s3 = [e for e in chart.edges if e.label.startswith("S3 replication")]
    assert s3 and {e.label for e in s3} == {"S3 replication · RPO 15 min (RTC)"}
    assert {e.arrow for e in s3} == {"==>"}  # cross-region: thick


def test_one_stack_draws_its_peer_as_not_in_the_plan(plan_of: PlanOf) -> None:
    plan = plan_of("prod")
    peer = plan.outputs["peerRegion"]
    chart = parse(graph.mermaid(graph.build([plan])))
    rules = [r for r in plan.resources if r.type.endswith(":BucketReplicationConfig")]
    assert rules
    for r in rules:
        dest = r.inputs["rules"][0]["destination"]["bucket"].removeprefix("arn:aws:s3:::")
        target = chart.node(peer, dest)
        assert target.id in chart.external
        assert "not in these plans" in target.lines[-1]
        source = chart.node(plan.outputs["region"], r.inputs["bucket"])
        assert [e.arrow for e in chart.edges if (e.src, e.dst) == (source, target)] == ["==>"]


def every_kind_root(tmp_path: Path) -> Path:
    project = (ROOT / "Pulumi.yaml").read_text().replace("main: infra/", f"main: {EVERY_KIND}")
    (tmp_path / "Pulumi.yaml").write_text(project)
    for stack in ("prod", "dr"):
        name = f"Pulumi.{stack}.yaml"
        (tmp_path / name).write_text((ROOT / name).read_text())
    return tmp_path


def test_every_known_type_is_drawn_with_its_role_and_arrows(tmp_path: Path) -> None:
    root = every_kind_root(tmp_path)
    plans = [preview("prod", root=root), preview("dr", root=root)]
    chart = parse(graph.mermaid(graph.build(plans)))
    east, west = "us-east-1", "us-west-2"
    roles = {
        (east, "orders-db"): "RDS instance · primary",
        (west, "orders-replica"): "RDS instance · read replica",
        (east, "sessions-global"): "DocumentDB global cluster · global",
        (west, "sessions"): "DocumentDB cluster · passive",
        (west, "cache"): "ElastiCache replication group · secondary",
        (east, "cache-global"): "ElastiCache global datastore · global",
        (east, "vault"): "Backup vault · active",
        (east, "api-check"): "Route 53 health check · HTTPS api-us-east-1.reskflow.example/health "
        "every 10 s × 3",
        (west, "api-check"): "Route 53 health check · drained: disabled + inverted",
        (east, "PRIMARY"): "Route 53 failover record · PRIMARY · us-east-1",
        (west, "SECONDARY"): "Route 53 failover record · SECONDARY · us-west-2",
        (east, "3 replicas"): "Deployment · namespace reskflow · 3 replicas",
        (west, "0 replicas"): "Deployment · namespace reskflow · 0 replicas",
        (east, "ledger"): "data store (aws:dynamodb/table:Table) · active",
    }
    for (region, needle), line in roles.items():
        assert line in chart.node(region, needle).lines
    for r in data_stores(plans):
        chart.node(r.region, r.name)
    names = {n.name for n in chart.nodes.values()}
    assert not names & {"www", "alerts", "plan"}  # plain record, topic, plan: not drawn

    record = "Route 53 failover record"
    docdb, cache = (
        "DocumentDB global · RPO typ. < 1 s (async)",
        "ElastiCache global · RPO typ. < 1 s (async)",
    )
    copy = "backup copy 'daily', kept 7 d · RPO 1 interval of cron(0 5 ? * * *)"
    expected = {
        ((east, "orders-db"), (west, "orders-replica"), "RDS read replica · RPO seconds (async)"),
        ((east, "sessions-global"), (east, "reskflow-sessions-east"), docdb),
        ((east, "sessions-global"), (west, "reskflow-sessions-west"), docdb),
        ((east, "reskflow-cache-east"), (east, "cache-global"), "global datastore primary"),
        ((east, "cache-global"), (west, "reskflow-cache-west"), cache),
        ((east, "vault"), (west, "vault"), copy),
        ((west, "vault"), (east, "vault"), copy),
        ((east, record), (east, "api-check"), "health check"),
        ((west, record), (west, "api-check"), "health check"),
    }
    drawn = {((e.src.region, e.src.name), (e.dst.region, e.dst.name), e.label) for e in chart.edges}
    wanted = {
        ((a[0], chart.node(*a).name), (b[0], chart.node(*b).name), label)
        for a, b, label in expected
    }
    assert drawn == wanted
    assert_arrows(chart, cross_region_references(plans))


def test_dot_has_a_cluster_per_region_and_thick_cross_region_edges(plan_of: PlanOf) -> None:
    topology = graph.build(default_plans(plan_of))
    text = graph.dot(topology)
    assert 'label="us-east-1 · stack prod · active";' in text
    assert 'label="us-west-2 · stack dr · passive";' in text
    edges = [line for line in text.splitlines() if " -> " in line]
    assert len(edges) == len(topology.edges) >= 11
    cross = [line for line in edges if "penwidth=2" in line]
    assert len(cross) == len([e for e in topology.edges if e.cross_region]) >= 11


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_svg_through_graphviz(tmp_path: Path, plan_of: PlanOf) -> None:
    out = tmp_path / "topology.svg"
    assert main(["graph", "prod", "--format", "svg", "--output", str(out), "--quiet"]) == 0
    svg = html.unescape(out.read_text())  # Graphviz writes "-" as "&#45;"
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for bucket in plan_of("prod").outputs["buckets"].values():
        assert bucket in svg


def test_image_without_graphviz_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(graph.shutil, "which", lambda _name: None)
    monkeypatch.delenv("CI", raising=False)
    assert main(["graph", "all", "--format", "png"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "reskflow-dr: --format png needs Graphviz's `dot`, which is not installed: install "
        "graphviz (e.g. apt-get install graphviz) or use --format mermaid"
    ]


def test_graph_all_prints_the_mermaid_of_every_stack(
    plan_of: PlanOf, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["graph", "all", "--quiet"]) == 0
    assert capsys.readouterr().out == graph.mermaid(graph.build(default_plans(plan_of)))


def test_update_rewrites_between_markers(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("# T\n<!-- topology:start -->\nold\n<!-- topology:end -->\ntail\n")
    assert main(["graph", "prod", "--update", str(doc), "--quiet"]) == 0
    text = doc.read_text()
    assert "old" not in text and text.startswith("# T\n<!-- topology:start -->\n```mermaid\n")
    assert text.endswith("```\n<!-- topology:end -->\ntail\n")
    (tmp_path / "bare.md").write_text("no markers\n")
    assert main(["graph", "prod", "--update", str(tmp_path / "bare.md"), "--quiet"]) == 2


def test_docs_show_the_current_topology(plan_of: PlanOf) -> None:
    """docs/ (and the README, once it has the markers) hold `reskflow-dr graph all`'s output:
    `make docs` regenerates them."""
    diagram = f"```mermaid\n{graph.mermaid(graph.build(default_plans(plan_of)))}```"
    marked = [
        path
        for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
        if "<!-- topology:start -->" in path.read_text(encoding="utf-8")
    ]
    assert ROOT / "docs" / "topology.md" in marked
    for path in marked:
        assert diagram in path.read_text(encoding="utf-8"), f"{path}: run `make docs`"
