"""The jobs table as a queue, on both backends: exclusive claims, leases, exactly-once results, attempts."""

import threading
import time

from sqlalchemy import func, select, update
from test_svc_worker import fake_report

from service import queue
from service.db import Database
from service.models import Job, Result, Status, Submission, User
from service.progress import Progress

REPORT = fake_report(3.0)


def make_submission(database: Database, user_name: str = "alice") -> Submission:
    with database.write_session() as session:
        user = session.scalar(select(User).where(User.name == user_name))
        if user is None:
            user = User(name=user_name, token_hash=f"h-{user_name}")
            session.add(user)
            session.flush()
        submission = Submission(user_id=user.id, files=[])
        session.add(submission)
        session.flush()
        queue.enqueue(session, submission, max_attempts=2)
    return submission


def result_count(database: Database, submission_id: str) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).where(Result.submission_id == submission_id))


def expire(database: Database, job_id: int) -> None:
    with database.write_session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(lease_expires_at=Job.created_at))


def test_claims_oldest_first_and_reports_positions(database: Database) -> None:
    first, second = make_submission(database), make_submission(database)
    with database.session() as session:
        jobs = session.scalars(select(Job).order_by(Job.id)).all()
        assert [queue.position(session, j) for j in jobs] == [1, 2]
    claim = queue.claim(database, "w1", "cpu", lease_s=30)
    assert claim is not None and claim.submission_id == first.id and claim.attempt == 1
    with database.session() as session:
        assert session.get(Submission, first.id).status == Status.running
        assert queue.position(session, session.scalars(select(Job).where(Job.submission_id == second.id)).one()) == 1


def test_concurrent_claims_never_share_a_job(database: Database) -> None:
    for _ in range(12):
        make_submission(database)
    claimed: list[int] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while (claim := queue.claim(database, name, "cpu", lease_s=30)) is not None:
            with lock:
                claimed.append(claim.job_id)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 12


def test_completed_twice_leaves_one_result(database: Database) -> None:
    submission = make_submission(database)
    claim = queue.claim(database, "w1", "cpu", lease_s=30)
    assert queue.complete(database, claim, REPORT, submission.user_id) is True
    assert queue.complete(database, claim, REPORT, submission.user_id) is False
    assert result_count(database, submission.id) == 1
    with database.session() as session:
        assert session.get(Submission, submission.id).status == Status.done


def test_expired_lease_is_reclaimed_and_the_old_holder_cannot_write(database: Database) -> None:
    submission = make_submission(database)
    stale = queue.claim(database, "dead", "cpu", lease_s=30)
    assert queue.claim(database, "other", "cpu", lease_s=30) is None  # leased: nobody else gets it
    expire(database, stale.job_id)
    fresh = queue.claim(database, "alive", "cpu", lease_s=30)
    assert fresh is not None and fresh.job_id == stale.job_id and fresh.attempt == 2
    assert queue.heartbeat(database, stale, 30) is False
    assert queue.complete(database, stale, REPORT, submission.user_id) is False
    assert queue.complete(database, fresh, REPORT, submission.user_id) is True
    assert result_count(database, submission.id) == 1


def test_out_of_attempts_ends_in_error_with_a_message(database: Database) -> None:
    submission = make_submission(database)  # max_attempts=2
    for _ in range(2):
        claim = queue.claim(database, "crashy", "cpu", lease_s=30)
        assert claim is not None
        expire(database, claim.job_id)
    assert queue.claim(database, "next", "cpu", lease_s=30) is None
    with database.session() as session:
        job = session.scalars(select(Job).where(Job.submission_id == submission.id)).one()
        assert job.status == Status.error and "2 attempts" in job.error
        assert session.get(Submission, submission.id).status == Status.error


def test_fail_requeues_then_gives_up(database: Database) -> None:
    submission = make_submission(database)
    queue.fail(database, queue.claim(database, "w", "cpu", 30), "boom")
    with database.session() as session:
        assert session.get(Submission, submission.id).status == Status.queued
    queue.fail(database, queue.claim(database, "w", "cpu", 30), "boom again")
    with database.session() as session:
        job = session.scalars(select(Job)).one()
        assert job.status == Status.error and "boom again" in job.error


def test_hand_back_does_not_use_an_attempt(database: Database) -> None:
    make_submission(database)
    claim = queue.claim(database, "w", "cpu", 30)
    queue.hand_back(database, claim)
    again = queue.claim(database, "w2", "cpu", 30)
    assert again is not None and again.attempt == 1


def test_heartbeat_extends_the_lease_and_stores_progress(database: Database) -> None:
    make_submission(database)
    claim = queue.claim(database, "w", "cpu", lease_s=1)
    with database.session() as session:
        before = session.get(Job, claim.job_id).lease_expires_at
    time.sleep(0.01)
    assert queue.heartbeat(database, claim, lease_s=60, progress=Progress.of(3, 10, "q2.shape passed"))
    with database.session() as session:
        job = session.get(Job, claim.job_id)
        assert job.lease_expires_at > before
        assert (job.progress_done, job.progress_total, job.progress_label) == (3, 10, "q2.shape passed")


def test_progress_is_clamped_to_its_columns() -> None:
    assert Progress.of(12, 10, "q9.x   passed") == Progress(10, 10, "q9.x passed")  # never past the total
    assert Progress.of(-3, 0) == Progress(0, 0, "") and Progress.of(4, 0).text == ""  # no total yet: no count
    assert Progress.of(3, 10, "q2.shape passed").text == "3/10 q2.shape passed"
    assert len(Progress.of(1, 2, "x" * 1000).label) == 128
