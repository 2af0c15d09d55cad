"""A grader fault is never a grade: the real grader, whose sandbox cannot start here, makes the worker retry
the job and then end it in ``error`` with the grader's message and no score."""

from pathlib import Path

import pytest
from conftest import Tokens
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.config import Settings
from service.db import Database
from service.models import Job, Result
from service.worker import Worker

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_sandbox_that_cannot_start_is_retried_then_an_error_without_a_score(
    client: TestClient,
    tokens: Tokens,
    database: Database,
    settings: Settings,
    reference_submission: list[Path],
) -> None:
    if not database.sqlite:
        pytest.skip("real grading runs on SQLite; the queue's retries are tested on both backends")
    limits = settings.grader.limits.model_copy(update={"start_timeout_s": 0.001})  # test-only: no child starts
    grader = settings.grader.model_copy(update={"limits": limits})
    settings = settings.model_copy(update={"select": "q1.shape", "grader": grader})
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in reference_submission[:1]]
    answer = client.post("/api/v1/submissions", files=files, headers=Tokens.header(tokens.alice))
    assert answer.status_code == 202, answer.text
    sid = answer.json()["id"]
    worker = Worker(settings, database)
    runs = 0
    while worker.run_once():
        runs += 1
    assert runs == settings.max_attempts
    seen = client.get(f"/api/v1/submissions/{sid}", headers=Tokens.header(tokens.alice)).json()
    assert seen["status"] == "error", seen
    assert "not the student's" in seen["message"] and "did not start" in seen["message"], seen["message"]
    assert seen.get("score") is None and not seen.get("grades"), seen
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Result)) == 0
        job = session.scalars(select(Job)).one()
        assert job.attempts == settings.max_attempts
