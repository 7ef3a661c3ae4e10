"""Policy-pack fixtures: the pack loaded once per test session, its analyzer called in this
process; and, for the parity and process tests, the pack in its own process asked over gRPC."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the runner lives in the repository's own package
    sys.path.insert(0, str(ROOT))

from reskflow_dr.policy_analyzer import AnalyzerPackSession  # noqa: E402
from reskflow_dr.policy_runner import PolicyPackSession, Verdict  # noqa: E402

Evaluate = Callable[..., list[Verdict]]


@pytest.fixture(scope="session")
def pack() -> Iterator[PolicyPackSession]:
    """The real policy pack, its analyzer (pulumi_policy's servicer) called in this process."""
    with PolicyPackSession() as session:
        yield session


@pytest.fixture(scope="session")
def analyzer_pack() -> Iterator[AnalyzerPackSession]:
    """The real policy pack, started as the Pulumi CLI starts it, asked over gRPC."""
    with AnalyzerPackSession() as session:
        yield session


@pytest.fixture
def evaluate(pack: PolicyPackSession) -> Evaluate:
    """``evaluate(plan, config=None)``: the pack's verdicts for a plan."""

    def run(plan: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> list[Verdict]:
        return pack.evaluate(plan, config)

    return run


def flagged(verdicts: list[Verdict], policy: str) -> dict[str, list[str]]:
    """{resource name: [messages]} of one policy's verdicts."""
    found: dict[str, list[str]] = {}
    for v in verdicts:
        if v.policy == policy:
            found.setdefault(v.resource, []).append(v.message)
    return found
