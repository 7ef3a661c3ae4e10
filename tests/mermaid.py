"""A reader for the Mermaid flowcharts ``reskflow-dr graph`` writes, for assertions on the text
itself: nodes with their label lines and region, arrows with their label."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SUBGRAPH = re.compile(r'^\s*subgraph (\w+)\["(?P<title>.*)"\]$')
_NODE = re.compile(
    r'^\s*(?P<id>\w+)(\[\(|\{\{|\[\[|\(\[|>|\[)"(?P<label>.*)"(\)\]|\}\}|\]\]|\]\)|\])$'
)
_EDGE = re.compile(r'^\s*(?P<src>\w+) (?P<arrow>==>|-->|-\.->)\|"(?P<label>.*)"\| (?P<dst>\w+)$')


@dataclass(frozen=True)
class MermaidNode:
    id: str
    lines: tuple[str, ...]
    region: str
    """The first word of the subgraph title (a region), or "" outside any subgraph."""

    @property
    def name(self) -> str:
        return self.lines[0]


@dataclass(frozen=True)
class MermaidEdge:
    src: MermaidNode
    dst: MermaidNode
    arrow: str
    label: str


@dataclass
class Flowchart:
    nodes: dict[str, MermaidNode] = field(default_factory=dict)
    edges: list[MermaidEdge] = field(default_factory=list)
    external: set[str] = field(default_factory=set)

    def node(self, region: str, *needles: str) -> MermaidNode:
        """The one node in ``region`` whose label lines include every needle; among several,
        the one named by the first needle."""
        found = [
            n
            for n in self.nodes.values()
            if n.region == region and all(any(x in line for line in n.lines) for x in needles)
        ]
        if len(found) > 1:
            found = [n for n in found if n.name == needles[0]]
        assert len(found) == 1, f"expected one node {needles} in {region!r}, found {found}"
        return found[0]


def unescape(text: str) -> str:
    return text.replace("#quot;", '"').replace("#lt;", "<").replace("#gt;", ">")


def parse(text: str) -> Flowchart:
    """Every line must be one the writer produces: anything else fails the parse."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    chart, region, edges = Flowchart(), "", []
    for line in lines[1:]:
        if sub := _SUBGRAPH.match(line):
            region = sub["title"].split(" ")[0]
        elif line.strip() == "end":
            region = ""
        elif node := _NODE.match(line):
            lines = tuple(unescape(node["label"]).split("<br/>"))
            chart.nodes[node["id"]] = MermaidNode(node["id"], lines, region)
        elif edge := _EDGE.match(line):
            edges.append(edge)
        elif line.strip().startswith("class ") and line.strip().endswith(" external"):
            chart.external = set(line.split()[1].split(","))
        else:
            assert line.strip() in ("direction TB", "classDef external stroke-dasharray: 5 5"), line
    chart.edges = [
        MermaidEdge(chart.nodes[e["src"]], chart.nodes[e["dst"]], e["arrow"], unescape(e["label"]))
        for e in edges
    ]
    return chart
