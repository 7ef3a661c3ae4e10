"""Human-readable views: a plan's resource tree like `pulumi preview`, its counts by type, the
policy verdicts, the readiness checks and the RTO/RPO budget; tables fitted to the terminal
(reskflow_dr.tables)."""

from __future__ import annotations

import textwrap
from collections import Counter, defaultdict
from collections.abc import Sequence

from infra.settings import RPO_TARGET_MINUTES_KEY, RTO_TARGET_MINUTES_KEY
from reskflow_dr.budget import Budget, compare, human
from reskflow_dr.engine import Plan, PlannedResource
from reskflow_dr.policy_runner import Verdict
from reskflow_dr.readiness import CheckResult
from reskflow_dr.tables import UNLIMITED, Column, short_type, table, terminal_width


def _flags(r: PlannedResource) -> str:
    flags = []
    if r.options.get("protect"):
        flags.append("protect")
    if r.options.get("retainOnDelete"):
        flags.append("retain")
    return f"[{', '.join(flags)}]" if flags else ""


def _order(r: PlannedResource) -> tuple[bool, bool, str]:
    """Providers first, then plain resources, then components; by name within each group."""
    return (not r.type.startswith("pulumi:providers:"), not r.custom, r.name)


def tree(plan: Plan, width: int | None = None) -> str:
    """The plan as a tree grouped by component, each line: type (shortened as `pulumi preview`
    shows it), name, region and flags; fitted to ``width`` (default: the terminal's)."""
    children: dict[str | None, list[PlannedResource]] = defaultdict(list)
    for r in plan.resources:
        children[r.parent].append(r)
    rows: list[tuple[str, PlannedResource]] = []

    def walk(r: PlannedResource, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        rows.append((f"{prefix}{branch}{short_type(r.type)}", r))
        kids = sorted(children.get(r.urn, []), key=_order)
        extension = "" if top else ("   " if last else "│  ")
        for i, kid in enumerate(kids):
            walk(kid, prefix + extension, i == len(kids) - 1, False)

    for root in sorted(children.get(None, []), key=_order):
        walk(root, "", True, True)
    width = width or terminal_width()
    # Name, Region and Options keep 16 + 9 + 16 columns and their gaps; Type takes the rest.
    columns = [
        Column("Type", max_width=max(24, width - 47)),
        Column("Name", wrap=True),
        Column("Region"),
        Column("Options", wrap=True),
    ]
    cells = [(label, r.name, r.region, _flags(r)) for label, r in rows]
    return table(columns, cells, width)


def counts(plan: Plan) -> str:
    """Resources to create, by type (components included, the stack itself left out)."""
    by_type = Counter(r.type for r in plan.resources if r.type != "pulumi:pulumi:Stack")
    total = sum(by_type.values())
    protected = sum(
        1 for r in plan.resources if r.options.get("protect") and r.options.get("retainOnDelete")
    )
    lines = [f"Resources: {total} to create ({protected} protected and retained)"]
    for type_, n in sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {n:>4}  {short_type(type_)}")
    return "\n".join(lines)


def verdicts(found: Sequence[Verdict], width: int | None = None) -> str:
    """The policy pack's verdicts as a table fitted to the terminal, then the counts."""
    if not found:
        return "policy: no violations"
    columns = [
        Column("POLICY", wrap=True),
        Column("ENFORCEMENT"),
        Column("RESOURCE", wrap=True),
        Column("MESSAGE", wrap=True),
    ]
    rows = [
        (
            v.policy,
            "not checkable" if v.not_checkable else v.enforcement,
            v.resource or "(stack)",
            v.message,
        )
        for v in found
    ]
    mandatory = sum(1 for v in found if v.enforcement == "mandatory" and not v.not_checkable)
    return f"{table(columns, rows, width)}\n{len(found)} verdicts, {mandatory} mandatory"


def readiness(rows: Sequence[CheckResult], width: int | None = None) -> str:
    """Live readiness checks as a table fitted to the terminal, then the outcome."""
    columns = [
        Column("check"),
        Column("target", wrap=True),
        Column("status"),
        Column("detail", wrap=True),
    ]
    cells = [(r.check, r.target, r.status.upper(), r.detail) for r in rows]
    failed = sum(r.status == "fail" for r in rows)
    outcome = f"{len(rows)} checks: {failed} failed" + ("" if failed else " - ready")
    return f"{table(columns, cells, width)}\n{outcome}"


def budget(b: Budget, width: int | None = None) -> str:
    """The budget as two tables (components, stores), each figure's formula and source after
    them, then the AWS limits; fitted to ``width`` (default: the terminal's)."""
    t = b.targets
    head = (
        f"RTO/RPO budget: failing over to {b.stack} ({b.region}); targets RTO {t.rto_minutes} "
        f"min ({RTO_TARGET_MINUTES_KEY.name}), RPO {t.rpo_minutes} min "
        f"({RPO_TARGET_MINUTES_KEY.name})"
    )
    components = table(
        [Column("component"), Column("figure"), Column("formula", wrap=True),
         Column("source", wrap=True)],
        [(name, human(f.seconds), f.formula, f.source) for name, f in b.components.items()],
        width,
    )  # fmt: skip
    rows, details = [], []
    for s in b.stores:
        rto, rpo = s.rto, s.rpo
        rows.append(
            (
                s.store,
                human(rto.seconds) if rto else "-",
                compare(rto, t.rto_minutes * 60),
                human(rpo.seconds) if rpo else "-",
                compare(rpo, t.rpo_minutes * 60),
            )
        )
        for label, f in (("RTO", rto), ("RPO", rpo)):
            if f is not None:
                source = f" [{f.source}]" if f.source else ""
                details.append(f"  {s.store} {label}: {f.formula}{source}")
    stores = table(
        [Column("store", wrap=True), Column("RTO"), Column("vs target"),
         Column("RPO"), Column("vs target")],
        rows,
        width,
    )  # fmt: skip
    notes = [*details, *(f"  ! {limit}" for limit in b.limits)]
    limit = width or terminal_width()
    if limit < UNLIMITED:
        head = textwrap.fill(head, limit, subsequent_indent="  ")
        notes = [textwrap.fill(note, limit, subsequent_indent="      ") for note in notes]
    lines = [head, components, "", stores, "", *notes]
    return "\n".join(line.rstrip() for line in lines)
