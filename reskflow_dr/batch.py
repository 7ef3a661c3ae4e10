"""Several offline previews at once (a drill's four): each distinct config run once, in parallel.

The first program runs in this process: it loads the provider modules (most of a preview's cost
the first time). The others then run in processes forked from this one, which have the modules
already, while this process runs one itself. Plans and
:class:`~reskflow_dr.engine.ProgramError` come back pickled. Two jobs with the same config (the
same values, secret keys, program, account and region) share one run.

Without ``fork`` (or with one CPU) the programs run one after the other here.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reskflow_dr import engine
from reskflow_dr.engine import Plan
from reskflow_dr.preview import ROOT, load
from reskflow_dr.stackfiles import StackConfig

Job = tuple[StackConfig, str, str]
"""``run_program``'s arguments: the stack config, the account id and the region."""


def program_key(config: StackConfig, account_id: str, region: str) -> tuple[Any, ...]:
    """Everything a run of the program depends on: equal keys, equal plans."""
    return (
        config.project,
        config.stack,
        str(config.program_dir),
        tuple(sorted(config.values.items())),
        tuple(sorted(config.secret_keys)),
        repr(sorted(config.display.items())),
        account_id,
        region,
    )


def cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _run(job: Job) -> Plan:
    return engine.run_program(*job)


def _run_forked(job: Job) -> Plan:
    """In a forked process (called by reference: never replaced)."""
    return engine.run_program(*job)


def run_programs(jobs: Sequence[Job], workers: int | None = None) -> list[Plan]:
    """``run_program`` for each job, in order. ``workers``: processes besides this one (default:
    one per program after the first two when there are two CPUs or more, none otherwise; 0 runs
    everything here). One process per program rather than per CPU: on a shared machine each
    process gets its share of the CPUs, and on an idle one three programs on two CPUs take no
    longer than two after two."""
    keys = [program_key(*job) for job in jobs]
    distinct = list(dict.fromkeys(keys))
    first = {k: jobs[keys.index(k)] for k in distinct}
    plans: dict[tuple[Any, ...], Plan] = {}
    if distinct:
        plans[distinct[0]] = _run(first[distinct[0]])
    rest = distinct[1:]
    extra = (len(rest) - 1 if cpus() > 1 else 0) if workers is None else workers
    forked = rest[1:] if extra > 0 and "fork" in multiprocessing.get_all_start_methods() else []
    if forked:
        context = multiprocessing.get_context("fork")
        for stream in (sys.stdout, sys.stderr):  # a child flushes what it inherits: nothing
            stream.flush()
        with ProcessPoolExecutor(min(extra, len(forked)), mp_context=context) as pool:
            # Frozen, the collector leaves the inherited heap alone in the children, whose pages
            # then stay shared with this process instead of being copied (the fork happens on the
            # first submit).
            gc.freeze()
            try:
                futures = {k: pool.submit(_run_forked, first[k]) for k in forked}
            finally:
                gc.unfreeze()
            for k in rest[:1]:
                plans[k] = _run(first[k])
            for k, future in futures.items():
                plans[k] = future.result()
    for k in rest:
        if k not in plans:
            plans[k] = _run(first[k])
    # Each job its own plan object: callers may edit one (a drill sets its policy verdicts).
    return [plans[k] if keys.index(k) == i else _copy(plans[k]) for i, k in enumerate(keys)]


def _copy(plan: Plan) -> Plan:
    copied: Plan = pickle.loads(pickle.dumps(plan))
    return copied


@dataclass(frozen=True)
class Request:
    """One preview: a stack, its ``--set`` overrides, the overrides of peers as cross-read."""

    stack: str
    overrides: Sequence[str] = ()
    peers: Mapping[str, Sequence[str]] = field(default_factory=dict)


def previews(requests: Sequence[Request], root: Path = ROOT) -> list[Plan]:
    """``preview`` for each request: every config read and checked first (a bad one stops
    everything before any program runs), then the programs as :func:`run_programs` runs them."""
    jobs: list[Job] = []
    for r in requests:
        config, settings = load(root, r.stack, r.overrides, r.peers)
        jobs.append((config, settings.account_id, settings.region))
    return run_programs(jobs)
