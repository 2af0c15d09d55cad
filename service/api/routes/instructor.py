"""Instructor routes: every submission with filters, one student's history, grades.csv, stats, regrades."""

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select

from service import grades, queue, submissions, views
from service.api.deps import DatabaseDep, InstructorUser, Offset, SessionDep, SettingsDep, StoreDep, limit_query
from service.models import Status, Submission, User
from service.schemas import ErrorPublic, RegradeAllCreated, RegradeCreated, StatsPublic, SubmissionPublic
from service.uploads import work_name

router = APIRouter(prefix="/instructor", tags=["instructor"])
ERRORS = {code: {"model": ErrorPublic} for code in (401, 403, 404, 409, 503)}


def _student_id(session: SessionDep, name: str) -> str:
    user_id = session.scalar(select(User.id).where(User.name == name))
    if user_id is None:
        raise HTTPException(404, f"No student named {name!r}.")
    return user_id


@router.get("/submissions", response_model=list[SubmissionPublic], responses=ERRORS)
def list_all(
    _: InstructorUser,
    session: SessionDep,
    student: str | None = None,
    status: Status | None = None,
    since: datetime | None = None,
    limit: Annotated[int, limit_query(100, 1000)] = 100,
    offset: Offset = 0,
) -> list[SubmissionPublic]:
    """All submissions, newest first, filtered by student name, status and creation time (ISO 8601): one query."""
    found = views.listing(session, student=student, status=status, since=since, limit=limit, offset=offset)
    if not found and student:
        _student_id(session, student)  # 404 for a name nobody has
    return found


@router.get("/students/{name}/submissions", response_model=list[SubmissionPublic], responses=ERRORS)
def student_history(name: str, _: InstructorUser, session: SessionDep) -> list[SubmissionPublic]:
    """One student's submissions with every grade each received."""
    return views.listing(session, user_id=_student_id(session, name), limit=10_000)


@router.get("/submissions/{submission_id}/report", responses=ERRORS)
def full_report(submission_id: str, _: InstructorUser, session: SessionDep) -> dict:
    """The latest report in full: hidden checks, staff tracebacks and the submission's log."""
    result = submissions.latest_result(session, submission_id)
    if result is None:
        raise HTTPException(404, f"No grade for submission {submission_id!r}.")
    return result.report.model_dump(mode="json")


@router.get("/submissions/{submission_id}/files/{index}", responses=ERRORS)
def download_file(submission_id: str, index: int, _: InstructorUser, session: SessionDep, store: StoreDep) -> Response:
    """One file the student handed in, as they sent it (an attachment: never rendered by the browser)."""
    submission = session.get(Submission, submission_id)
    if submission is None or not 0 <= index < len(submission.files):
        raise HTTPException(404, f"No file {index} in submission {submission_id!r}.")
    entry = submission.files[index]
    name = work_name(entry["name"], index)
    return Response(
        store.get(entry["sha256"]),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename=\"upload-{index}\"; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/grades.csv", response_class=PlainTextResponse, responses=ERRORS)
def grades_csv(_: InstructorUser, session: SessionDep) -> PlainTextResponse:
    """Per student: the grade that counts (submission, lateness, credit, raw and final score) and per question."""
    return PlainTextResponse(
        grades.grades_csv(session),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="grades.csv"'},
    )


@router.get("/stats", response_model=StatsPublic, responses=ERRORS)
def stats(_: InstructorUser, session: SessionDep) -> StatsPublic:
    """Mean, median and max per question and of the final score, over the students' counted grades."""
    rows, total, students = grades.stats(session)
    count = session.scalar(select(func.count()).select_from(Submission)) or 0
    return StatsPublic(
        students=students, submissions=count, queue_depth=queue.queue_depth(session), questions=rows, total=total
    )


@router.post(
    "/submissions/{submission_id}/regrade",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RegradeCreated,
    responses=ERRORS,
)
def regrade(submission_id: str, _: InstructorUser, database: DatabaseDep, settings: SettingsDep) -> RegradeCreated:
    """Grade a submission again; earlier grades are kept."""
    with database.write_session() as session:
        submission = session.get(Submission, submission_id)
        if submission is None:
            raise HTTPException(404, f"No submission {submission_id!r}.")
        job = submissions.regrade(session, submission, settings)
        if job is None:
            raise HTTPException(409, "This submission already has a grading job queued or running.")
        return RegradeCreated(submission_id=submission_id, job_id=job.id, status=job.status)


@router.post("/regrade-all", status_code=status.HTTP_202_ACCEPTED, response_model=RegradeAllCreated, responses=ERRORS)
def regrade_all(_: InstructorUser, database: DatabaseDep, settings: SettingsDep) -> RegradeAllCreated:
    """Grade every submission again (those with a job already pending are skipped)."""
    queued = skipped = 0
    with database.write_session() as session:
        for submission in session.scalars(select(Submission).order_by(Submission.created_at)):
            if submissions.regrade(session, submission, settings) is None:
                skipped += 1
            else:
                queued += 1
    return RegradeAllCreated(queued=queued, skipped=skipped)
