"""The jobs table as a queue: enqueue, claim with a lease, heartbeat, complete once, fail, hand back.

Claiming is atomic on both backends: ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, and on
SQLite (inside ``BEGIN IMMEDIATE``) a single ``UPDATE jobs ... WHERE id = (SELECT ...) AND status =
'queued'``. A job whose lease expired (its worker died) is claimable again; once it has used
``max_attempts`` it ends in ``error``. Completion is guarded by (worker, attempt, status running)
and by the unique ``results.job_id``: a job completed twice cannot leave two results.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grader.report import Report
from service import scores
from service.db import Database
from service.models import Job, Result, Status, Submission, utcnow
from service.progress import DONE, GRADER_FAULT, HANDED_BACK, Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """A job a worker holds: ``attempt`` is the attempt number it was claimed under."""

    job_id: int
    submission_id: str
    attempt: int
    worker_id: str


def enqueue(session: Session, submission: Submission, *, kind: str = "grade", max_attempts: int = 3) -> Job:
    """Add a job for ``submission`` (in the caller's transaction); the submission is then queued (its latest job)."""
    job = Job(submission_id=submission.id, kind=kind, status=Status.queued, max_attempts=max_attempts)
    session.add(job)
    session.flush()
    sync_status(session, submission.id)
    return job


def position(session: Session, job: Job) -> int | None:
    """1-based place of a queued job in the queue (None when it is not queued)."""
    if job.status != Status.queued:
        return None
    ahead = session.scalar(select(func.count()).where(Job.status == Status.queued, Job.id < job.id))
    return int(ahead or 0) + 1


def queue_depth(session: Session) -> int:
    return int(session.scalar(select(func.count()).where(Job.status == Status.queued)) or 0)


def _expired(now: datetime):  # noqa: ANN202
    return and_(Job.status == Status.running, Job.lease_expires_at < now)


def reap_expired(database: Database) -> int:
    """End in ``error`` the expired jobs that have no attempts left; return how many."""
    now = utcnow()
    with database.write_session() as session:
        jobs = session.scalars(select(Job).where(_expired(now), Job.attempts >= Job.max_attempts)).all()
        for job in jobs:
            job.status = Status.error
            job.finished_at = now
            job.error = (
                f"Grading did not finish after {job.attempts} attempts (the worker stopped or crashed each time). "
                "Please contact your instructor."
            )
            sync_status(session, job.submission_id)
            log.warning("job gave up", extra={"submission_id": job.submission_id, "job_id": job.id})
        return len(jobs)


def claim(database: Database, worker_id: str, device: str, lease_s: float) -> Claim | None:
    """Take the oldest claimable job (queued, or running with an expired lease and attempts left)."""
    reap_expired(database)
    now = utcnow()
    lease = now + timedelta(seconds=lease_s)
    claimable = or_(Job.status == Status.queued, and_(_expired(now), Job.attempts < Job.max_attempts))
    with database.write_session() as session:
        if database.sqlite:
            row = session.execute(
                text(
                    "UPDATE jobs SET status = 'running', worker_id = :worker, device = :device, "
                    "attempts = attempts + 1, lease_expires_at = :lease, heartbeat_at = :now, started_at = :now, "
                    "progress_done = 0, progress_total = 0, progress_label = '' "
                    "WHERE id = (SELECT id FROM jobs WHERE status = 'queued' "
                    "  OR (status = 'running' AND lease_expires_at < :now AND attempts < max_attempts) "
                    "  ORDER BY id LIMIT 1) "
                    "AND (status = 'queued' OR (status = 'running' AND lease_expires_at < :now)) "
                    "RETURNING id, submission_id, attempts"
                ),
                {"worker": worker_id, "device": device, "lease": _sqlite_ts(lease), "now": _sqlite_ts(now)},
            ).first()
            if row is None:
                return None
            job_id, submission_id, attempt = row
        else:
            job = session.scalars(
                select(Job).where(claimable).order_by(Job.id).limit(1).with_for_update(skip_locked=True)
            ).first()
            if job is None:
                return None
            job.status, job.worker_id, job.device = Status.running, worker_id, device
            job.attempts += 1
            job.lease_expires_at, job.heartbeat_at, job.started_at = lease, now, now
            job.progress_done, job.progress_total, job.progress_label = 0, 0, ""
            job_id, submission_id, attempt = job.id, job.submission_id, job.attempts
        sync_status(session, submission_id)
    return Claim(job_id=job_id, submission_id=submission_id, attempt=attempt, worker_id=worker_id)


def _sqlite_ts(value: datetime) -> str:
    """The text form SQLAlchemy's SQLite DateTime stores (naive UTC), for the raw claim statement."""
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _held(claim: Claim):  # noqa: ANN202
    return and_(
        Job.id == claim.job_id,
        Job.worker_id == claim.worker_id,
        Job.attempts == claim.attempt,
        Job.status == Status.running,
    )


def heartbeat(database: Database, claim: Claim, lease_s: float, progress: Progress | None = None) -> bool:
    """Renew the lease (and store ``progress``); False when the job is no longer ours (it expired and someone
    else took it)."""
    now = utcnow()
    values: dict[str, Any] = {"lease_expires_at": now + timedelta(seconds=lease_s), "heartbeat_at": now}
    if progress is not None:
        values.update(progress.columns)
    with database.write_session() as session:
        return session.execute(update(Job).where(_held(claim)).values(**values)).rowcount == 1


def complete(database: Database, claim: Claim, report: Report, user_id: str) -> bool:
    """Record the report of a job we still hold; exactly once. Returns False when it was not ours to write."""
    now = utcnow()
    try:
        with database.write_session() as session:
            final = {"status": Status.done, **DONE.columns, "finished_at": now}
            if not report.succeeded:  # a grader fault: recorded as it is, the score is not a grade
                final.update(status=Status.error, **GRADER_FAULT.columns, error=report.message[:4000])
            done = session.execute(update(Job).where(_held(claim)).values(**final)).rowcount
            if done != 1:
                log.warning("result discarded: job no longer held", extra={"submission_id": claim.submission_id})
                return False
            result = Result(
                job_id=claim.job_id,
                submission_id=claim.submission_id,
                user_id=user_id,
                score=report.score,
                max_score=report.max_score,
                succeeded=report.succeeded,
                gradable=report.gradable,
                duration_s=report.duration_s,
                message=report.message[:4000],
                report=report,
            )
            session.add(result)
            session.flush()
            scores.record(session, result.id, claim.submission_id, report)
            sync_status(session, claim.submission_id)
    except IntegrityError:
        log.warning("result discarded: job already has one", extra={"submission_id": claim.submission_id})
        return False
    return True


def fail(database: Database, claim: Claim, message: str) -> None:
    """The attempt failed outside the grader's report: re-queue, or end in error when no attempts are left."""
    with database.write_session() as session:
        job = session.scalars(select(Job).where(_held(claim))).first()
        if job is None:
            return
        if job.attempts >= job.max_attempts:
            job.status, job.finished_at = Status.error, utcnow()
            job.error = f"Grading failed {job.attempts} times; last error: {message}"[:4000]
        else:
            job.status, job.worker_id, job.lease_expires_at = Status.queued, None, None
            job.error = message[:4000]
        sync_status(session, claim.submission_id)


def hand_back(database: Database, claim: Claim) -> None:
    """Give an unfinished job back to the queue (graceful shutdown); the attempt is not counted."""
    with database.write_session() as session:
        session.execute(
            update(Job)
            .where(_held(claim))
            .values(
                status=Status.queued,
                worker_id=None,
                lease_expires_at=None,
                attempts=Job.attempts - 1,
                **HANDED_BACK.columns,
            )
        )
        sync_status(session, claim.submission_id)


def sync_status(session: Session, submission_id: str) -> None:
    """A submission's status is its latest job's: the one place that writes ``Submission.status`` (a test holds
    the rest of the service to it), called in the transaction of every change to a job's status."""
    latest = session.scalars(
        select(Job.status).where(Job.submission_id == submission_id).order_by(Job.id.desc()).limit(1)
    ).first()
    if latest is not None:
        session.execute(update(Submission).where(Submission.id == submission_id).values(status=latest))
