"""The Lambda deployment package: ``failover_steps`` imports boto3/botocore and the standard
library only (no Pulumi, no reskflow_dr), so it runs in the Lambda Python runtime as is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_failover_steps_imports_nothing_but_boto3_and_the_standard_library() -> None:
    probe = (
        "import sys, json, boto3, botocore.config, botocore.exceptions\n"
        "before = set(sys.modules)\n"
        "import failover_steps.lambda_entry, failover_steps.actions\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    added = set(json.loads(out)) - set(sys.stdlib_module_names)
    assert added == {"failover_steps"}
