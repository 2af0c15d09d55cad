"""Submissions: accept (rate limit, store durably, commit, queue), read back (always filtered by owner), regrade."""

import logging
import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import queue
from service.config import Settings
from service.db import Database
from service.models import Job, Result, Role, Status, Submission, User, utcnow
from service.schemas import GradePublic, SubmissionPublic, files_public, links_for
from service.storage import BlobStore
from service.uploads import UploadedFile

log = logging.getLogger(__name__)


class RateLimited(Exception):
    """Too many submissions in the window; ``retry_after`` seconds until the next one is allowed."""

    def __init__(self, retry_after: int, message: str):
        super().__init__(message)
        self.retry_after = retry_after
        self.message = message


def check_rate(session: Session, user: User, settings: Settings) -> None:
    """Raise ``RateLimited`` when ``user`` has used up the window (instructors are not limited)."""
    if user.role == Role.instructor or settings.rate_limit_count <= 0:
        return
    since = utcnow() - timedelta(seconds=settings.rate_limit_window_s)
    recent = session.scalars(
        select(Submission.created_at)
        .where(Submission.user_id == user.id, Submission.created_at > since)
        .order_by(Submission.created_at.desc())
        .limit(settings.rate_limit_count)
    ).all()
    if len(recent) >= settings.rate_limit_count:
        oldest = min(recent)
        wait = (oldest + timedelta(seconds=settings.rate_limit_window_s) - utcnow()).total_seconds()
        retry = max(1, math.ceil(wait))
        raise RateLimited(
            retry,
            f"Rate limit: {settings.rate_limit_count} submissions per {settings.rate_limit_window_s:g} s; "
            f"try again in {retry} s.",
        )


def create(
    database: Database, store: BlobStore, settings: Settings, user: User, uploads: list[UploadedFile]
) -> tuple[Submission, Job, int | None]:
    """Store the files (fsynced), then commit the submission and its job: only then may the caller answer 202."""
    files = [{"name": u.name, "sha256": store.put(u.data), "size": len(u.data)} for u in uploads]
    with database.write_session() as session:
        locked = session.scalars(select(User).where(User.id == user.id).with_for_update()).one()
        check_rate(session, locked, settings)  # again, under the write lock: concurrent requests cannot both pass
        submission = Submission(user_id=user.id, files=files, status=Status.queued)
        session.add(submission)
        session.flush()
        job = queue.enqueue(session, submission, max_attempts=settings.max_attempts)
        where = queue.position(session, job)
    log.info("submission accepted", extra={"submission_id": submission.id, "user": user.name, "job_id": job.id})
    return submission, job, where


def get_owned(session: Session, user: User, submission_id: str) -> Submission | None:
    """The submission if ``user`` may read it (its owner, or an instructor); None otherwise."""
    query = select(Submission).where(Submission.id == submission_id)
    if user.role != Role.instructor:
        query = query.where(Submission.user_id == user.id)
    return session.scalars(query).first()


def list_for(
    session: Session,
    *,
    user_id: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Submission]:
    query = select(Submission)
    if user_id is not None:
        query = query.where(Submission.user_id == user_id)
    if status:
        query = query.where(Submission.status == status)
    if since is not None:
        query = query.where(Submission.created_at >= since)
    return list(session.scalars(query.order_by(Submission.created_at.desc()).limit(limit).offset(offset)))


def latest_result(session: Session, submission_id: str) -> Result | None:
    return session.scalars(
        select(Result).where(Result.submission_id == submission_id).order_by(Result.id.desc()).limit(1)
    ).first()


def public(session: Session, submission: Submission) -> SubmissionPublic:
    """The status view of a submission."""
    job = session.scalars(
        select(Job).where(Job.submission_id == submission.id).order_by(Job.id.desc()).limit(1)
    ).first()
    rows = session.execute(
        select(Result, Job.kind)
        .join(Job, Job.id == Result.job_id)
        .where(Result.submission_id == submission.id)
        .order_by(Result.id)
    ).all()
    grades = [
        GradePublic(
            job_id=r.job_id,
            kind=kind,
            score=r.score,
            max_score=r.max_score,
            succeeded=r.succeeded,
            gradable=r.gradable,
            created_at=r.created_at,
        )
        for r, kind in rows
    ]
    latest = rows[-1][0] if rows else None
    message = ""
    if job is not None and job.status == Status.error and job.error:
        message = job.error
    elif latest is not None:
        message = str(latest.report.get("message", ""))
    student = session.scalar(select(User.name).where(User.id == submission.user_id)) or ""
    return SubmissionPublic(
        id=submission.id,
        student=student,
        status=submission.status,
        position=queue.position(session, job) if job is not None else None,
        progress=job.progress if job is not None and job.status == Status.running else "",
        attempts=job.attempts if job is not None else 0,
        created_at=submission.created_at,
        files=files_public(submission.files),
        score=latest.score if latest else None,
        max_score=latest.max_score if latest else None,
        message=message,
        grades=grades,
        links=links_for(submission.id),
    )


def regrade(session: Session, submission: Submission, settings: Settings) -> Job | None:
    """A new grading attempt (history is kept); None when one is already queued or running."""
    pending = session.scalar(
        select(func.count()).where(Job.submission_id == submission.id, Job.status.in_([Status.queued, Status.running]))
    )
    if pending:
        return None
    return queue.enqueue(session, submission, kind="regrade", max_attempts=settings.max_attempts)
