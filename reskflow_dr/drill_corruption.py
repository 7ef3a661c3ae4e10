"""The "corruption" drill (seed: "Database Corruption" quick reference): the active stack's
PostgreSQL is restored to a time before the corruption into the next generation, which becomes
the stack's database; the corrupt instance is retained and fenced for forensics. No role moves.

The drill shows the config change, both diffs and the data-safety verdict like the others; its
runbook runs ``reskflow-dr restore postgres`` (which waits and validates) before any ``up``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from infra.settings import DB_GENERATION_KEY, RETAINED_DB_GENERATIONS_KEY, ROLE_KEY
from reskflow_dr.preview import validated
from reskflow_dr.restore import generations_in_use, next_generation
from reskflow_dr.stackfiles import UsageError

#: The drill's stand-in for "a time before the corruption" (the operator gives the real one).
RESTORE_TIME = "<ISO time before the corruption, e.g. 2026-12-04T09:30:00Z>"


def corruption_changes(
    root: Path, home: str, away: str, config: Mapping[str, Mapping[str, str]]
) -> tuple[str, int, list[tuple[str, str]]]:
    """(active stack, restored generation, [(key, value)]) of restoring the active database."""
    active = [s for s in (home, away) if config[s][ROLE_KEY.name] == "active"]
    if len(active) != 1:
        raise UsageError(
            "usage error: the corruption drill needs exactly one active stack; found "
            + (", ".join(active) or "none")
        )
    stack = active[0]
    peer = away if stack == home else home
    settings = validated(root, stack)
    used = generations_in_use(settings, validated(root, peer))
    target = next_generation(used)
    retained = sorted({*settings.database.retained_generations, settings.database.generation})
    return (
        stack,
        target,
        [
            (DB_GENERATION_KEY.name, str(target)),
            (RETAINED_DB_GENERATIONS_KEY.name, json.dumps(retained)),
        ],
    )


def restore_command(stack: str, generation: int) -> str:
    return (
        f"reskflow-dr restore postgres {stack} --to '{RESTORE_TIME}' --generation {generation} "
        f"--json out/restore-{stack}-g{generation}.json"
    )
