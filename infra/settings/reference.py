"""Documents generated from the key declarations: the README's config reference table."""

from __future__ import annotations

from infra.settings.keys import KEYS


def config_reference_markdown() -> str:
    """The README's config reference table, generated from :data:`KEYS`."""
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for k in KEYS:
        lines.append(f"| `{k.name}` | {k.type} | {k.default} | {k.doc} |")
    return "\n".join(lines)
