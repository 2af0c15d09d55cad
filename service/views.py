"""Public views of submissions: the status of one (the polling hot path: two Core queries) or a page of them
(``listing``: one statement for the whole page, grades included, never one query per row)."""

from datetime import datetime

from sqlalchemy import Connection, Select, bindparam, case, func, select
from sqlalchemy.orm import Session, aliased

from service.auth import Caller
from service.models import Job, Result, Status, Submission, User
from service.progress import Progress
from service.schemas import GradePublic, SubmissionPublic, files_public, links_for

_LATEST_JOB = aliased(Job)
_QUEUED = aliased(Job)
_GRADE_JOB = aliased(Job)
_AHEAD = (
    select(func.count()).select_from(_QUEUED)
    .where(_QUEUED.status == Status.queued, _QUEUED.id < _LATEST_JOB.id).scalar_subquery()
)  # fmt: skip
_STATUS_COLUMNS = (
    select(
        Submission.id, Submission.user_id, Submission.status, Submission.created_at, Submission.files, User.name,
        _LATEST_JOB.status.label("job_status"), _LATEST_JOB.progress_done, _LATEST_JOB.progress_total,
        _LATEST_JOB.progress_label, _LATEST_JOB.attempts, _LATEST_JOB.error,
        case((_LATEST_JOB.status == Status.queued, _AHEAD), else_=0).label("ahead"),
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


def _grade(row, prefix: str = "") -> GradePublic:  # noqa: ANN001 - a Core row
    """A grade from a row's columns (named ``kind`` ... or, in a listing, ``grade_kind`` ...)."""
    return GradePublic(**{name: getattr(row, prefix + name) for name in GradePublic.model_fields})


def _view(row, grades: list[GradePublic], last_message: str) -> SubmissionPublic:  # noqa: ANN001 - a Core row
    message = row.error if row.job_status == Status.error and row.error else last_message
    running = row.job_status == Status.running
    progress = Progress(row.progress_done or 0, row.progress_total or 0, row.progress_label or "")
    latest = grades[-1] if grades else None
    return SubmissionPublic(
        id=row.id,
        student=row.name,
        status=row.status,
        position=row.ahead + 1 if row.job_status == Status.queued else None,
        progress=progress.text if running else "",
        progress_done=progress.done if running else None,
        progress_total=progress.total if running else None,
        progress_label=progress.label if running else "",
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
    grades = conn.execute(_GRADES, {"sid": submission_id}).all()
    return _view(row, [_grade(g) for g in grades], grades[-1].message if grades else "")


def listing_query(
    *,
    user_id: str | None = None,
    student: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Select:
    """The one statement of a page of submissions, newest first, with every grade of each (one row per grade).

    The page is chosen first (filters, ``created_at DESC, id DESC``, limit and offset: an index range scan on
    ``ix_submissions_created``, ``ix_submissions_status_created`` or ``ix_submissions_user_created``), then
    joined with its users, latest jobs and grades."""
    chosen = select(Submission.id)
    if user_id is not None:
        chosen = chosen.where(Submission.user_id == user_id)
    if student is not None:
        chosen = chosen.where(Submission.user_id == select(User.id).where(User.name == student).scalar_subquery())
    if status:
        chosen = chosen.where(Submission.status == status)
    if since is not None:
        chosen = chosen.where(Submission.created_at >= since)
    order = (Submission.created_at.desc(), Submission.id.desc())
    page = chosen.order_by(*order).limit(limit).offset(offset).subquery("page")
    return (
        _STATUS_COLUMNS.join(page, page.c.id == Submission.id)
        .add_columns(
            Result.id.label("grade_id"), Result.job_id.label("grade_job_id"), _GRADE_JOB.kind.label("grade_kind"),
            Result.score.label("grade_score"), Result.max_score.label("grade_max_score"),
            Result.succeeded.label("grade_succeeded"), Result.gradable.label("grade_gradable"),
            Result.created_at.label("grade_created_at"), Result.message.label("grade_message"),
        )
        .outerjoin(Result, Result.submission_id == Submission.id)
        .outerjoin(_GRADE_JOB, _GRADE_JOB.id == Result.job_id)
        .order_by(*order, Result.id)
    )  # fmt: skip


def listing(session: Session, **filters: object) -> list[SubmissionPublic]:
    """A page of submission views (the filters of ``listing_query``) in one statement."""
    pages: dict[str, tuple] = {}
    for row in session.connection().execute(listing_query(**filters)):
        first, grades, messages = pages.setdefault(row.id, (row, [], []))
        if row.grade_id is not None:
            grades.append(_grade(row, "grade_"))
            messages.append(row.grade_message)
    return [_view(first, grades, messages[-1] if messages else "") for first, grades, messages in pages.values()]
