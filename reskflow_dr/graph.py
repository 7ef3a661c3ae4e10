"""The DR topology drawn from offline plans: regions, data stores with their roles, replication
and backup-copy arrows with their recovery point, failover records, health checks, workloads.

Everything is derived from the plans by resource type (the table :data:`KINDS`), so a tier that
lands later is drawn as soon as its resources are in the plan. A reference that no plan declares
(the peer stack's bucket when only one stack is drawn) becomes a dashed node, "not in these plans".

    topology = build([plan_prod, plan_dr])
    mermaid(topology)            # for PR comments, job summaries and docs
    dot(topology)                # Graphviz; image(dot(topology), "svg") where Graphviz is installed
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pulumi

from infra.settings import AWS_REGION_KEY
from reskflow_dr.engine import UNKNOWN, Plan, PlannedResource
from reskflow_dr.mocks import PlanMocks
from reskflow_dr.stackfiles import UsageError

SELF = ""
"""In a :class:`Link`, the resource that declares it."""
MULTI_REGION_PRIMARY = "multi-Region primary"
NOT_IN_PLANS = "not in these plans"

Inputs = dict[str, Any]


class Link(NamedTuple):
    """An arrow a resource declares. ``src``/``dst`` are references (a name, an id, an ARN)
    resolved against every plan drawn, or :data:`SELF`."""

    src: str
    dst: str
    kind: str
    mechanism: str
    rpo: str = ""
    far_region: str = ""
    """Region of the referenced end when the reference does not carry it (S3 ARNs)."""
    far_shape: str = "store"
    """Shape of the referenced end when no plan declares it."""


def _get(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _list(data: Any, *path: str) -> list[Any]:
    value = _get(data, *path)
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Arn:
    service: str
    region: str
    resource: str
    """The last part of the resource: a bucket, a DB identifier, a vault name, a key id."""


def parse_arn(value: str) -> Arn | None:
    parts = value.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    return Arn(parts[2], parts[3], re.split(r"[:/]", parts[5])[-1])


# --- per-type knowledge: roles, details and links -------------------------------------------


def _s3_replication(i: Inputs) -> Iterator[Link]:
    for rule in _list(i, "rules"):
        if rule.get("status") != "Enabled":
            continue
        minutes = _get(rule, "destination", "replicationTime", "time", "minutes")
        rtc = _get(rule, "destination", "replicationTime", "status") == "Enabled"
        rpo = f"{minutes} min (RTC)" if rtc and minutes else "no guarantee (no RTC)"
        dest = str(_get(rule, "destination", "bucket") or "")
        # S3 re-encrypts replicas with a key of the destination region: its ARN names the region.
        key = parse_arn(
            str(_get(rule, "destination", "encryptionConfiguration", "replicaKmsKeyId"))
        )
        region = key.region if key else ""
        yield Link(str(i.get("bucket", "")), dest, "replication", "S3 replication", rpo, region)


def _backup_copies(i: Inputs) -> Iterator[Link]:
    for rule in _list(i, "rules"):
        schedule = rule.get("schedule") or "continuous"
        for copy in _list(rule, "copyActions"):
            kept = _get(copy, "lifecycle", "deleteAfter")
            mechanism = f"backup copy '{rule.get('ruleName')}'" + (
                f", kept {kept} d" if kept else ""
            )
            dest = str(copy.get("destinationVaultArn", ""))
            rpo = f"1 interval of {schedule}"
            yield Link(str(rule.get("targetVaultName", "")), dest, "copy", mechanism, rpo)


def _source(
    key: str, kind: str, mechanism: str, rpo: str = "", shape: str = "store"
) -> Callable[[Inputs], Iterator[Link]]:
    """A link from the resource named by input ``key`` to the declaring resource."""

    def links(i: Inputs) -> Iterator[Link]:
        if i.get(key):
            yield Link(str(i[key]), SELF, kind, mechanism, rpo, far_shape=shape)

    return links


def _health_link(i: Inputs) -> Iterator[Link]:
    if i.get("healthCheckId"):
        yield Link(SELF, str(i["healthCheckId"]), "health", "health check", far_shape="check")


def _health_details(i: Inputs) -> str:
    if i.get("disabled") and i.get("invertHealthcheck"):
        return "drained: disabled + inverted"
    target = f"{i.get('fqdn') or i.get('ipAddress') or ''}{i.get('resourcePath') or ''}"
    every = f"every {i.get('requestInterval', 30)} s × {i.get('failureThreshold', 3)}"
    return " ".join(str(part) for part in (i.get("type", ""), target, every) if part)


def _failover_type(i: Inputs) -> str:
    return " ".join(str(p.get("type", "")) for p in _list(i, "failoverRoutingPolicies"))


@dataclass(frozen=True)
class Kind:
    """How one resource type is drawn. ``shape`` None: not drawn, only its links are."""

    label: str
    shape: str | None = "store"
    names: tuple[str, ...] = ()
    """Inputs holding the physical name that other resources reference."""
    role: Callable[[Inputs, str], str] = lambda _i, stack_role: stack_role
    """The node's role from its inputs and its stack's role."""
    links: Callable[[Inputs], Iterator[Link]] = lambda _i: iter(())
    keep: Callable[[Inputs], bool] = lambda _i: True
    suffix_names: bool = False
    """References carry a prefix AWS adds (an ElastiCache global datastore id)."""


#: AWS: global clusters and global datastores replicate asynchronously, typically under a second.
_GLOBAL_RPO = "typ. < 1 s (async)"

#: Every resource type the diagram recognises. Protected and retained resources of any other
#: type are drawn as plain data stores.
KINDS: dict[str, Kind] = {
    "aws:s3/bucket:Bucket": Kind("S3 bucket", names=("bucket",)),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": Kind(
        "S3 replication", shape=None, links=_s3_replication
    ),
    "aws:kms/key:Key": Kind(
        "KMS key",
        shape="key",
        role=lambda i, _r: MULTI_REGION_PRIMARY if i.get("multiRegion") else "single-Region",
    ),
    "aws:kms/replicaKey:ReplicaKey": Kind(
        "KMS replica key",
        shape="key",
        role=lambda _i, _r: "replica",
        links=_source("primaryKeyArn", "key", "multi-Region replica key", shape="key"),
    ),
    "aws:rds/instance:Instance": Kind(
        "RDS instance",
        names=("identifier",),
        role=lambda i, _r: "read replica" if i.get("replicateSourceDb") else "primary",
        links=_source("replicateSourceDb", "replication", "RDS read replica", "seconds (async)"),
    ),
    "aws:docdb/globalCluster:GlobalCluster": Kind(
        "DocumentDB global cluster",
        shape="global",
        names=("globalClusterIdentifier",),
        role=lambda _i, _r: "global",
        links=_source("sourceDbClusterIdentifier", "replication", "global cluster source"),
    ),
    "aws:docdb/cluster:Cluster": Kind(
        "DocumentDB cluster",
        names=("clusterIdentifier",),
        links=_source(
            "globalClusterIdentifier", "replication", "DocumentDB global", _GLOBAL_RPO, "global"
        ),
    ),
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": Kind(
        "ElastiCache global datastore",
        shape="global",
        names=("globalReplicationGroupIdSuffix",),
        role=lambda _i, _r: "global",
        links=_source("primaryReplicationGroupId", "replication", "global datastore primary"),
        suffix_names=True,
    ),
    "aws:elasticache/replicationGroup:ReplicationGroup": Kind(
        "ElastiCache replication group",
        names=("replicationGroupId",),
        role=lambda i, r: "secondary" if i.get("globalReplicationGroupId") else r,
        links=_source(
            "globalReplicationGroupId", "replication", "ElastiCache global", _GLOBAL_RPO, "global"
        ),
    ),
    "aws:backup/vault:Vault": Kind("Backup vault", names=("name",)),
    "aws:backup/plan:Plan": Kind("Backup plan", shape=None, links=_backup_copies),
    "aws:route53/healthCheck:HealthCheck": Kind(
        "Route 53 health check", shape="check", role=lambda i, _r: _health_details(i)
    ),
    "aws:route53/record:Record": Kind(
        "Route 53 failover record",
        shape="record",
        names=("name",),
        role=lambda i, _r: f"{_failover_type(i)} · {i.get('setIdentifier', '')}".strip(" ·"),
        links=_health_link,
        keep=lambda i: bool(i.get("failoverRoutingPolicies") or i.get("healthCheckId")),
    ),
    "kubernetes:apps/v1:Deployment": Kind(
        "Deployment",
        shape="workload",
        names=("metadata.name",),
        role=lambda i, _r: (
            f"namespace {_get(i, 'metadata', 'namespace') or 'default'} · "
            f"{_get(i, 'spec', 'replicas')} replicas"
        ),
    ),
}


# --- the graph model ------------------------------------------------------------------------


@dataclass
class Node:
    id: str
    label: str
    """The logical name, or the physical name for a node not in the plans."""
    detail: str
    """The physical name, when the plan knows it."""
    kind: str
    role: str
    region: str
    shape: str
    declared: bool = True
    names: set[str] = field(default_factory=set)
    """Every string another resource may use to reference it: names, mocked id and ARN."""
    token: str = ""


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    kind: str
    mechanism: str
    rpo: str
    cross_region: bool


@dataclass
class Topology:
    regions: dict[str, str]
    """Region -> its title (stack and role)."""
    nodes: dict[str, Node]
    edges: list[Edge]


def _node_id(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", "_".join(parts)).strip("_")


def _stack_role(plan: Plan) -> str:
    return str(plan.outputs.get("role") or plan.config.get(f"{plan.project}:role") or "?")


def _physical(r: PlannedResource, kind: Kind) -> list[str]:
    values = [_get(r.inputs, *name.split(".")) for name in kind.names]
    return [v for v in values if isinstance(v, str) and v and v != UNKNOWN]


def _mocked_identity(r: PlannedResource, account: str) -> set[str]:
    """The id and ARN the offline mocks gave the resource, which other inputs carry."""
    mocks = PlanMocks(account, r.region)
    args = pulumi.runtime.MockResourceArgs(r.type, r.name, dict(r.inputs), custom=True)
    resource_id, state = mocks.new_resource(args)
    return {str(v) for v in (resource_id, state.get("arn")) if v}


def _node(plan: Plan, r: PlannedResource, kind: Kind) -> Node:
    physical = _physical(r, kind)
    account = str(plan.config.get(f"{plan.project}:accountId", ""))
    return Node(
        id=_node_id(plan.stack, r.type.split(":")[1], r.name),  # type and name: unique
        label=r.name,
        detail=next((name for name in physical if name != r.name), ""),
        kind=kind.label,
        role=kind.role(r.inputs, _stack_role(plan)),
        region=r.region,
        shape=kind.shape or "store",
        names={*physical, *_mocked_identity(r, account)},
        token=r.type,
    )


def _kind_of(r: PlannedResource) -> Kind | None:
    kind = KINDS.get(r.type)
    if kind is not None:
        return kind if kind.keep(r.inputs) else None
    protected = r.options.get("protect") and r.options.get("retainOnDelete")
    return Kind(f"data store ({r.type})") if r.custom and protected else None


class _Resolver:
    """Finds the node a reference names, or adds a dashed node for one no plan declares."""

    def __init__(self, nodes: dict[str, Node]) -> None:
        self.nodes = nodes

    def __call__(self, ref: str, region: str, link: Link) -> Node | None:
        """``region``: the declaring resource's; plain names are looked up there first."""
        if not ref or ref == UNKNOWN:
            return None
        arn = parse_arn(ref)
        found = self._by_name(ref, region) or (self._by_arn(arn) if arn else None)
        return found or self._external(ref, arn, link)

    def _declared(self) -> Iterator[Node]:
        return (n for n in self.nodes.values() if n.declared)

    def _by_name(self, ref: str, region: str) -> Node | None:
        named = [n for n in self._declared() if ref in n.names or self._suffix(n, ref)]
        # Plain names may repeat across regions (one identifier per stack): prefer the same one.
        return next((n for n in named if n.region == region), named[0] if named else None)

    @staticmethod
    def _suffix(node: Node, ref: str) -> bool:
        kind = KINDS.get(node.token)
        return bool(kind and kind.suffix_names) and any(ref.endswith(f"-{n}") for n in node.names)

    def _by_arn(self, arn: Arn) -> Node | None:
        in_region = [n for n in self._declared() if n.region == arn.region]
        found = next((n for n in in_region if arn.resource in n.names), None)
        if found is None and arn.service == "kms":
            # Peer key ids come from config, not from the other stack's state: the multi-Region
            # primary declared in that region is the key meant.
            found = next((n for n in in_region if n.role == MULTI_REGION_PRIMARY), None)
        return found

    def _external(self, ref: str, arn: Arn | None, link: Link) -> Node:
        name = arn.resource if arn else ref
        region = (arn.region if arn else "") or link.far_region
        node_id = _node_id("ext", region, name)
        if node_id not in self.nodes:
            kind = f"{arn.service} resource" if arn else "reference"
            node = Node(node_id, name, "", kind, NOT_IN_PLANS, region, link.far_shape, False)
            node.names.add(name)
            self.nodes[node_id] = node
        return self.nodes[node_id]


def _links(plan: Plan, nodes_by_urn: dict[str, Node], resolve: _Resolver) -> Iterator[Edge]:
    for r in plan.resources:
        kind = KINDS.get(r.type)
        if kind is None or not kind.keep(r.inputs):
            continue
        anchor = nodes_by_urn.get(r.urn)
        for link in kind.links(r.inputs):
            src = anchor if link.src == SELF else resolve(link.src, r.region, link)
            dst = anchor if link.dst == SELF else resolve(link.dst, r.region, link)
            if src is None or dst is None:
                continue
            cross = bool(src.region and dst.region and src.region != dst.region)
            yield Edge(src.id, dst.id, link.kind, link.mechanism, link.rpo, cross)


def build(plans: Sequence[Plan]) -> Topology:
    """The topology of one or more stacks' plans, arrows resolved across all of them."""
    nodes: dict[str, Node] = {}
    by_urn: dict[str, Node] = {}
    regions: dict[str, str] = {}
    for plan in plans:
        region = str(plan.config.get(AWS_REGION_KEY.name) or plan.outputs.get("region") or "")
        regions[region] = f"{region} · stack {plan.stack} · {_stack_role(plan)}"
        for r in plan.resources:
            kind = _kind_of(r)
            if kind is not None and kind.shape is not None:
                node = _node(plan, r, kind)
                by_urn[r.urn] = nodes.setdefault(node.id, node)
    resolve = _Resolver(nodes)
    edges = {edge for plan in plans for edge in _links(plan, by_urn, resolve)}
    for node in nodes.values():
        if node.region and node.region not in regions:
            regions[node.region] = f"{node.region} · {NOT_IN_PLANS}"
    return Topology(
        regions=dict(sorted(regions.items())),
        nodes=dict(sorted(nodes.items())),
        edges=sorted(edges, key=lambda e: (e.kind, e.src, e.dst, e.mechanism)),
    )


# --- Mermaid --------------------------------------------------------------------------------

_MERMAID_SHAPES = {
    "store": ('[("', '")]'),
    "key": ('{{"', '"}}'),
    "global": ('[["', '"]]'),
    "check": ('(["', '"])'),
    "record": ('>"', '"]'),
    "workload": ('["', '"]'),
}
_MERMAID_ARROWS = {"health": "-.->", "key": "-.->"}


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _lines(node: Node) -> list[str]:
    return [
        part
        for part in (node.label, node.detail, f"{node.kind} · {node.role}" if node.role else "")
        if part
    ]


def edge_label(edge: Edge) -> str:
    return f"{edge.mechanism} · RPO {edge.rpo}" if edge.rpo else edge.mechanism


def mermaid(topology: Topology) -> str:
    """A Mermaid flowchart: one subgraph per region; cross-region arrows thick (``==>``)."""
    out = ["flowchart LR"]

    def node_line(node: Node, indent: str) -> str:
        left, right = _MERMAID_SHAPES[node.shape]
        label = "<br/>".join(_mermaid_text(line) for line in _lines(node))
        return f"{indent}{node.id}{left}{label}{right}"

    for region, title in topology.regions.items():
        out.append(f'  subgraph {_node_id("region", region)}["{_mermaid_text(title)}"]')
        out.append("    direction TB")
        out += [node_line(n, "    ") for n in topology.nodes.values() if n.region == region]
        out.append("  end")
    out += [node_line(n, "  ") for n in topology.nodes.values() if not n.region]
    for e in topology.edges:
        arrow = _MERMAID_ARROWS.get(e.kind, "==>" if e.cross_region else "-->")
        out.append(f'  {e.src} {arrow}|"{_mermaid_text(edge_label(e))}"| {e.dst}')
    external = [n.id for n in topology.nodes.values() if not n.declared]
    if external:
        out.append("  classDef external stroke-dasharray: 5 5")
        out.append(f"  class {','.join(external)} external")
    return "\n".join(out) + "\n"


# --- Graphviz -------------------------------------------------------------------------------

_DOT_SHAPES = {
    "store": "cylinder",
    "key": "hexagon",
    "global": "box3d",
    "check": "ellipse",
    "record": "cds",
    "workload": "box",
}


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def dot(topology: Topology) -> str:
    """The same drawing as Graphviz DOT: one cluster per region."""
    font = 'fontname="Helvetica"'
    out = ["digraph reskflow_dr {", "  rankdir=LR;", f"  graph [{font}];"]
    out += [f"  node [{font}];", f"  edge [{font}, fontsize=10];"]

    def node_line(node: Node, indent: str) -> str:
        label = "\\n".join(_dot_text(line) for line in _lines(node))
        style = "" if node.declared else ", style=dashed"
        return f'{indent}{node.id} [label="{label}", shape={_DOT_SHAPES[node.shape]}{style}];'

    for region, title in topology.regions.items():
        out.append(f"  subgraph cluster_{_node_id(region)} {{")
        out.append(f'    label="{_dot_text(title)}";')
        out += [node_line(n, "    ") for n in topology.nodes.values() if n.region == region]
        out.append("  }")
    out += [node_line(n, "  ") for n in topology.nodes.values() if not n.region]
    for e in topology.edges:
        style = ", style=dashed" if e.kind in _MERMAID_ARROWS else ""
        width = ", penwidth=2" if e.cross_region else ""
        out.append(f'  {e.src} -> {e.dst} [label="{_dot_text(edge_label(e))}"{style}{width}];')
    out.append("}")
    return "\n".join(out) + "\n"


class GraphvizMissingError(UsageError):
    """``dot`` is not on PATH: SVG and PNG need Graphviz."""


IMAGE_FORMATS = ("svg", "png")


def graphviz(fmt: str) -> str:
    """The path of ``dot``; raises :class:`GraphvizMissingError` naming the format asked for."""
    binary = shutil.which("dot")
    if binary is None:
        raise GraphvizMissingError(
            f"--format {fmt} needs Graphviz's `dot`, which is not installed: install graphviz "
            "(e.g. apt-get install graphviz) or use --format mermaid"
        )
    return binary


def image(dot_text: str, fmt: str) -> bytes:
    """Render DOT with Graphviz's ``dot`` (``fmt``: one of :data:`IMAGE_FORMATS`)."""
    binary = graphviz(fmt)
    result = subprocess.run(
        [binary, f"-T{fmt}"], input=dot_text.encode(), capture_output=True, check=False
    )
    if result.returncode != 0:
        error = result.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"dot -T{fmt} failed: {error[0] if error else result.returncode}")
    return result.stdout


def render(topology: Topology, fmt: str) -> str | bytes:
    """``mermaid`` or ``dot`` as text; ``svg`` or ``png`` as bytes (Graphviz)."""
    if fmt == "mermaid":
        return mermaid(topology)
    return dot(topology) if fmt == "dot" else image(dot(topology), fmt)
