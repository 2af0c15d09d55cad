"""The scale benchmark runs end to end on a small class (PostgreSQL, uvicorn, HTTP) and prints its figures."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import postgres_bin
from test_svc_scores import random_report

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_the_scale_benchmark_measures_a_small_class(tmp_path: Path) -> None:
    if postgres_bin() is None:
        pytest.skip("PostgreSQL binaries not found")
    report = tmp_path / "report.json"
    report.write_text(json.dumps(random_report(random.Random(3)).model_dump(mode="json")))
    command = [sys.executable, str(ROOT / "benchmarks" / "scale_postgres.py"), "--students", "20", "--submissions",
               "3", "--runs", "1", "--requests", "8", "--report", str(report)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout[done.stdout.index("{") :])
    assert figures["class"].endswith("= 60 submissions")
    assert figures["db_bytes_per_submission"] > figures["table_bytes_per_submission"]["check_scores"] > 0
    for phase in ("cold", "warm"):
        assert set(figures[phase]) >= {"grades_csv_ms", "list_p99_ms", "metrics_median_ms"}
        assert all(value > 0 for value in figures[phase].values()), figures[phase]
    assert any(name.endswith("gradebook") for name in figures["explain_analyze_ms"])
