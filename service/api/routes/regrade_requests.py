"""Regrade requests: students ask (one per check of a submission), instructors list and answer them."""

from fastapi import APIRouter, HTTPException, status

from service import regrade_requests, submissions
from service.api.deps import CurrentUser, DatabaseDep, InstructorUser, SessionDep
from service.course_schemas import RegradeRequestAnswer, RegradeRequestCreate, RegradeRequestPublic
from service.models import RegradeRequest, User
from service.overrides import OverrideRejected
from service.schemas import ErrorPublic

router = APIRouter(tags=["regrade requests"])
ERRORS = {code: {"model": ErrorPublic} for code in (401, 403, 404, 409, 422, 503)}


def _public(row: RegradeRequest, student: str) -> RegradeRequestPublic:
    fields = ("id", "submission_id", "check_id", "message", "created_at", "reply", "answered_by", "answered_at")
    return RegradeRequestPublic(student=student, override_id=row.override_id, **{f: getattr(row, f) for f in fields})


@router.post(
    "/submissions/{submission_id}/regrade-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=RegradeRequestPublic,
    responses=ERRORS,
)
def ask(
    submission_id: str, body: RegradeRequestCreate, user: CurrentUser, database: DatabaseDep
) -> RegradeRequestPublic:
    """Ask for one check of your submission to be looked at again (one request per check)."""
    with database.write_session() as session:
        owned = submissions.get_owned(session, user, submission_id)
        if owned is None or owned.user_id != user.id:
            raise HTTPException(404, f"No submission {submission_id!r} among yours.")
        try:
            row = regrade_requests.create(session, submission_id, user.id, body.check_id, body.message)
        except OverrideRejected as rejected:
            raise HTTPException(rejected.status_code, rejected.message) from None
        return _public(row, user.name)


@router.get(
    "/submissions/{submission_id}/regrade-requests", response_model=list[RegradeRequestPublic], responses=ERRORS
)
def mine(submission_id: str, user: CurrentUser, session: SessionDep) -> list[RegradeRequestPublic]:
    """Your requests on this submission, with the answers."""
    owned = submissions.get_owned(session, user, submission_id)
    if owned is None:
        raise HTTPException(404, f"No submission {submission_id!r} among yours.")
    return [_public(r, n) for r, n in regrade_requests.listed(session, submission_id=submission_id)]


@router.get("/instructor/regrade-requests", response_model=list[RegradeRequestPublic], responses=ERRORS)
def every(_: InstructorUser, session: SessionDep, open_only: bool = True) -> list[RegradeRequestPublic]:
    """Regrade requests, oldest first (unanswered ones only unless ``open_only=false``)."""
    return [_public(r, n) for r, n in regrade_requests.listed(session, open_only=open_only)]


@router.post("/instructor/regrade-requests/{request_id}/answer", response_model=RegradeRequestPublic, responses=ERRORS)
def reply(
    request_id: int, body: RegradeRequestAnswer, user: InstructorUser, database: DatabaseDep
) -> RegradeRequestPublic:
    """Answer with a reply, and with a new score (an override) when ``score`` or ``full_credit`` is given."""
    with database.write_session() as session:
        try:
            row = regrade_requests.answer(
                session, request_id, reply=body.reply, score=body.score, full_credit=body.full_credit,
                author=user.name,
            )  # fmt: skip
        except OverrideRejected as rejected:
            raise HTTPException(rejected.status_code, rejected.message) from None
        return _public(row, session.get(User, row.user_id).name)
