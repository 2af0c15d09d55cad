"""Student routes: submit files, follow a submission, read its report, list one's own submissions."""

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from grader.report import Report
from service import overrides, submissions, uploads, views
from service.api.deps import (
    ClockDep,
    CurrentUser,
    DatabaseDep,
    Offset,
    SessionDep,
    SettingsDep,
    StoreDep,
    limit_query,
)
from service.formats import render_report
from service.schemas import ErrorPublic, SubmissionCreated, SubmissionPublic, files_public, links_for

router = APIRouter(prefix="/submissions", tags=["submissions"])
ERRORS = {code: {"model": ErrorPublic} for code in (401, 403, 404, 409, 413, 415, 422, 429, 503)}


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=SubmissionCreated, responses=ERRORS)
async def create_submission(
    user: CurrentUser,
    database: DatabaseDep,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
    response: Response,
    files: Annotated[
        list[UploadFile] | None, File(description="One or several .py, .ipynb, .md or .zip files.")
    ] = None,
) -> SubmissionCreated:
    """Accept files for grading: they are stored (fsynced) and queued before the 202 answer.

    The receive time (now, before the upload is read) is the submission's time for lateness; after the
    hard close the answer is 403 with the date, unless the policy accepts practice submissions."""
    received_at = clock()
    try:
        uploads.check_count(len(files or []), settings.max_files)
        received, total = [], 0
        for upload in files or []:
            name = uploads.safe_name(upload.filename)
            data = await upload.read(settings.max_file_bytes + 1)
            total += len(data)
            uploads.check_total(total, settings.max_request_bytes)
            received.append(uploads.UploadedFile(name, data))
        # checks, fsyncs and the commit block: off the event loop, so polls keep flowing
        submission, position = await run_in_threadpool(
            submissions.accept, database, store, settings, user, received, received_at
        )
    except submissions.Closed as closed:
        raise HTTPException(403, closed.message) from None
    except submissions.RateLimited as limited:
        raise HTTPException(429, limited.message, headers={"Retry-After": str(limited.retry_after)}) from None
    except uploads.UploadRejected as rejected:
        raise HTTPException(rejected.status_code, rejected.message) from None
    response.headers["Location"] = f"/api/v1/submissions/{submission.id}"
    return SubmissionCreated(
        id=submission.id,
        status=submission.status,
        position=position,
        files=files_public(submission.files),
        links=links_for(submission.id),
    )


@router.get("", response_model=list[SubmissionPublic], responses=ERRORS)
def list_submissions(
    user: CurrentUser, session: SessionDep, limit: Annotated[int, limit_query(50, 500)] = 50, offset: Offset = 0
) -> list[SubmissionPublic]:
    """The caller's own submissions, newest first."""
    return views.listing(session, user_id=user.id, limit=limit, offset=offset)


@router.get("/{submission_id}", response_model=SubmissionPublic, responses=ERRORS)
def get_submission(submission_id: str, user: CurrentUser, database: DatabaseDep) -> Response:
    """Status: queued (with its queue position), running (with progress), done or error."""
    with database.engine.connect() as conn:
        view = views.status_view(conn, submission_id, user)
    if view is None:
        raise HTTPException(404, f"No submission {submission_id!r} among yours.")
    return Response(view.model_dump_json(), media_type="application/json")  # already validated: skip a second pass


def _latest_report(session: SessionDep, user: CurrentUser, submission_id: str) -> Report:
    submission = submissions.get_owned(session, user, submission_id)
    if submission is None:
        raise HTTPException(404, f"No submission {submission_id!r} among yours.")
    result = submissions.latest_result(session, submission_id)
    if result is None:
        raise HTTPException(409, f"Not graded yet: the submission is {submission.status}; poll its status.")
    return result.report


@router.get("/{submission_id}/report", responses=ERRORS)
def get_report(submission_id: str, user: CurrentUser, session: SessionDep) -> dict:
    """The latest grade's report, student view (hidden checks masked, no staff traceback, no raw log), with the
    TA's overrides: ``effective_score`` and, on an overridden check, ``override: {score, feedback}``."""
    report = _latest_report(session, user, submission_id)
    rows = overrides.newest(overrides.history(session, submission_id)) if report.succeeded else []
    return overrides.annotate(render_report(report, "json"), report, rows)


@router.get("/{submission_id}/report/gradescope", responses=ERRORS)
def get_report_gradescope(submission_id: str, user: CurrentUser, session: SessionDep) -> Response:
    """The latest grade as a Gradescope ``results.json``."""
    body = render_report(_latest_report(session, user, submission_id), "gradescope")
    return Response(body, media_type="application/json")


@router.get("/{submission_id}/report/junit", responses=ERRORS, response_class=PlainTextResponse)
def get_report_junit(submission_id: str, user: CurrentUser, session: SessionDep) -> Response:
    """The latest grade as JUnit XML."""
    body = render_report(_latest_report(session, user, submission_id), "junit")
    return Response(body, media_type="application/xml")
