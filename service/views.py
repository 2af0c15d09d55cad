"""Public views of submissions: the status of one (the polling hot path: two Core queries) or of a page of them
(three queries for the whole page: its ids, their statuses, their grades; never one per row)."""

from sqlalchemy import Connection, Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from service.auth import Caller
from service.models import Job, Result, Status, Submission, User
from service.schemas import GradePublic, SubmissionPublic, files_public, links_for

_LATEST_JOB = aliased(Job)
_QUEUED = aliased(Job)
_STATUS_COLUMNS = (
    select(
        Submission.id, Submission.user_id, Submission.status, Submission.created_at, Submission.files, User.name,
        _LATEST_JOB.status.label("job_status"), _LATEST_JOB.progress, _LATEST_JOB.attempts, _LATEST_JOB.error,
        select(func.count()).select_from(_QUEUED)
        .where(_QUEUED.status == Status.queued, _QUEUED.id < _LATEST_JOB.id).scalar_subquery().label("ahead"),
    )
    .join(User, User.id == Submission.user_id)
    .outerjoin(
        _LATEST_JOB,
        _LATEST_JOB.id == select(func.max(Job.id)).where(Job.submission_id == Submission.id).scalar_subquery(),
    )
)  # fmt: skip
_GRADE_COLUMNS = (
    select(Result.submission_id, Result.job_id, Job.kind, Result.score, Result.max_score, Result.succeeded,
           Result.gradable, Result.created_at, Result.message)
    .join(Job, Job.id == Result.job_id)
    .order_by(Result.id)
)  # fmt: skip
_STATUS = _STATUS_COLUMNS.where(Submission.id == bindparam("sid"))
_GRADES = _GRADE_COLUMNS.where(Result.submission_id == bindparam("sid"))


def _view(row, grade_rows: list) -> SubmissionPublic:  # noqa: ANN001 - a Core row
    grades = [
        GradePublic(job_id=g.job_id, kind=g.kind, score=g.score, max_score=g.max_score, succeeded=g.succeeded,
                    gradable=g.gradable, created_at=g.created_at)
        for g in grade_rows
    ]  # fmt: skip
    latest = grade_rows[-1] if grade_rows else None
    if row.job_status == Status.error and row.error:
        message = row.error
    else:
        message = latest.message if latest is not None else ""
    return SubmissionPublic(
        id=row.id,
        student=row.name,
        status=row.status,
        position=row.ahead + 1 if row.job_status == Status.queued else None,
        progress=row.progress if row.job_status == Status.running else "",
        attempts=row.attempts or 0,
        created_at=row.created_at,
        files=files_public(row.files),
        score=latest.score if latest is not None else None,
        max_score=latest.max_score if latest is not None else None,
        message=message,
        grades=grades,
        links=links_for(row.id),
    )


def status_view(
    conn: Connection | Session, submission_id: str, caller: Caller | None = None
) -> SubmissionPublic | None:
    """The status of a submission in two Core queries; None if ``caller`` may not see it."""
    if isinstance(conn, Session):
        conn = conn.connection()
    row = conn.execute(_STATUS, {"sid": submission_id}).first()
    if row is None or (caller is not None and not caller.instructor and row.user_id != caller.id):
        return None
    return _view(row, conn.execute(_GRADES, {"sid": submission_id}).all())


def page(session: Session, query: Select) -> list[SubmissionPublic]:
    """The views of the submissions ``query`` selects (``select(Submission.id)...``, in its order): three queries."""
    conn = session.connection()
    ids = list(conn.execute(query).scalars())
    if not ids:
        return []
    rows = {r.id: r for r in conn.execute(_STATUS_COLUMNS.where(Submission.id.in_(ids)))}
    grades: dict[str, list] = {sid: [] for sid in ids}
    for g in conn.execute(_GRADE_COLUMNS.where(Result.submission_id.in_(ids))):
        grades[g.submission_id].append(g)
    return [_view(rows[sid], grades[sid]) for sid in ids if sid in rows]
