"""Python's cyclic garbage collector, paused while the program runs under mocks or the policies run,
and frozen when the process exits.

Under mocks every resource keeps a few hundred objects alive until the SDK's final wait, and every
full collection scans them all and frees almost nothing: with the collector on, the cost per
resource grows with the number of resources (docs/benchmarks.md). With it off, reference counting
still frees everything outside a cycle; the cycles left are collected once it is back on.

At exit the interpreter tears its modules down and collects again and again over the whole heap
(the provider SDKs alone are about a million objects): a quarter of a second to half a second of
a two-second command. Freezing the collector first (``gc.freeze``: every object moves to the
permanent generation) leaves that teardown to reference counting. Nothing in this project relies
on a finalizer of an object in a cycle running at exit; files are flushed and closed as usual.
"""

from __future__ import annotations

import atexit
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


def freeze_at_exit() -> None:
    """Freeze the collector when the process exits (idempotent)."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


freeze_at_exit()
