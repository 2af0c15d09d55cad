"""The acceptance run of one device: every check a GPU host must pass, with figures, in one summary.

    python scripts/acceptance.py OUTDIR [--device cuda|cuda:N|cpu] [--quick]

Writes OUTDIR/summary.json and OUTDIR/summary.txt. Each step records ok / failed / skipped, its
figures and its time; a failing step never stops the others. ``--quick`` (what CI runs on the CPU)
skips the pytest run and the full-MNIST grade and shortens the training figure. Steps:

- ``gpu_tests``: ``pytest -m gpu``;
- ``reference_full`` / ``template_zero``: a full grade of the reference (100) and the template (0, no error);
- ``mistakes``: every known mistake caught by its check and named in the hint;
- ``margins``: per check of the reference grade, the largest error seen against its tolerance;
- ``reproducible``: two grades of one submission identical but for timings;
- ``worker_queue``: a real worker process grades a submission from the queue on the device;
- ``full_profile``: the wall time of a full grade on the 60k/10k MNIST (when that data is present);
- ``train_10s``: ``benchmarks/train_mnist.py`` accuracy after a 10 s budget.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.api import grade_files  # noqa: E402
from grader.devices import child_device, resolve_device  # noqa: E402
from grader.diagnostics import MISTAKES  # noqa: E402
from grader.diagnostics.sources import check_for, mistake_source  # noqa: E402
from grader.sandbox.process import visible_gpus  # noqa: E402
from reference.bundle import bundle_submission  # noqa: E402

TIMING_KEYS = {"duration_s", "seconds", "started_at", "finished_at"}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def reference_files(folder: Path) -> list[Path]:
    return [write(folder, "vit.py", bundle_submission()), REPO / "reference" / "answers.md"]


def template_files() -> list[Path]:
    return [REPO / "student_template" / "vit.py", REPO / "student_template" / "answers.md"]


def step_gpu_tests(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider", str(REPO / "tests")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|skipped|error)", last)}
    return {"ok": done.returncode in (0, 5) and not counts.get("failed"), "summary": last, **counts}


def step_reference_full(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    report = grade_files(reference_files(work), device=args.device)
    lost = [(c.id, c.score, c.max_score, c.message[:200]) for c in report.checks if c.score < c.max_score]
    args.reference_report = report
    return {"ok": report.succeeded and report.score == report.max_score, "score": report.score, "lost": lost}


def step_template_zero(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    report = grade_files(template_files(), device=args.device)
    errors = [c.id for c in report.checks if c.status == "error"]
    return {"ok": report.succeeded and report.score == 0 and not errors, "score": report.score, "errors": errors}


def step_mistakes(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    missed = []
    for mistake_id, mistake in sorted(MISTAKES.items()):
        check_id = check_for(mistake)
        path = write(work, f"{mistake_id.replace('.', '_')}.py", mistake_source(mistake))
        report = grade_files([path], device=args.device, select=[check_id])
        check = next((c for c in report.checks if c.id == check_id), None)
        named = check is not None and check.status == "failed" and mistake.name in (check.hint or "")
        if not named:
            missed.append({"mistake": mistake_id, "check": check_id, "status": check and check.status})
    return {"ok": not missed, "mistakes": len(MISTAKES), "missed": missed}


def _errors(details: Any) -> list[tuple[float, str]]:
    """(max abs error, tolerance text) pairs found anywhere in a check's details."""
    found = []
    if isinstance(details, dict):
        if "max_abs_error" in details and "tolerance" in details:
            found.append((float(details["max_abs_error"]), str(details["tolerance"])))
        for value in details.values():
            found += _errors(value)
    elif isinstance(details, list):
        for value in details:
            found += _errors(value)
    return found


def step_margins(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    report = getattr(args, "reference_report", None) or grade_files(reference_files(work), device=args.device)
    margins = {}
    for check in report.checks:
        errors = _errors(check.details)
        if errors:
            worst, tolerance = max(errors)
            atol = re.search(r"atol=([0-9.eE+-]+)", tolerance)
            ratio = worst / float(atol.group(1)) if atol and float(atol.group(1)) > 0 else None
            margins[check.id] = {"max_abs_error": worst, "tolerance": tolerance, "error_over_atol": ratio}
    return {"ok": bool(margins), "checks": margins}


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def step_reproducible(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    select = ["q[1-6].*"] if args.quick else None
    one, two = (grade_files(reference_files(work), device=args.device, select=select) for _ in range(2))
    same = _without_timings(one.model_dump(mode="json")) == _without_timings(two.model_dump(mode="json"))
    return {"ok": same, "score": one.score}


def step_worker_queue(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    var = work / "service"
    env = {
        **os.environ,
        "VITGRADE_VAR_DIR": str(var),
        "VITGRADE_DEVICES": args.device,
        "VITGRADE_SELECT": "q1.*,q2.*",
        "VITGRADE_POLL_S": "0.2",
        "PYTHONPATH": str(REPO),
    }
    return _worker_round_trip(var, env)


def _worker_round_trip(var: Path, env: dict[str, str]) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.config import Settings
    from service.db import Database
    from service.migrate import upgrade
    from service.models import Role
    from service.roster import issue_tokens

    settings = Settings(var_dir=var, select=env["VITGRADE_SELECT"], log_level="WARNING")
    database = Database(settings)
    upgrade(database)
    token = issue_tokens(database, ["acceptance"], Role.student)["acceptance"]
    database.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    worker = subprocess.Popen([sys.executable, "-m", "service.worker"], env=env, cwd=REPO, start_new_session=True)
    began = time.monotonic()
    try:
        with TestClient(create_app(settings)) as client:
            files = [("files", ("vit.py", bundle_submission().encode(), "text/x-python"))]
            sid = client.post("/api/v1/submissions", files=files, headers=headers).json()["id"]
            state: dict[str, Any] = {}
            while time.monotonic() - began < 300:
                state = client.get(f"/api/v1/submissions/{sid}", headers=headers).json()
                if state["status"] in ("done", "error"):
                    break
                time.sleep(0.5)
            report = client.get(f"/api/v1/submissions/{sid}/report", headers=headers).json()
    finally:
        worker.terminate()
        worker.wait(60)
    device = report.get("environment", {}).get("device")
    ok = state.get("status") == "done" and report.get("score") == report.get("max_score", -1) > 0
    return {"ok": ok, "status": state.get("status"), "device": device, "seconds": round(time.monotonic() - began, 1)}


def step_full_profile(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from reference.mnist import default_data_dir

    if args.quick:
        return {"skipped": "--quick"}
    if not (default_data_dir() / "full").exists():
        return {"skipped": f"no full MNIST under {default_data_dir()} (python -m reference.mnist fetch --from DIR)"}
    began = time.monotonic()
    report = grade_files(reference_files(work), device=args.device, data_profile="full")
    return {"ok": report.succeeded and report.score == report.max_score, "seconds": round(time.monotonic() - began, 1)}


def step_train_10s(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    budget = "3" if args.quick else "10"
    profile = "bundled" if args.quick else "full"
    output = work / "train.json"
    # the benchmark knows cpu and cuda: a cuda:N run sees only GPU N, as a grading slot's child does
    gpus = visible_gpus(args.device, os.environ.get("CUDA_VISIBLE_DEVICES"))
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "train_mnist.py"), "--budgets", budget, "--repeats", "1"]
        + ["--device", child_device(args.device), "--data-profile", profile]
        + ["--output", str(output)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        env={**os.environ, **gpus, "PYTHONPATH": str(REPO)},
    )
    if done.returncode != 0:
        return {"ok": False, "error": done.stderr[-500:]}
    figures = json.loads(output.read_text())
    return {"ok": True, "budget_s": float(budget), "data_profile": profile, "figures": figures.get("medians", figures)}


STEPS: dict[str, Callable[[argparse.Namespace, Path], dict[str, Any]]] = {
    "gpu_tests": step_gpu_tests,
    "reference_full": step_reference_full,
    "template_zero": step_template_zero,
    "mistakes": step_mistakes,
    "margins": step_margins,
    "reproducible": step_reproducible,
    "worker_queue": step_worker_queue,
    "full_profile": step_full_profile,
    "train_10s": step_train_10s,
}


def run_steps(args: argparse.Namespace) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "device": args.device,
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs",
        "load": os.getloadavg()[0],
        "steps": {},
    }
    with tempfile.TemporaryDirectory(prefix="vitgrade-acceptance-") as tmp:
        for name, step in STEPS.items():
            if name in args.skip or (args.quick and name == "gpu_tests"):
                summary["steps"][name] = {"skipped": "--skip" if name in args.skip else "--quick"}
                continue
            began = time.monotonic()
            try:
                result = step(args, Path(tmp))
            except Exception as error:  # noqa: BLE001 - one broken step must not hide the others
                result = {"ok": False, "error": f"{type(error).__name__}: {error}"}
            result["wall_s"] = round(time.monotonic() - began, 2)
            summary["steps"][name] = result
    summary["ok"] = all(s.get("ok", True) for s in summary["steps"].values())
    return summary


def as_text(summary: dict[str, Any]) -> str:
    lines = [f"vitgrade acceptance on {summary['device']} ({summary['machine']}, load {summary['load']:.2f})"]
    for name, result in summary["steps"].items():
        verdict = "skipped" if "skipped" in result else "ok" if result.get("ok") else "FAILED"
        extra = {k: v for k, v in result.items() if k not in ("ok", "checks", "lost", "figures")}
        lines.append(f"{verdict:8} {name:15} {json.dumps(extra, default=str)[:300]}")
    for check_id, margin in summary["steps"].get("margins", {}).get("checks", {}).items():
        lines.append(f"         margin {check_id:22} {margin['max_abs_error']:.3g} vs {margin['tolerance']}")
    lines.append("ALL OK" if summary["ok"] else "SOME STEPS FAILED")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--device", default="cuda", help="cpu, cuda or cuda:N (default cuda)")
    parser.add_argument("--quick", action="store_true", help="CPU smoke run: no pytest, no full MNIST, 3 s training")
    parser.add_argument("--skip", nargs="*", default=[], choices=sorted(STEPS), help="steps to leave out")
    args = parser.parse_args()
    import torch

    args.device = resolve_device(
        args.device, cuda_available=torch.cuda.is_available(), cuda_count=torch.cuda.device_count()
    )
    args.outdir.mkdir(parents=True, exist_ok=True)
    summary = run_steps(args)
    (args.outdir / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    (args.outdir / "summary.txt").write_text(as_text(summary))
    sys.stdout.write(as_text(summary))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
