"""A submission's status is its latest job's, written in one place (``service.queue.sync_status``), on both
backends: each queue step leaves the status it should, and nothing else in the service writes the column."""

import ast
import re
from pathlib import Path

import pytest
from test_svc_queue import expire, make_submission
from test_svc_worker import fake_report

from service import queue
from service.db import Database
from service.models import Job, Status, Submission

SERVICE = Path(__file__).resolve().parents[2] / "service"


def status_of(database: Database, submission_id: str) -> tuple[str, str]:
    """(the submission's status, its latest job's status), as stored."""
    with database.session() as session:
        latest = session.query(Job).filter(Job.submission_id == submission_id).order_by(Job.id.desc()).first()
        return session.get(Submission, submission_id).status, latest.status


def test_enqueue_claim_complete(database: Database) -> None:
    submission = make_submission(database)
    assert submission.status == Status.queued  # the caller's object too, not only the row
    assert status_of(database, submission.id) == (Status.queued, Status.queued)
    claim = queue.claim(database, "w1", "cpu", lease_s=30)
    assert status_of(database, submission.id) == (Status.running, Status.running)
    assert queue.complete(database, claim, fake_report(4.0), submission.user_id)
    assert status_of(database, submission.id) == (Status.done, Status.done)
    with database.write_session() as session:  # a regrade: the submission follows its new job
        queue.enqueue(session, session.get(Submission, submission.id), kind="regrade")
    assert status_of(database, submission.id) == (Status.queued, Status.queued)
    claim = queue.claim(database, "w1", "cpu", lease_s=30)
    assert queue.complete(
        database, claim, fake_report(4.0, succeeded=False, message="grader fault"), submission.user_id
    )
    assert status_of(database, submission.id) == (Status.error, Status.error)


def test_fail_hand_back_and_give_up(database: Database) -> None:
    submission = make_submission(database)  # two attempts
    first = queue.claim(database, "w1", "cpu", lease_s=30)
    queue.hand_back(database, first)
    assert status_of(database, submission.id) == (Status.queued, Status.queued)
    second = queue.claim(database, "w1", "cpu", lease_s=30)
    queue.fail(database, second, "disk full")  # attempt 1 of 2: back in the queue
    assert status_of(database, submission.id) == (Status.queued, Status.queued)
    third = queue.claim(database, "w1", "cpu", lease_s=30)
    assert third.attempt == 2
    queue.fail(database, third, "disk full")  # no attempts left
    assert status_of(database, submission.id) == (Status.error, Status.error)
    other = make_submission(database)
    for _ in range(2):  # a worker that dies twice: the reaper ends it
        claim = queue.claim(database, "w1", "cpu", lease_s=30)
        expire(database, claim.job_id)
    assert queue.reap_expired(database) == 1
    assert status_of(database, other.id) == (Status.error, Status.error)


def test_setting_the_status_directly_is_refused(database: Database) -> None:
    submission = make_submission(database)
    with database.write_session() as session:
        row = session.get(Submission, submission.id)
        with pytest.raises(AttributeError, match="latest job's"):
            row.status = Status.done
    with pytest.raises(AttributeError, match="latest job's"):
        Submission(user_id=submission.user_id, status=Status.done)
    assert status_of(database, submission.id) == (Status.queued, Status.queued)


def _sql_writers(path: Path) -> list[str]:
    """Where ``path`` updates the submissions table in SQL (the ORM attribute is guarded by an event)."""
    tree = ast.parse(path.read_text())
    found = []
    for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)):
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "update"
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id == "Submission"
            ):
                found.append(f"{path.relative_to(SERVICE)}:{function.name}")
    if re.search(r"update\s+submissions|Submission\.__table__", path.read_text(), re.IGNORECASE):
        found.append(f"{path.relative_to(SERVICE)}: raw SQL or table update")
    return found


def test_one_writer_of_the_status_in_the_service() -> None:
    writers = [w for path in sorted(SERVICE.rglob("*.py")) for w in _sql_writers(path)]
    assert writers == ["queue.py:sync_status"], writers
