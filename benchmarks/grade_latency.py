"""How long a full grade of a correct submission takes: the reference graded end to end N times.

    python benchmarks/grade_latency.py --runs 3 [--device cpu] [--data-profile bundled] [--json out.json]

Prints the median total, warm (in this process, as a worker grades) and cold (a fresh ``python -m
grader`` process, as CI runs it), and the warm breakdown (sandbox start, each check category, Q7's training in the
child), with the machine and its load. The reference accuracy is cached before timing (a first grade on
a fresh cache also trains the reference once). Targets on the project's 2-core CPU, bundled profile:
full grade <= 30 s, sandbox start <= 2 s.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's packages, whatever the install

from grader.api import grade_files  # noqa: E402
from grader.baseline import reference_accuracy  # noqa: E402
from grader.checks.q7_accuracy import recipe_for  # noqa: E402
from grader.runner import resolve_device  # noqa: E402
from grader.sandbox import Sandbox  # noqa: E402
from grader.settings import GraderSettings  # noqa: E402
from reference.bundle import bundle_submission  # noqa: E402
from reference.train import cpu_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def sandbox_start_seconds(device: str, settings: GraderSettings) -> float:
    """Wall time to start a child and import the reference module in it."""
    began = time.perf_counter()
    with Sandbox(bundle_submission(), device=device, limits=settings.limits, **settings.sandbox_placement()) as box:
        elapsed = time.perf_counter() - began
        if box.import_error:
            raise RuntimeError(f"the reference did not import: {box.import_error}")
    return elapsed


def one_run(files: list[Path], device: str, profile: str, settings: GraderSettings) -> dict:
    start = sandbox_start_seconds(device, settings)
    report = grade_files(files, device=device, data_profile=profile, settings=settings)
    if not report.succeeded:
        raise RuntimeError(f"the grader failed on the reference: {report.message}")
    short = [f"{c.id} {c.score:g}/{c.max_score:g}" for c in report.checks if c.score < c.max_score]
    if short:
        sys.stderr.write(f"warning: the reference lost points on {', '.join(short)}\n")
    by_category: dict[str, float] = {}
    for check in report.checks:
        by_category[check.category.value] = by_category.get(check.category.value, 0.0) + check.duration_s
    accuracy = next((c for c in report.checks if c.id == "q7.accuracy"), None)
    return {
        "total_s": report.duration_s,
        "sandbox_start_s": start,
        "categories_s": by_category,
        "accuracy_training_s": (accuracy.details.get("train_seconds") if accuracy else None),
    }


def cold_cli_seconds(files: list[Path], device: str, profile: str) -> float:
    """Wall time of ``python -m grader`` in a fresh process (the CI form: imports, fork server, grade, report)."""
    output = files[0].parent / "report.json"
    command = [sys.executable, "-m", "grader", *map(str, files), "--device", device, "--data-profile", profile]
    began = time.perf_counter()
    done = subprocess.run([*command, "--output", str(output)], capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"python -m grader exited {done.returncode}: {done.stderr[-1000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--data-profile", choices=("bundled", "full"), default="bundled")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--cold-runs", type=int, default=3, help="fresh `python -m grader` processes to time")
    args = parser.parse_args(argv)
    settings = GraderSettings()
    device = resolve_device(args.device)
    folder = Path(tempfile.mkdtemp(prefix="vitgrade-bench-"))
    (folder / "vit.py").write_text(bundle_submission())
    files = [folder / "vit.py", ROOT / "reference" / "answers.md"]
    reference_accuracy(device, args.data_profile, recipe_for(args.data_profile, 0), settings)  # warm the cache
    load_before = os.getloadavg()
    runs = []
    for index in range(args.runs):
        runs.append(one_run(files, device, args.data_profile, settings))
        sys.stderr.write(f"run {index + 1}/{args.runs}: {runs[-1]['total_s']:.1f}s\n")
    cold = [cold_cli_seconds(files, device, args.data_profile) for _ in range(args.cold_runs)]
    load_after = os.getloadavg()
    categories = sorted({key for run in runs for key in run["categories_s"]})
    summary = {
        "median_total_s": statistics.median(r["total_s"] for r in runs),
        "median_cold_cli_s": statistics.median(cold) if cold else None,
        "cold_cli_s": cold,
        "median_sandbox_start_s": statistics.median(r["sandbox_start_s"] for r in runs),
        "median_categories_s": {k: statistics.median(r["categories_s"].get(k, 0.0) for r in runs) for k in categories},
        "median_accuracy_training_s": statistics.median(r["accuracy_training_s"] or 0.0 for r in runs),
        "runs": runs,
        "machine": cpu_model(),
        "device": device if device == "cpu" else f"cuda ({torch.cuda.get_device_name()})",
        "data_profile": args.data_profile,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "torch": torch.__version__,
    }
    lines = [
        f"machine: {summary['machine']}; device {summary['device']}; data {args.data_profile}; {args.runs} runs",
        f"load average (1, 5, 15 min) before {load_before[0]:.1f} {load_before[1]:.1f} {load_before[2]:.1f}, "
        f"after {load_after[0]:.1f} {load_after[1]:.1f} {load_after[2]:.1f}",
        f"median full grade, warm (a worker's process): {summary['median_total_s']:.1f} s | cold (a fresh "
        f"`python -m grader`, the CI form): " + (f"{summary['median_cold_cli_s']:.1f} s" if cold else "not measured"),
        f"  sandbox start:       {summary['median_sandbox_start_s']:.2f} s (target <= 2 s)",
        *[f"  {k + ':':<20} {v:.1f} s" for k, v in summary["median_categories_s"].items()],
        f"  Q7 training (child): {summary['median_accuracy_training_s']:.1f} s",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
