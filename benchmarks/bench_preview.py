"""Offline preview timing: both real stacks, and synthetic programs of 10, 100 and 1,000 buckets.

Each measurement runs in its own process (so peak memory is that measurement's own) and is
repeated; the median wall time is reported. Targets: both stacks together <= 5 s on a 2-core
machine; cost linear in the number of resources.

    python benchmarks/bench_preview.py [--runs 5] [--sizes 10 100 1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SYNTHETIC_PROGRAM = """
import sys
sys.path.insert(0, {root!r})
import pulumi, pulumi_aws as aws
from components.storage import Expiry, SecureBucket, SecureBucketArgs

provider = aws.Provider("aws-us-east-1", region="us-east-1")
for i in range({n}):
    SecureBucket(
        f"b{{i}}",
        SecureBucketArgs(
            bucket_name=f"reskflow-bench-{{i}}",
            kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/mrk-" + "0" * 32,
            store="bench",
            expiries=[Expiry("expire", "", 30, 30)],
        ),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )
"""


def _measure_in_process(kind: str, n: int) -> dict[str, float]:
    """Runs in the child process: one measurement, printed as JSON."""
    sys.path.insert(0, str(ROOT))
    from reskflow_dr.preview import preview

    if kind == "stacks":
        started = time.perf_counter()
        resources = sum(len(preview(stack).resources) for stack in ("prod", "dr"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "Pulumi.yaml").write_text("name: reskflow\nruntime: python\nmain: prog/\n")
            (root / "Pulumi.bench.yaml").write_text((ROOT / "Pulumi.prod.yaml").read_text())
            (root / "prog").mkdir()
            (root / "prog" / "__main__.py").write_text(
                SYNTHETIC_PROGRAM.format(root=str(ROOT), n=n)
            )
            started = time.perf_counter()
            resources = len(preview("bench", root=root).resources)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mib": peak_mib, "resources": resources}


def measure(kind: str, n: int, runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, str(n)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        samples.append(json.loads(out.strip().splitlines()[-1]))
    return {
        "seconds": statistics.median(s["seconds"] for s in samples),
        "peak_mib": max(s["peak_mib"] for s in samples),
        "resources": samples[0]["resources"],
    }


def measure_cli(runs: int) -> float:
    """Wall time of the whole command, interpreter start and imports included."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "reskflow_dr", "preview", "prod", "dr", "--quiet"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure_in_process(args.child[0], int(args.child[1]))))
        return

    print(f"{'program':<28} {'resources':>9} {'median s':>9} {'ms/resource':>12} {'peak MiB':>9}")
    rows = [("prod + dr stacks", measure("stacks", 0, args.runs))]
    for n in args.sizes:
        runs = args.runs if n < 1000 else max(1, args.runs // 2)
        rows.append((f"synthetic, {n} buckets", measure("synthetic", n, runs)))
    for label, r in rows:
        per = 1000 * r["seconds"] / r["resources"]
        print(
            f"{label:<28} {r['resources']:>9.0f} {r['seconds']:>9.2f} {per:>12.2f} "
            f"{r['peak_mib']:>9.0f}"
        )
    print("(program rows exclude interpreter start and imports)")
    print(
        f"reskflow-dr preview prod dr, whole command: {measure_cli(args.runs):.2f} s (target 5 s)"
    )


if __name__ == "__main__":
    main()
