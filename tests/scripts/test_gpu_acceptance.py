"""The GPU acceptance script works the first time on a GPU host because CI runs every step of it on the CPU."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_acceptance_script_passes_on_the_cpu(tmp_path: Path) -> None:
    out = tmp_path / "acceptance"
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "gpu-acceptance.sh"), str(out), "--device", "cpu", "--quick"],
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(REPO)},
    )
    summary = json.loads((out / "summary.json").read_text())
    text = (out / "summary.txt").read_text()
    assert done.returncode == 0, text + done.stderr[-3000:]
    steps = summary["steps"]
    assert set(steps) == {
        "gpu_tests",
        "reference_full",
        "template_zero",
        "mistakes",
        "margins",
        "reproducible",
        "worker_queue",
        "full_profile",
        "train_10s",
    }
    assert steps["reference_full"]["score"] == 100 and steps["template_zero"]["score"] == 0
    assert steps["mistakes"]["mistakes"] >= 30 and steps["mistakes"]["missed"] == []
    assert steps["worker_queue"]["device"] == "cpu" and steps["worker_queue"]["status"] == "done"
    assert all(m["max_abs_error"] <= 1e-3 for m in steps["margins"]["checks"].values())
    assert "ALL OK" in text and summary["device"] == "cpu"


def test_the_script_explains_its_usage() -> None:
    done = subprocess.run(["bash", str(REPO / "scripts" / "gpu-acceptance.sh")], capture_output=True, text=True)
    assert done.returncode == 2 and "usage: scripts/gpu-acceptance.sh OUTDIR" in done.stderr
