"""Submissions: accept (close, rate limit, store durably, commit, queue), read back (filtered by owner), regrade.

Their public views (status, grades) are built in ``service.views``."""

import logging
import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import extensions, policy, queue
from service.auth import Caller
from service.config import Settings
from service.db import Database
from service.models import Job, Result, Status, Submission, User, utcnow
from service.policy import AfterClose
from service.storage import BlobStore
from service.uploads import UploadedFile, check_file

log = logging.getLogger(__name__)


class RateLimited(Exception):
    """Too many submissions in the window; ``retry_after`` seconds until the next one is allowed."""

    def __init__(self, retry_after: int, message: str):
        super().__init__(message)
        self.retry_after = retry_after
        self.message = message


class Closed(Exception):
    """Submissions are closed for this student (policy ``after_close = refuse``)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def check_open(session: Session, user: Caller, received_at: datetime) -> None:
    """Raise ``Closed`` when ``received_at`` is past the student's close time and the policy refuses late work."""
    if user.instructor:
        return
    rules = policy.current(session)
    if rules.close_at is None and not rules.due_at:
        return
    when = extensions.deadline_for(rules, extensions.in_force(session, user.id).get(user.id))
    if when.close_at is not None and received_at > when.close_at and rules.after_close is AfterClose.refuse:
        raise Closed(
            f"Submissions closed on {rules.local(when.close_at)} ({when.close_at.isoformat()}); "
            f"this one arrived at {rules.local(received_at)}. Ask your instructor for an extension."
        )


def check_rate(session: Session, user: Caller, settings: Settings) -> None:
    """Raise ``RateLimited`` when ``user`` has used up the window (instructors are not limited)."""
    if user.instructor or settings.rate_limit_count <= 0:
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


def accept(
    database: Database,
    store: BlobStore,
    settings: Settings,
    user: Caller,
    received: list[UploadedFile],
    received_at: datetime | None = None,
) -> tuple[Submission, int | None]:
    """Close, rate limit, per-file checks (``UploadRejected``), then ``create``: the whole of a POST but the parsing."""
    received_at = received_at or utcnow()
    with database.session() as session:
        check_open(session, user, received_at)
        check_rate(session, user, settings)
    for item in received:
        check_file(item, max_file_bytes=settings.max_file_bytes)
    submission, _job, position = create(database, store, settings, user, received, received_at)
    return submission, position


def create(
    database: Database,
    store: BlobStore,
    settings: Settings,
    user: Caller,
    uploads: list[UploadedFile],
    received_at: datetime | None = None,
) -> tuple[Submission, Job, int | None]:
    """Store the files (fsynced), then commit the submission and its job: only then may the caller answer 202."""
    files = [{"name": u.name, "sha256": store.put(u.data), "size": len(u.data)} for u in uploads]
    with database.write_session() as session:
        session.scalars(select(User.id).where(User.id == user.id).with_for_update()).one()  # per-student lock
        check_rate(session, user, settings)  # again, under the write lock: concurrent requests cannot both pass
        submission = Submission(user_id=user.id, files=files, created_at=received_at or utcnow())
        session.add(submission)
        session.flush()
        job = queue.enqueue(session, submission, max_attempts=settings.max_attempts)
        where = queue.position(session, job)
    log.info("submission accepted", extra={"submission_id": submission.id, "user": user.name, "job_id": job.id})
    return submission, job, where


def get_owned(session: Session, user: Caller, submission_id: str) -> Submission | None:
    """The submission if ``user`` may read it (its owner, or an instructor); None otherwise."""
    query = select(Submission).where(Submission.id == submission_id)
    if not user.instructor:
        query = query.where(Submission.user_id == user.id)
    return session.scalars(query).first()


def latest_result(session: Session, submission_id: str) -> Result | None:
    return session.scalars(
        select(Result).where(Result.submission_id == submission_id).order_by(Result.id.desc()).limit(1)
    ).first()


def regrade(session: Session, submission: Submission, settings: Settings) -> Job | None:
    """A new grading attempt (history is kept); None when one is already queued or running."""
    pending = session.scalar(
        select(func.count()).where(Job.submission_id == submission.id, Job.status.in_([Status.queued, Status.running]))
    )
    if pending:
        return None
    return queue.enqueue(session, submission, kind="regrade", max_attempts=settings.max_attempts)
