"""Approvals, the same for both runners: a person approves at a terminal, or an explicit source
outside the tool has (a GitHub Actions job behind an environment with required reviewers sets
``RESKFLOW_APPROVED_BY``). An approval step is never skipped: without a source the run stops
with the outcome ``awaiting-approval``, and a refusal at the terminal stops it as ``declined``."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TextIO

from failover_steps.workflows import Mode

APPROVER_ENV = "RESKFLOW_APPROVED_BY"
"""Set by the approved job to who approved it, e.g. ``${{ github.actor }}`` in a job whose
``environment:`` has required reviewers (docs/failover-execution.md)."""

NO_APPROVAL_SOURCE = (
    f"no approval source: run at a terminal, or from a job behind a protected GitHub "
    f"environment that sets {APPROVER_ENV}"
)


@dataclass(frozen=True)
class ApprovalRequest:
    step: str
    summary: str
    target_region: str
    mode: Mode


@dataclass(frozen=True)
class Approval:
    approved: bool
    by: str
    how: str
    """``terminal`` or ``environment``."""


#: ``None``: no source can answer here (the run stops, awaiting approval).
Approver = Callable[[ApprovalRequest], Approval | None]


def environment_approver(environ: Mapping[str, str] | None = None) -> Approver:
    def approve(request: ApprovalRequest) -> Approval | None:
        env = os.environ if environ is None else environ
        by = env.get(APPROVER_ENV, "").strip()
        return Approval(True, by, "environment") if by else None

    return approve


def terminal_approver(stdin: TextIO | None = None, stdout: TextIO | None = None) -> Approver:
    """Ask at the terminal; the operator types the target region's name to approve."""

    def approve(request: ApprovalRequest) -> Approval | None:
        given_in = stdin or sys.stdin
        out = stdout or sys.stderr
        if not given_in.isatty():
            return None
        print(
            f"approval needed ({request.step}): {request.summary}\n"
            f"  activate {request.target_region}, {request.mode}. "
            f"Type {request.target_region} to approve, anything else declines: ",
            end="",
            file=out,
            flush=True,
        )
        answer = given_in.readline().strip()
        return Approval(answer == request.target_region, _user(), "terminal")

    return approve


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def default_approver(
    environ: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> Approver:
    """The explicit environment approval first, then the terminal; otherwise none."""
    sources = (environment_approver(environ), terminal_approver(stdin, stdout))

    def approve(request: ApprovalRequest) -> Approval | None:
        for source in sources:
            found = source(request)
            if found is not None:
                return found
        return None

    return approve
