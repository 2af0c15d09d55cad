"""The grader's report as a typed column on both backends: stored as the model's JSON, read back as a ``Report``,
the staff and student views unchanged, hand-made and older rows still readable, no dict reads left in the service."""

import json
import re
from pathlib import Path

import pytest
from conftest import Tokens
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, text
from test_svc_instructor import grade_next, submit
from test_svc_overrides import final_of
from test_svc_worker import fake_report

from grader.report import CheckResult, QuestionScore, Report
from service import scores
from service.config import Settings
from service.db import Database
from service.models import CheckScore, Job, Result, Status
from service.models import QuestionScore as StoredQuestionScore
from service.stored_report import UNKNOWN, load
from service.worker import Worker

SERVICE = Path(__file__).resolve().parents[2] / "service"


def graded_report() -> Report:
    """A report with what the two views treat differently: a hidden check, a staff traceback, the log."""
    checks = [
        CheckResult(id="q1.shape", question="Q1", category="shape", status="failed", score=1.0, max_score=5.0,
                    message="expected (2, 16, 64), got (2, 64, 16)", hint="transpose", details={"max_abs": 0.5},
                    staff_traceback="Traceback ..."),
        CheckResult(id="q1.hidden", question="Q1", category="property", status="passed", score=2.0, max_score=2.0,
                    message="secret configuration", hint="secret", hidden=True, details={"embed_dim": 48}),
    ]  # fmt: skip
    questions = [QuestionScore(id="Q1", score=3.0, max_score=7.0, title="Patch embedding")]
    return fake_report(3.0).model_copy(update={"checks": checks, "questions": questions, "log": "printed 48"})


def stored_json(database: Database, submission_id: str) -> dict:
    """The column as the database holds it (no type in between)."""
    with database.session() as session:
        raw = session.execute(
            text("SELECT report FROM results WHERE submission_id = :sid"), {"sid": submission_id}
        ).scalar_one()
    return json.loads(raw) if isinstance(raw, str) else raw


def overwrite(database: Database, submission_id: str, stored: dict) -> None:
    """Put a row's report back as raw JSON, as an older version of the service may have written it, with the
    stored scores the upgrade to stored scores derives from it."""
    with database.write_session() as session:
        session.execute(
            text("UPDATE results SET report = :report, score = :score, max_score = :top WHERE submission_id = :sid"),
            {
                "report": json.dumps(stored),
                "score": stored.get("score", 0.0),
                "top": stored.get("max_score", 0.0),
                "sid": submission_id,
            },  # fmt: skip
        )
        for result_id in session.scalars(select(Result.id).where(Result.submission_id == submission_id)):
            session.execute(delete(StoredQuestionScore).where(StoredQuestionScore.result_id == result_id))
            session.execute(delete(CheckScore).where(CheckScore.result_id == result_id))
            scores.record(session, result_id, submission_id, load(stored))


def test_report_is_stored_as_its_json_and_read_back_as_a_report(
    client: TestClient, tokens: Tokens, database: Database
) -> None:
    report = graded_report()
    sid = submit(client, tokens.alice)
    grade_next(database, report)
    assert stored_json(database, sid) == report.model_dump(mode="json")
    with database.session() as session:
        loaded = session.scalars(select(Result.report).where(Result.submission_id == sid)).one()
    assert isinstance(loaded, Report) and loaded == report

    staff = client.get(f"/api/v1/instructor/submissions/{sid}/report", headers=Tokens.header(tokens.instructor))
    assert staff.json() == report.model_dump(mode="json")  # in full: hidden message, traceback, log
    student = client.get(f"/api/v1/submissions/{sid}/report", headers=Tokens.header(tokens.alice)).json()
    expected = report.student_view().model_dump(mode="json")
    expected["effective_score"] = 3.0
    expected["questions"][0]["effective_score"] = 3.0
    assert student == expected
    assert student["log"] == "" and student["checks"][1]["message"] == "hidden check"
    assert student["checks"][0]["staff_traceback"] is None


def test_a_dict_is_refused_where_a_report_belongs(database: Database) -> None:
    with database.write_session() as session, pytest.raises(Exception, match="takes a grader.report.Report, got dict"):
        session.add(Result(job_id=1, submission_id="x", user_id="y", score=0.0, max_score=0.0, succeeded=True,
                           gradable=True, report={"score": 0.0}))  # fmt: skip
        session.flush()


def test_a_stored_report_without_newer_or_required_fields_still_loads(
    client: TestClient, tokens: Tokens, database: Database
) -> None:
    sid = submit(client, tokens.alice)
    grade_next(database, graded_report())
    legacy = {  # no schema_version, environment, titles, check durations, log
        "score": 4, "max_score": 10, "succeeded": True, "gradable": True, "duration_s": 1,
        "questions": [{"id": "Q1", "score": 4, "max_score": 7}],
        "checks": [{"id": "q1.shape", "question": "Q1", "category": "shape", "status": "failed", "score": 4,
                    "max_score": 5}],
    }  # fmt: skip
    overwrite(database, sid, legacy)
    teacher = Tokens.header(tokens.instructor)
    staff = client.get(f"/api/v1/instructor/submissions/{sid}/report", headers=teacher).json()
    assert staff["score"] == 4 and staff["environment"]["grader_version"] == UNKNOWN
    assert staff["questions"] == [{"id": "Q1", "score": 4.0, "max_score": 7.0, "title": ""}]
    student = client.get(f"/api/v1/submissions/{sid}/report", headers=Tokens.header(tokens.alice))
    assert student.status_code == 200 and student.json()["effective_score"] == 4
    made = client.post(
        f"/api/v1/instructor/submissions/{sid}/overrides",
        json={"check_id": "q1.shape", "score": 5, "reason": "right on paper"}, headers=teacher,
    )  # fmt: skip
    assert made.status_code == 201 and made.json()["effective_score"] == 5 and made.json()["auto_score"] == 4
    assert final_of(client, tokens)["final_score"] == "5"


def test_load_fills_only_what_is_missing() -> None:
    empty = load({})
    assert (empty.score, empty.succeeded, empty.environment.device) == (0.0, False, UNKNOWN)
    full = fake_report(7.0).model_dump(mode="json")
    assert load(full) == fake_report(7.0)
    assert load({**full, "score": 2}).score == 2.0


def test_no_dict_reads_of_a_grade_report_in_the_service() -> None:
    """Readers use the Report's attributes; the similarity package's reports are its own (not grades)."""
    pattern = re.compile(r"\breport(\.get\(|\[)")
    found = [
        f"{path.relative_to(SERVICE)}:{number}: {line.strip()}"
        for path in SERVICE.rglob("*.py")
        if "similarity" not in path.parts
        and path.name != "similarity.py"
        and "migrations" not in path.parts  # a migration reads the JSON as it was stored, never through the model
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
    assert found == [], found


def test_the_worker_validates_what_the_grader_returns_once(
    client: TestClient, tokens: Tokens, database: Database, settings: Settings
) -> None:
    sid = submit(client, tokens.alice)
    as_json = Worker(settings, database, grade=lambda paths, **kw: fake_report(6.0).model_dump(mode="json"))
    assert as_json.run_once()  # a grader entry point that answers JSON is validated into a Report
    assert stored_json(database, sid) == fake_report(6.0).model_dump(mode="json")
    broken = submit(client, tokens.alice)
    assert Worker(settings, database, grade=lambda paths, **kw: {"score": 1.0}).run_once()
    with database.session() as session:
        job = session.scalars(select(Job).where(Job.submission_id == broken)).one()
        assert job.status == Status.queued and "ValidationError" in job.error and "environment" in job.error
        assert session.scalar(select(func.count()).where(Result.submission_id == broken)) == 0
