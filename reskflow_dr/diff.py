"""The drill diff: one stack's plan under its current config against its plan under the target
config, and the data-safety verdict on it.

Resources are matched by URN. A resource in both plans whose inputs differ is updated or replaced:
each changed input path is looked up in the replacement table (``data/replacement.json``, built
from the provider's schema). A path the table does not classify is "replacement unknown", never
assumed safe. A resource whose provider's region changes is replaced with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from reskflow_dr.engine import Plan, PlannedResource

TABLE_PATH = Path(__file__).resolve().parent / "data" / "replacement.json"

Effect = Literal["update", "replace", "unknown"]
Action = Literal["create", "update", "replace", "unknown", "delete"]
#: Options that keep data alive: Pulumi refuses to delete a protected resource, and leaves a
#: retained one in AWS when it leaves the program.
PROTECTIONS = ("protect", "retainOnDelete")
#: Marks an input present on one side of a change only.
ABSENT = object()


@dataclass(frozen=True)
class TypeRules:
    """What the replacement table says about one resource type."""

    data_bearing: bool
    source: str
    replace: frozenset[str]
    update: frozenset[str]
    conditional: Mapping[str, str]


@dataclass(frozen=True)
class ReplacementTable:
    types: Mapping[str, TypeRules]
    all_types: Mapping[str, str]
    """Properties that force a new resource on every AWS type (``region``), with their source."""

    def rules(self, type_: str) -> TypeRules | None:
        return self.types.get(type_)

    def is_data_bearing(self, type_: str) -> bool:
        rules = self.types.get(type_)
        return rules is not None and rules.data_bearing

    def classify(self, type_: str, path: str) -> tuple[Effect, str]:
        """The effect of a change at ``path`` (``a.b[0].c``) on a ``type_`` resource, and why."""
        dotted = _dotted(path)
        top = dotted.split(".")[0]
        if top in self.all_types and (type_.startswith("aws:") or type_ in self.types):
            return "replace", self.all_types[top]
        rules = self.types.get(type_)
        if rules is None:
            return "unknown", f"{type_} is not in the replacement table"
        entry = _longest_prefix(dotted, [*rules.replace, *rules.update, *rules.conditional])
        if entry is None:
            return "unknown", f"{top} is not in the replacement table for {type_}"
        if entry in rules.conditional:
            return "unknown", f"{entry}: {rules.conditional[entry]}"
        if entry in rules.replace:
            return "replace", f"{entry} forces a new resource ({rules.source})"
        return "update", f"{entry} updates in place"


def _dotted(path: str) -> str:
    return re.sub(r"\[\d+\]", "", path)


def _longest_prefix(dotted: str, entries: list[str]) -> str | None:
    matches = [e for e in entries if dotted == e or dotted.startswith(e + ".")]
    return max(matches, key=len) if matches else None


@cache
def load_table(path: Path = TABLE_PATH) -> ReplacementTable:
    doc = json.loads(path.read_text(encoding="utf-8"))
    types = {
        token: TypeRules(
            data_bearing=bool(spec["dataBearing"]),
            source=str(spec["source"]),
            replace=frozenset(spec["replace"]),
            update=frozenset(spec["update"]),
            conditional=dict(spec.get("conditional", {})),
        )
        for token, spec in doc["types"].items()
    }
    return ReplacementTable(types=types, all_types=dict(doc["all"]["replace"]))


# --------------------------------------------------------------------------------------------
# Diffing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    path: str
    before: Any
    after: Any
    effect: Effect
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "before": _jsonable(self.before),
            "after": _jsonable(self.after),
            "effect": self.effect,
            "reason": self.reason,
        }


def _jsonable(value: Any) -> Any:
    return None if value is ABSENT else value


@dataclass(frozen=True)
class ResourceDiff:
    urn: str
    type: str
    name: str
    region: str
    action: Action
    data_bearing: bool
    options_before: Mapping[str, Any]
    options_after: Mapping[str, Any]
    changes: tuple[Change, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "region": self.region,
            "action": self.action,
            "dataBearing": self.data_bearing,
            "changes": [c.to_json() for c in self.changes],
        }


@dataclass(frozen=True)
class PlanDiff:
    stack: str
    region: str
    resources: tuple[ResourceDiff, ...]
    unchanged: int
    data_bearing_checked: int

    def by_action(self, action: Action) -> list[ResourceDiff]:
        return [r for r in self.resources if r.action == action]

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "region": self.region,
            "creates": [r.to_json() for r in self.by_action("create")],
            "updates": [r.to_json() for r in self.by_action("update")],
            "replaces": [r.to_json() for r in self.by_action("replace")],
            "replacementUnknown": [r.to_json() for r in self.by_action("unknown")],
            "deletes": [r.to_json() for r in self.by_action("delete")],
            "unchanged": self.unchanged,
        }


def input_changes(before: Any, after: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Every leaf where ``after`` differs from ``before``, by input path (``a.b[0].c``)."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            sub = f"{path}.{key}" if path else key
            yield from input_changes(before.get(key, ABSENT), after.get(key, ABSENT), sub)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            yield from input_changes(b, a, f"{path}[{i}]")
    elif before != after:
        yield path, before, after


def is_data_bearing(r: PlannedResource, table: ReplacementTable) -> bool:
    return any(r.options.get(o) for o in PROTECTIONS) or table.is_data_bearing(r.type)


def _provider_urn(ref: str) -> str:
    return ref.rsplit("::", 1)[0] if ref else ""


def _replaced_providers(
    current: Mapping[str, PlannedResource], target: Mapping[str, PlannedResource]
) -> dict[str, str]:
    """Provider URN -> reason, for providers whose region changes."""
    out = {}
    for urn, after in target.items():
        before = current.get(urn)
        if before is None or not after.type.startswith("pulumi:providers:"):
            continue
        if before.inputs.get("region") != after.inputs.get("region"):
            out[urn] = (
                f"its provider {after.name} moves from {before.inputs.get('region')} to "
                f"{after.inputs.get('region')}: every resource of the provider is replaced"
            )
    return out


def _protections(r: PlannedResource) -> tuple[bool, ...]:
    """The options that matter to a diff: dependsOn order varies between runs and changes nothing
    in AWS, so only protect and retainOnDelete are compared."""
    return tuple(bool(r.options.get(o)) for o in PROTECTIONS)


def _action(changes: list[Change]) -> Action:
    effects = {c.effect for c in changes}
    if "replace" in effects:
        return "replace"
    return "unknown" if "unknown" in effects else "update"


def _ignored(path: str, ignore_changes: tuple[str, ...]) -> bool:
    """Pulumi keeps the old value of a property named in ``ignoreChanges`` (or below one), so it
    never reaches the provider's diff."""
    return any(
        path == entry or path.startswith((f"{entry}.", f"{entry}[")) for entry in ignore_changes
    )


def _changed(
    before: PlannedResource,
    after: PlannedResource,
    table: ReplacementTable,
    replaced_providers: Mapping[str, str],
) -> list[Change]:
    ignored = tuple(after.options.get("ignoreChanges") or ())
    changes = [
        Change(path, b, a, *table.classify(after.type, path))
        for path, b, a in input_changes(before.inputs, after.inputs)
        if not _ignored(path, ignored)
    ]
    provider = _provider_urn(after.provider)
    if provider in replaced_providers:
        changes.append(
            Change(
                "(provider)", before.region, after.region, "replace", replaced_providers[provider]
            )
        )
    return changes


def diff_plans(current: Plan, target: Plan, table: ReplacementTable | None = None) -> PlanDiff:
    """The diff of one stack between its current and its target plan."""
    table = table or load_table()
    before, after = current.by_urn(), target.by_urn()
    replaced_providers = _replaced_providers(before, after)
    out: list[ResourceDiff] = []
    unchanged = 0
    for urn in sorted(set(before) | set(after)):
        b, a = before.get(urn), after.get(urn)
        some = a or b
        assert some is not None
        if b is None or a is None:
            action: Action = "create" if b is None else "delete"
            changes: list[Change] = []
        else:
            changes = _changed(b, a, table, replaced_providers)
            if not changes and _protections(b) == _protections(a):
                unchanged += 1
                continue
            action = _action(changes) if changes else "update"
        out.append(
            ResourceDiff(
                urn=urn,
                type=some.type,
                name=some.name,
                region=some.region,
                action=action,
                data_bearing=is_data_bearing(some, table),
                options_before=dict(b.options) if b else {},
                options_after=dict(a.options) if a else {},
                changes=tuple(changes),
            )
        )
    checked = sum(1 for r in {**before, **after}.values() if is_data_bearing(r, table))
    return PlanDiff(
        stack=target.stack,
        region=str(target.outputs.get("region", "")),
        resources=tuple(out),
        unchanged=unchanged,
        data_bearing_checked=checked,
    )


# --------------------------------------------------------------------------------------------
# Data safety
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One data-bearing resource the plan would put at risk, and why."""

    stack: str
    type: str
    name: str
    urn: str
    problem: str
    properties: tuple[str, ...] = ()

    def line(self) -> str:
        props = f" [{', '.join(self.properties)}]" if self.properties else ""
        return f"{self.stack}: {self.type} {self.name}: {self.problem}{props}"

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "type": self.type,
            "name": self.name,
            "urn": self.urn,
            "problem": self.problem,
            "properties": list(self.properties),
        }


@dataclass(frozen=True)
class Verdict:
    findings: tuple[Finding, ...] = ()
    checked: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def safe(self) -> bool:
        return not self.findings


def _paths(r: ResourceDiff, effect: Effect) -> tuple[str, ...]:
    return tuple(c.path for c in r.changes if c.effect == effect)


def _finding(r: ResourceDiff, stack: str, problem: str, props: tuple[str, ...] = ()) -> Finding:
    return Finding(stack, r.type, r.name, r.urn, problem, props)


def _resource_findings(r: ResourceDiff, stack: str) -> Iterator[Finding]:
    if r.action == "replace":
        yield _finding(r, stack, "replaced: a new, empty resource", _paths(r, "replace"))
    if r.action in ("replace", "unknown") and _paths(r, "unknown"):
        problem = "replacement unknown: not proven to update in place"
        yield _finding(r, stack, problem, _paths(r, "unknown"))
    if r.action == "delete" and not r.options_before.get("retainOnDelete"):
        yield _finding(r, stack, "deleted from AWS (not retainOnDelete)")
    elif r.action == "delete" and r.options_before.get("protect"):
        problem = "removed while protected: pulumi up stops with an error (keep it declared)"
        yield _finding(r, stack, problem)
    if r.action != "delete":
        dropped = tuple(
            o for o in PROTECTIONS if r.options_before.get(o) and not r.options_after.get(o)
        )
        if dropped:
            yield _finding(r, stack, "protection removed", dropped)


def verdict(diffs: list[PlanDiff]) -> Verdict:
    """No data-bearing resource deleted (unless retained), replaced, replaced-maybe, or
    unprotected. Each finding names the resource and the properties that cause it."""
    findings: list[Finding] = []
    notes: list[str] = []
    for d in diffs:
        for r in d.resources:
            if not r.data_bearing:
                continue
            findings.extend(_resource_findings(r, d.stack))
            kept = r.options_before.get("retainOnDelete") and not r.options_before.get("protect")
            if r.action == "delete" and kept:
                notes.append(f"{d.stack}: {r.type} {r.name} leaves the stack, kept in AWS")
    return Verdict(tuple(findings), sum(d.data_bearing_checked for d in diffs), tuple(notes))


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------

_LABELS: tuple[tuple[Action, str], ...] = (
    ("create", "to create"),
    ("update", "to update"),
    ("replace", "to replace"),
    ("unknown", "replacement unknown"),
    ("delete", "to delete"),
)
_SYMBOL: dict[Action, str] = {
    "create": "+",
    "update": "~",
    "replace": "+-",
    "unknown": "?",
    "delete": "-",
}


def _short(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def render_diff(d: PlanDiff) -> str:
    counts = ", ".join(f"{len(d.by_action(a))} {label}" for a, label in _LABELS)
    lines = [f"Diff {d.stack} ({d.region}): {counts}; {d.unchanged} unchanged"]
    for r in d.resources:
        flag = " [data]" if r.data_bearing else ""
        lines.append(f"  {_SYMBOL[r.action]:>2} {r.type} {r.name}{flag}")
        for c in r.changes:
            lines.append(f"       {c.path}: {_short(c.before)} -> {_short(c.after)}  ({c.effect})")
        for o in PROTECTIONS:
            if r.action not in ("create", "delete") and r.options_before.get(
                o
            ) != r.options_after.get(o):
                lines.append(
                    f"       option {o}: {r.options_before.get(o)} -> {r.options_after.get(o)}"
                )
    return "\n".join(lines)


def render_verdict(v: Verdict) -> str:
    if v.safe:
        head = (
            f"Data safety: SAFE - no data-bearing resource is deleted, replaced or unprotected "
            f"({v.checked} data-bearing resources checked)"
        )
        return "\n".join([head, *(f"  note: {n}" for n in v.notes)])
    lines = [f"Data safety: UNSAFE - {len(v.findings)} finding(s); nothing may run:"]
    lines += [f"  {f.line()}" for f in v.findings]
    return "\n".join(lines)
