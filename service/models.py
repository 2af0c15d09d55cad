"""The service's tables (SQLAlchemy 2, typed ``Mapped`` models): users, submissions, jobs, results, workers."""

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from grader.report import Report
from service.stored_report import ReportJSON


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite stores naive UTC text, compared in SQL as such)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001, ANN201
        if value is None:
            return None
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):  # noqa: ANN001, ANN201
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """Unguessable ids (uuid4: 122 random bits)."""
    return str(uuid.uuid4())


class Role(StrEnum):
    student = "student"
    instructor = "instructor"


class Status(StrEnum):
    """Status of a submission and of a job."""

    queued = "queued"
    running = "running"
    done = "done"
    error = "error"


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    """A student or an instructor; the bearer token is stored only as its sha256."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.student)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    email: Mapped[str | None] = mapped_column(String(254), default=None)  # from the roster import
    sis_id: Mapped[str | None] = mapped_column(String(64), default=None)  # SIS User ID / Moodle ID number
    sis_login: Mapped[str | None] = mapped_column(String(128), default=None)  # SIS Login ID
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)  # token revoked (a new one reactivates)


class Submission(Base):
    """One upload (one or several files); ``status`` mirrors its latest job (written only by
    ``service.queue.sync_status``)."""

    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_user_created", "user_id", "created_at"),
        Index("ix_submissions_created", "created_at", "id"),  # the instructor's list, newest first
        Index("ix_submissions_status_created", "status", "created_at", "id"),  # ... filtered by status
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=Status.queued)
    files: Mapped[list[Any]] = mapped_column(default=list)  # [{name, sha256, size}]

    user: Mapped[User] = relationship()


@event.listens_for(Submission.status, "set")
def _status_written_elsewhere(target: Submission, value: str, old: object, initiator: object) -> None:
    """``Submission.status`` is its latest job's; only ``service.queue.sync_status`` writes it (in SQL)."""
    raise AttributeError(
        f"Submission.status is its latest job's: not set to {value!r} here; change the job, then call "
        "service.queue.sync_status"
    )


class Job(Base):
    """One grading attempt of a submission (the first grade or a regrade), leased by a worker."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="grade")  # grade | regrade
    status: Mapped[str] = mapped_column(String(16), default=Status.queued)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    worker_id: Mapped[str | None] = mapped_column(String(128), default=None)
    device: Mapped[str | None] = mapped_column(String(32), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    # progress while running: checks done of the total (0: not known yet), and the check running or "done"
    progress_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress_label: Mapped[str] = mapped_column(String(128), default="", server_default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class Result(Base):
    """The report of one job; ``job_id`` is unique: a job completed twice cannot leave two results."""

    __tablename__ = "results"
    __table_args__ = (UniqueConstraint("job_id", name="uq_results_job"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"))
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    succeeded: Mapped[bool] = mapped_column()
    gradable: Mapped[bool] = mapped_column()
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[Report] = mapped_column(ReportJSON)  # a grader.report.Report, stored as its JSON
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuestionScore(Base):
    """One question's automatic score in one result (the report's ``questions``), for grades read in SQL."""

    __tablename__ = "question_scores"

    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"), primary_key=True)
    question: Mapped[str] = mapped_column(String(32), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)


class CheckScore(Base):
    """One check's automatic score in one result (the report's ``checks``): what a TA override replaces."""

    __tablename__ = "check_scores"

    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"), primary_key=True)
    check_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    question: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)


class Worker(Base):
    """A worker process's heartbeat (``/readyz`` wants a recent one)."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    devices: Mapped[str] = mapped_column(String(256), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)


class Blob(Base):
    """An uploaded file's bytes, by sha256 (used when uploads live in the database, see ``service.storage``)."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SimilarityRun(Base):
    """One similarity report over the class, as started by an instructor (parameters and results kept)."""

    __tablename__ = "similarity_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String(16))  # counted | all
    include_archive: Mapped[bool] = mapped_column(default=False)
    params: Mapped[dict[str, Any]] = mapped_column()
    template_sha256: Mapped[str] = mapped_column(String(64))
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    code_report: Mapped[dict[str, Any]] = mapped_column()
    answers_report: Mapped[dict[str, Any]] = mapped_column()


class SimilarityReview(Base):
    """A reviewer's decision on a pair of students (append-only; the latest per pair counts, across runs)."""

    __tablename__ = "similarity_reviews"
    __table_args__ = (Index("ix_similarity_reviews_pair", "kind", "student_a", "student_b"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # code | answers
    student_a: Mapped[str] = mapped_column(String(128))  # the two names in sorted order
    student_b: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))  # open | to_discuss | cleared
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArchivedSubmission(Base):
    """A submission of an earlier term, imported by the instructor to compare the class against."""

    __tablename__ = "archived_submissions"
    __table_args__ = (UniqueConstraint("term", "owner", name="uq_archived_term_owner"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    term: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(128))
    code: Mapped[str] = mapped_column(Text, default="")
    answers: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PolicyVersion(Base):
    """The assignment's deadline and grading policy; append-only: the newest row is in force."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document: Mapped[dict[str, Any]] = mapped_column()  # service.policy.Policy as JSON
    author: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Extension(Base):
    """A student's extension, granted or revoked; append-only: the newest row per student is in force."""

    __tablename__ = "extensions"
    __table_args__ = (Index("ix_extensions_user_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(16))  # grant | revoke
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    close_at: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Choice(Base):
    """The submission a student marks to count (policy ``chosen``); append-only: the newest row counts."""

    __tablename__ = "choices"
    __table_args__ = (Index("ix_choices_user_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Override(Base):
    """A TA's decision on one check of one submission; append-only: the newest per (submission, check) rules.

    The automatic result is never changed; ``auto_score`` is the automatic score when the decision was made,
    so a regrade that changes it marks the override stale (for review) without losing it."""

    __tablename__ = "overrides"
    __table_args__ = (Index("ix_overrides_submission_check", "submission_id", "check_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    check_id: Mapped[str] = mapped_column(String(128))
    score: Mapped[float | None] = mapped_column(Float, default=None)  # None with full_credit
    full_credit: Mapped[bool] = mapped_column(Boolean, default=False)
    feedback: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(128))
    auto_score: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RegradeRequest(Base):
    """A student's request to look at one check again (one per submission and check), and the TA's answer."""

    __tablename__ = "regrade_requests"
    __table_args__ = (UniqueConstraint("submission_id", "check_id", name="uq_regrade_requests_check"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    check_id: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reply: Mapped[str | None] = mapped_column(Text, default=None)
    answered_by: Mapped[str | None] = mapped_column(String(128), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    override_id: Mapped[int | None] = mapped_column(ForeignKey("overrides.id"), default=None)
