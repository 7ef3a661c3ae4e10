"""The local runner's journal: one JSON file per activation, rewritten atomically (a temporary
file in the same directory, fsync, rename) after every step event, so an interrupted run leaves
either the previous or the new state and a later run resumes where it stopped."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from failover_steps.workflows import Mode

JOURNAL_VERSION = 1

StepStatus = Literal["pending", "running", "completed", "failed", "awaiting-approval", "declined"]


class JournalError(Exception):
    """The journal cannot be used for this run. ``str(err)`` is one line naming the file."""


@dataclass
class StepRecord:
    name: str
    status: StepStatus = "pending"
    started_at: str = ""
    ended_at: str = ""
    duration_s: float | None = None
    attempts: int = 0
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass
class Journal:
    path: Path
    target_region: str
    mode: Mode
    steps: dict[str, StepRecord]
    version: int = JOURNAL_VERSION

    @classmethod
    def open(cls, path: Path, target_region: str, mode: Mode, step_names: list[str]) -> Journal:
        """Load ``path`` to resume, or start a new journal. A journal for another target, mode or
        set of steps is refused rather than mixed with this run."""
        if not path.exists():
            return cls(path, target_region, mode, {n: StepRecord(n) for n in step_names})
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            found = cls(
                path=path,
                target_region=raw["target_region"],
                mode=raw["mode"],
                steps={s["name"]: StepRecord(**s) for s in raw["steps"]},
                version=raw["version"],
            )
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise JournalError(f"{path}: not a failover journal ({err})") from None
        wanted = (target_region, mode, step_names)
        have = (found.target_region, found.mode, list(found.steps))
        if have != wanted:
            raise JournalError(
                f"{path}: journal of another activation (target {found.target_region}, "
                f"{found.mode}); move it away to start a new one"
            )
        return found

    def save(self) -> None:
        body = {
            "version": self.version,
            "target_region": self.target_region,
            "mode": self.mode,
            "steps": [asdict(r) for r in self.steps.values()],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(body, out, indent=2, sort_keys=True)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
