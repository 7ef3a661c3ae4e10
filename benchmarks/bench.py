"""One benchmark run: the floor, the real commands, synthetic programs and policy throughput.

Every figure is a ratio measured in the same run (the machine is shared and noisy), each
measurement in its own process:

- ``floor``: benchmarks/floor.py -- the same provider modules imported and the same 182 + 179
  resources registered, trivially, under the SDK's own mocks (interpreter start included);
- the whole ``reskflow-dr preview prod dr`` command (policies included), each stack alone, and
  ``reskflow-dr drill failover``: wall time, as a ratio to the floor (and the drill to one stack);
- synthetic programs of 100, 1,000 and 8,000 buckets (8 resources each): the preview alone,
  after a one-bucket warm-up that loads the modules, in ms per resource and as a ratio to the
  cost per resource at 100 buckets (linearity);
- policy verdicts per second on the real plans and on synthetic plans, the pack loaded before
  the clock starts: in this process (``PolicyPackSession``) and over gRPC (``AnalyzerPackSession``).

The command rows run round-robin ``--runs`` times (median reported), so that their ratios come
from neighbouring runs. The synthetic rows run once each (the largest takes minutes).

    python benchmarks/bench.py [--runs 5] [--sizes 100 1000 8000] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent

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

COMMANDS: dict[str, list[str]] = {
    "reskflow-dr preview prod dr": ["preview", "prod", "dr", "--quiet"],
    "reskflow-dr preview prod": ["preview", "prod", "--quiet"],
    "reskflow-dr preview dr": ["preview", "dr", "--quiet"],
    "reskflow-dr drill failover": ["drill", "failover", "--quiet"],
}


# -- children: each measurement in its own process ------------------------------------------


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_spec(path: str) -> dict[str, Any]:
    """The floor's input: the real plans' resources and the provider modules they loaded."""
    sys.path.insert(0, str(ROOT))
    from reskflow_dr.preview import preview

    stacks = {s: [[r.type, r.name, r.custom] for r in preview(s).resources] for s in ("prod", "dr")}
    providers = ("pulumi_aws", "pulumi_kubernetes")
    modules = sorted(m for m in sys.modules if m.split(".")[0] in providers)
    Path(path).write_text(json.dumps({"modules": modules, "stacks": stacks}), encoding="utf-8")
    return {"resources": sum(len(v) for v in stacks.values()), "modules": len(modules)}


def _synthetic_root(tmp: Path, n: int) -> Path:
    root = tmp / f"synthetic-{n}"
    (root / "prog").mkdir(parents=True)
    # The project's own Pulumi.yaml (its shared values, e.g. accountId), pointed at prog/.
    project = (ROOT / "Pulumi.yaml").read_text().replace("main: infra/", "main: prog/")
    (root / "Pulumi.yaml").write_text(project)
    (root / "Pulumi.bench.yaml").write_text((ROOT / "Pulumi.prod.yaml").read_text())
    (root / "prog" / "__main__.py").write_text(SYNTHETIC_PROGRAM.format(root=str(ROOT), n=n))
    return root


def child_synthetic(n: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from reskflow_dr.preview import preview

    with tempfile.TemporaryDirectory() as tmp:
        preview("bench", root=_synthetic_root(Path(tmp), 1))  # loads the modules it uses
        root = _synthetic_root(Path(tmp), n)
        cpu, started = time.process_time(), time.perf_counter()
        resources = len(preview("bench", root=root).resources)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "resources": resources, "peak_mib": _peak_mib()}


def _rate(session: Any, plans: list[dict[str, Any]], repeat: int) -> dict[str, Any]:
    session.evaluate(plans[0])  # the first call configures and warms up
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for plan in plans:
            session.evaluate(plan)
        best = min(best, time.perf_counter() - started)
    count = sum(len(p["resources"]) for p in plans)
    return {"resources": count, "seconds": best, "per_second": count / best}


def child_policy(sizes: list[int]) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from reskflow_dr.policy_analyzer import AnalyzerPackSession
    from reskflow_dr.policy_runner import PolicyPackSession
    from reskflow_dr.preview import preview
    from tests.policy.builders import synthetic_plan

    workloads = {"real plans (prod + dr)": [preview(s).to_json() for s in ("prod", "dr")]}
    for n in sizes:
        workloads[f"synthetic plan, {n:,} resources"] = [synthetic_plan(n)]
    found: dict[str, Any] = {}
    started = time.perf_counter()
    with PolicyPackSession() as pack:
        found["load in process"] = time.perf_counter() - started
        for label, plans in workloads.items():
            found[f"in process, {label}"] = _rate(pack, plans, 3)
    started = time.perf_counter()
    with AnalyzerPackSession() as pack:
        found["start pack process"] = time.perf_counter() - started
        for label, plans in workloads.items():
            found[f"over gRPC, {label}"] = _rate(pack, plans, 1)
    return found


# -- the parent ------------------------------------------------------------------------------


def _child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (its own and its children's) of one command."""
    cpu, started = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr.decode()}")
    return seconds, cpu


def _machine() -> str:
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    python = platform.python_version()
    return f"{platform.machine()} {model}, {os.cpu_count()} CPUs, Python {python}"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="round-robin runs of the commands")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 8000])
    parser.add_argument("--policy-sizes", type=int, nargs="+", default=[1000, 8000])
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "spec":
            print(json.dumps(child_spec(rest[0])))
        elif kind == "synthetic":
            print(json.dumps(child_synthetic(int(rest[0]))))
        else:
            print(json.dumps(child_policy([int(n) for n in rest])))
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        spec = str(Path(tmp) / "floor.json")
        counts = _child("spec", spec)
        commands = {"floor": [sys.executable, str(HERE / "floor.py"), spec]}
        for label, argv in COMMANDS.items():
            commands[label] = [sys.executable, "-m", "reskflow_dr", *argv]
        load_before = os.getloadavg()[0]
        samples: dict[str, list[float]] = {label: [] for label in commands}
        cpu_samples: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(args.runs):
            for label, command in commands.items():
                seconds, cpu_seconds = _measure(command)
                samples[label].append(seconds)
                cpu_samples[label].append(cpu_seconds)
    wall = {label: statistics.median(s) for label, s in samples.items()}
    cpu = {label: statistics.median(s) for label, s in cpu_samples.items()}
    synthetic = {n: _child("synthetic", str(n)) for n in args.sizes}
    policy = _child("policy", *map(str, args.policy_sizes))
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(),
        "load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "runs": args.runs,
        "floor_resources": counts["resources"],
        "wall": wall,
        "cpu": cpu,
        "samples": samples,
        "synthetic": synthetic,
        "policy": policy,
    }
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


def render(report: dict[str, Any]) -> str:
    wall, cpu = report["wall"], report["cpu"]
    floor, floor_cpu = wall["floor"], cpu["floor"]
    per_floor = 1000 * floor / report["floor_resources"]
    lines = [
        f"{report['date']} -- {report['machine']}",
        f"medians of {report['runs']} round-robin runs; load average before and after: "
        f"{report['load'][0]}, {report['load'][1]}",
        "",
        f"{'command (whole process)':<32} {'wall s':>7} {'x floor':>8} {'cpu s':>7} {'x floor':>8}",
    ]
    for label, seconds in wall.items():
        lines.append(
            f"{label:<32} {seconds:>7.2f} {seconds / floor:>8.2f} "
            f"{cpu[label]:>7.2f} {cpu[label] / floor_cpu:>8.2f}"
        )
    drill, one = "reskflow-dr drill failover", "reskflow-dr preview prod"
    lines.append(
        f"drill failover / preview prod: wall {wall[drill] / wall[one]:.2f}, "
        f"cpu {cpu[drill] / cpu[one]:.2f}"
    )
    lines += [
        "",
        f"{'synthetic preview (after warm-up)':<34} {'resources':>9} {'s':>8} {'cpu s':>7} "
        f"{'ms/res':>7} {'x first':>7} {'x floor/res':>11} {'peak MiB':>8}",
    ]
    first = None
    for n, r in report["synthetic"].items():
        per = 1000 * r["seconds"] / r["resources"]
        first = first or per
        lines.append(
            f"{f'{int(n):,} buckets':<34} {r['resources']:>9,} {r['seconds']:>8.2f} "
            f"{r['cpu']:>7.2f} {per:>7.3f} {per / first:>7.2f} {per / per_floor:>11.2f} "
            f"{r['peak_mib']:>8.0f}"
        )
    lines.append(f"(floor: {per_floor:.2f} ms per resource, interpreter and imports included)")
    lines += ["", "policy verdicts (pack loaded or started before the clock)"]
    for label, value in report["policy"].items():
        if isinstance(value, dict):
            lines.append(
                f"  {label:<52} {value['resources']:>6,} resources {value['seconds']:>7.3f} s "
                f"{value['per_second']:>8,.0f}/s"
            )
        else:
            lines.append(f"  {label:<52} {value:>7.3f} s ({value / floor:.2f} x floor)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
