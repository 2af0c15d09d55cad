"""Sandbox start time: spawn + torch + the student's import + the first ``names`` reply (target <= 2 s on CPU).

Prints the machine and its load, then the median of ``--runs`` starts of the reference submission
for each way of starting: ``warm`` (fork server already running: the normal case in a grader or
worker process), ``cold`` (the first sandbox of a process: the fork server imports torch once),
and ``exec`` (a fresh ``python -I`` per start, the fallback). The breakdown: spawn (fork or exec
call), hello (isolation applied, harness ready; includes torch's import for exec), import (the
student's module and the ``names`` reply).

    python benchmarks/sandbox_start.py [--runs 5] [--exec-runs 5] [--device cpu]
"""

import argparse
import os
import platform
import statistics
import time

import torch

from grader.sandbox import Sandbox
from grader.sandbox.forkserver import stop_fork_server
from reference.bundle import bundle_submission


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            model = next((ln.split(":", 1)[1].strip() for ln in handle if ln.startswith("model name")), model)
    except OSError:
        pass
    return f"{platform.node()} {platform.machine()} {model}, {os.cpu_count()} CPUs, torch {torch.__version__}"


def one_start(source: str, device: str, start_method: str) -> dict[str, float]:
    began = time.monotonic()
    with Sandbox(source, device=device, start_method=start_method) as box:
        total = time.monotonic() - began
        if box.import_error:
            raise SystemExit(f"the reference failed to import: {box.import_error}")
        isolation = ",".join(box.isolation)
        timings = dict(box.timings)
    return {"total_s": total, **timings, "isolation": isolation}


def summarise(label: str, runs: list[dict]) -> None:
    keys = ["total_s", "spawn_s", "hello_s", "import_s"]
    medians = {k: statistics.median(r[k] for r in runs if k in r) for k in keys}
    spread = f"min {min(r['total_s'] for r in runs):.2f} max {max(r['total_s'] for r in runs):.2f}"
    parts = "  ".join(f"{k} {v:.3f}" for k, v in medians.items())
    print(f"{label:6s} n={len(runs)}  median {parts}  ({spread})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="warm starts (median reported)")
    parser.add_argument("--exec-runs", type=int, default=5, help="exec starts; 0 skips them")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    source = bundle_submission()
    print(f"machine: {machine()}")
    print(f"load before: {os.getloadavg()}")
    stop_fork_server()
    cold = [one_start(source, args.device, "zygote")]
    warm = [one_start(source, args.device, "zygote") for _ in range(args.runs)]
    exec_runs = [one_start(source, args.device, "exec") for _ in range(args.exec_runs)]
    print(f"isolation: {warm[0]['isolation']}")
    summarise("warm", warm)
    summarise("cold", cold)
    if exec_runs:
        summarise("exec", exec_runs)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
