"""The course end to end over HTTP with real processes (uvicorn + ``python -m service.worker``, the real grader
on one check): policy set -> an on-time and a late submission -> a TA override -> grades.csv."""

import csv
import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import LiveService
from test_svc_e2e import _auth, submit, wait_final

from service.db import Database
from service.migrate import upgrade
from service.models import Role
from service.roster import issue_tokens

pytestmark = pytest.mark.slow


def test_policy_on_time_and_late_override_export(tmp_path: Path, reference_submission: list[Path]) -> None:
    service = LiveService(tmp_path / "var", VITGRADE_SELECT="q1.shape")
    database = Database(service.settings)
    upgrade(database)
    student = issue_tokens(database, ["Doe, Jane"], Role.student)["Doe, Jane"]
    teacher = _auth(issue_tokens(database, ["prof"], Role.instructor)["prof"])
    database.dispose()
    try:
        service.start_api()
        service.start_worker()
        due = datetime.now(UTC) + timedelta(seconds=4)
        policy = {"timezone": "America/New_York", "due_at": due.isoformat(), "late_mode": "decay",
                  "decay_percent_per_hour": 50, "decay_floor_percent": 10, "counts": "latest"}  # fmt: skip
        answer = httpx.put(f"{service.url}/api/v1/instructor/policy", json=policy, headers=teacher, timeout=30)
        assert answer.status_code == 200 and answer.json()["due_local"].endswith(("EST", "EDT")), answer.text
        on_time = submit(service, student, reference_submission)
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 1.5)
        late = submit(service, student, reference_submission)
        for sid in (on_time, late):
            assert wait_final(service, student, sid, timeout=600)["status"] == "done"

        mine = httpx.get(f"{service.url}/api/v1/course", headers=_auth(student), timeout=30).json()
        by_id = {s["id"]: s for s in mine["submissions"]}
        assert by_id[on_time]["timing"] == "on_time" and by_id[on_time]["credit_percent"] == 100
        assert by_id[late]["timing"] == "late" and 99 < by_id[late]["credit_percent"] < 100, by_id[late]
        assert mine["counted_submission"] == late

        url = f"{service.url}/api/v1/instructor/submissions/{late}/overrides"
        made = httpx.post(url, json={"check_id": "q1.shape", "score": 0.5, "reason": "copied", "feedback": "see me"},
                          headers=teacher, timeout=30)  # fmt: skip
        assert made.status_code == 201 and made.json()["effective_score"] == 0.5, made.text  # auto: 1 of 1

        export = httpx.get(f"{service.url}/api/v1/instructor/grades.csv", headers=teacher, timeout=30)
        assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
        row = next(csv.DictReader(io.StringIO(export.text)))
        assert row["student"] == "Doe, Jane" and row["submission"] == late and row["timing"] == "late"
        assert row["raw_score"] == "0.5" and 0.49 < float(row["final_score"]) < 0.5 and row["Q1"] == "0.5"
    finally:
        service.stop()
