"""Benchmark: policy verdicts for a synthetic 1,000-resource plan, end to end.

Times ``reskflow_dr.policy_runner.evaluate`` -- starting the pack process, GetAnalyzerInfo,
Configure, Analyze for every resource, AnalyzeStack, stopping the pack -- and prints resources
per second (target: at least 1,000) and the peak resident memory of this process and of the pack.

    python benchmarks/bench_policy.py [--resources 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reskflow_dr.policy_runner import evaluate  # noqa: E402
from tests.policy.builders import synthetic_plan  # noqa: E402

TARGET_PER_SECOND = 1000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    plan = synthetic_plan(args.resources)
    count = len(plan["resources"])
    timings = []
    verdicts = 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        verdicts = len(evaluate(plan))
        timings.append(time.perf_counter() - start)

    best = min(timings)
    rate = count / best
    own_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pack_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"resources: {count}, verdicts: {verdicts}, runs: {len(timings)}")
    print("seconds per run: " + ", ".join(f"{t:.2f}" for t in timings))
    print(f"throughput (best run, pack start included): {rate:.0f} resources/s")
    print(f"peak memory: runner {own_mib:.0f} MiB, policy pack {pack_mib:.0f} MiB")
    verdict = "meets" if rate >= TARGET_PER_SECOND else "misses"
    print(f"target {TARGET_PER_SECOND:.0f} resources/s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
