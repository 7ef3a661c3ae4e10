"""Python's cyclic garbage collector, paused while the program runs under mocks or the policies run.

Under mocks every resource keeps a few hundred objects alive until the SDK's final wait, and every
full collection scans them all and frees almost nothing: with the collector on, the cost per
resource grows with the number of resources (docs/benchmarks.md). With it off, reference counting
still frees everything outside a cycle; the cycles left are collected once it is back on.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for the block, then as it was (nested blocks keep it off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
