"""The ``0005_scores`` migration on both backends: a database at ``0004_blobs`` with results upgrades with the
scores of every result read from its report (in batches), and job progress text turned into numbers."""

import json
import random

import pytest
import sqlalchemy as sa
from test_svc_scores import random_report

from service import scores
from service.config import Settings
from service.db import Database
from service.migrate import upgrade
from service.models import CheckScore, Job, QuestionScore

RESULTS = 1_203  # more than two batches of the migration's 500


@pytest.fixture
def old_database(settings: Settings) -> Database:
    database = Database(settings)
    upgrade(database, "0004_blobs")
    yield database
    database.dispose()


def test_an_existing_database_upgrades_with_its_scores(old_database: Database) -> None:
    rng = random.Random(5)
    reports = [random_report(rng) for _ in range(4)]
    now = "2026-01-01 00:00:00"
    with old_database.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO users (id, name, role, token_hash, created_at) "
                             "VALUES ('u1', 'alice', 'student', :h, :now)"), {"h": "a" * 64, "now": now})  # fmt: skip
        conn.execute(sa.text("INSERT INTO submissions (id, user_id, created_at, status, files) "
                             "VALUES ('s1', 'u1', :now, 'done', '[]')"), {"now": now})  # fmt: skip
        jobs = [{"id": i + 1, "progress": "done"} for i in range(RESULTS)]
        jobs[-1]["progress"] = "3/10 q2.shape passed"  # a job that was running
        conn.execute(
            sa.text("INSERT INTO jobs (id, submission_id, kind, status, attempts, max_attempts, progress, error, "
                    "created_at) VALUES (:id, 's1', 'grade', 'done', 1, 3, :progress, '', '" + now + "')"),
            jobs,
        )  # fmt: skip
        rows = [
            {"id": i + 1, "report": json.dumps(reports[i % len(reports)].model_dump(mode="json"))}
            for i in range(RESULTS)
        ]
        rows[7]["report"] = json.dumps({"score": 0, "message": "an old report without questions or checks"})
        conn.execute(
            sa.text("INSERT INTO results (id, job_id, submission_id, user_id, score, max_score, succeeded, gradable, "
                    "duration_s, message, report, created_at) "
                    "VALUES (:id, :id, 's1', 'u1', 1, 27, true, true, 1, '', :report, '" + now + "')"),
            rows,
        )  # fmt: skip

    upgrade(old_database)

    with old_database.session() as session:
        q, c = QuestionScore, CheckScore
        questions = session.execute(sa.select(q.result_id, q.question, q.score, q.max_score)).all()
        checks = session.execute(
            sa.select(c.result_id, c.check_id, c.submission_id, c.question, c.score, c.max_score)
        ).all()
        progress = session.execute(
            sa.select(Job.progress_done, Job.progress_total, Job.progress_label).order_by(Job.id)
        ).all()
    want_questions, want_checks = set(), set()
    for i in range(RESULTS):
        if i == 7:
            continue
        report = reports[i % len(reports)]
        want_questions |= {tuple(r.values()) for r in scores.question_rows(i + 1, report)}
        want_checks |= {tuple(r.values()) for r in scores.check_rows(i + 1, "s1", report)}
    assert {tuple(q) for q in questions} == want_questions and len(questions) == len(want_questions)
    assert {tuple(row) for row in checks} == want_checks and len(checks) == len(want_checks)
    assert progress[0] == (0, 0, "done") and progress[-1] == (3, 10, "q2.shape passed")


def test_the_revision_goes_down_and_up_again(database: Database) -> None:
    """Downgrade to ``0004_blobs`` (progress back to its text, the score tables dropped), then upgrade again."""
    from alembic import command

    from service.migrate import alembic_config

    with database.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0004_blobs")
    tables = set(sa.inspect(database.engine).get_table_names())
    assert "check_scores" not in tables and "question_scores" not in tables
    assert "progress" in {c["name"] for c in sa.inspect(database.engine).get_columns("jobs")}
    upgrade(database)
    assert {"check_scores", "question_scores"} <= set(sa.inspect(database.engine).get_table_names())
