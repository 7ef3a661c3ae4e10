"""The text tables: aligned columns, wrapped to a narrow width, counts after them."""

from __future__ import annotations

import re

from reskflow_dr import render
from reskflow_dr.policy_runner import Verdict
from reskflow_dr.readiness import CheckResult
from reskflow_dr.tables import UNLIMITED

MESSAGE = "bucket uploads: no offsite copy"
VERDICTS = [
    Verdict("reskflow-3-2-1", "mandatory", "urn:x", "uploads", MESSAGE, "high"),
    Verdict("reskflow-rpo-note", "advisory", "", "", "a note", "low", not_checkable=True),
]


def test_verdicts_aligned() -> None:
    assert render.verdicts(VERDICTS, UNLIMITED).splitlines() == [
        "POLICY             ENFORCEMENT    RESOURCE  MESSAGE",
        "reskflow-3-2-1     mandatory      uploads   bucket uploads: no offsite copy",
        "reskflow-rpo-note  not checkable  (stack)   a note",
        "2 verdicts, 1 mandatory",
    ]
    assert render.verdicts([]) == "policy: no violations"


def test_verdicts_wrap_to_a_narrow_width() -> None:
    lines = render.verdicts(VERDICTS, 60).splitlines()
    assert max(len(line) for line in lines) <= 60
    assert re.split(r"\s{2,}", lines[1])[:3] == ["reskflow-3-2-1", "mandatory", "uploads"]
    assert " ".join(line[lines[0].index("MESSAGE") :].strip() for line in lines[1:3]) == (
        "bucket uploads: no offsite copy"
    )


def test_readiness_table() -> None:
    rows = [
        CheckResult("replica-lag", "reskflow-postgres-g2", "pass", "ReplicaLag 3 s"),
        CheckResult("backup-vault", "reskflow-dr-us-west-2", "fail", "no recovery point"),
    ]
    assert render.readiness(rows, UNLIMITED).splitlines() == [
        "check         target                 status  detail",
        "replica-lag   reskflow-postgres-g2   PASS    ReplicaLag 3 s",
        "backup-vault  reskflow-dr-us-west-2  FAIL    no recovery point",
        "2 checks: 1 failed",
    ]
