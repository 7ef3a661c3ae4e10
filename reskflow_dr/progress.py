"""Progress for long work: one line per step on stderr, silent with ``--quiet`` or in CI.

Standard output stays the report (trees, tables, diagrams); progress never mixes into it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import TextIO


def in_ci() -> bool:
    """``CI`` is set to anything but empty, ``0`` or ``false`` (GitHub Actions sets ``true``)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


class Progress:
    """``with progress.step("previewing prod"): ...`` prints ``[1/2] previewing prod`` first."""

    def __init__(self, total: int, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.total = total
        self.quiet = quiet or in_ci()
        self.stream = stream
        self.count = 0

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[None]:
        self.count += 1
        if not self.quiet:
            print(f"[{self.count}/{self.total}] {what}", file=self.stream or sys.stderr, flush=True)
        yield


def lines(quiet: bool = False, stream: TextIO | None = None) -> Callable[[str], None]:
    """A callback printing each progress line it is given on stderr (for work that counts its
    own steps, like the drill's previews); silent with ``--quiet`` or in CI."""
    if quiet or in_ci():
        return lambda _line: None

    def emit(line: str) -> None:
        print(line, file=stream or sys.stderr, flush=True)

    return emit
