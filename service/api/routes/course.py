"""Course routes: the policy (instructors set it), extensions (granted and revoked), a student's standing
(deadlines, lateness and credit of each submission, what counts) and the student's chosen submission."""

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from service import choices, extensions, policy, standing, submissions
from service.api.deps import CurrentUser, DatabaseDep, InstructorUser, SessionDep
from service.course_schemas import (
    ExtensionCreate,
    ExtensionPublic,
    ExtensionRevoke,
    PolicyPublic,
    StandingPublic,
)
from service.models import Extension, PolicyVersion, User
from service.policy import Policy
from service.schemas import ErrorPublic

router = APIRouter(tags=["course"])
ERRORS = {code: {"model": ErrorPublic} for code in (401, 403, 404, 409, 422, 503)}


def _policy_public(session: SessionDep) -> PolicyPublic:
    rules = policy.current(session)
    newest = session.scalars(select(PolicyVersion).order_by(PolicyVersion.id.desc()).limit(1)).first()
    return PolicyPublic(
        policy=rules,
        due_local=rules.local(rules.due_at),
        close_local=rules.local(rules.close_at),
        version=newest.id if newest else 0,
        author=newest.author if newest else "",
        set_at=newest.created_at if newest else None,
    )


@router.get("/course", response_model=StandingPublic, responses=ERRORS)
def my_standing(user: CurrentUser, session: SessionDep) -> StandingPublic:
    """The caller's due and close times (with their extension), each graded submission's lateness and credit,
    and the grade that counts."""
    view = standing.for_student(session, user.id)
    if view is None:
        raise HTTPException(404, "Only students have a standing; instructors see /api/v1/instructor/grades.csv.")
    return view


@router.post("/submissions/{submission_id}/choose", response_model=StandingPublic, responses=ERRORS)
def choose(submission_id: str, user: CurrentUser, database: DatabaseDep) -> StandingPublic:
    """Mark one of your submissions as the one that counts (when the policy counts the chosen one)."""
    with database.write_session() as session:
        owned = submissions.get_owned(session, user, submission_id)
        if owned is None or owned.user_id != user.id:
            raise HTTPException(404, f"No submission {submission_id!r} among yours.")
        choices.mark(session, user.id, submission_id)
    with database.session() as session:
        return my_standing(user, session)


@router.get("/instructor/policy", response_model=PolicyPublic, responses=ERRORS)
def get_policy(_: InstructorUser, session: SessionDep) -> PolicyPublic:
    """The policy in force (times in UTC and in the policy's time zone)."""
    return _policy_public(session)


@router.put("/instructor/policy", response_model=PolicyPublic, responses=ERRORS)
def set_policy(body: Policy, user: InstructorUser, database: DatabaseDep) -> PolicyPublic:
    """Set the policy (a new version; grades are re-priced when read). Local times are read in ``timezone``."""
    with database.write_session() as session:
        policy.save(session, body, user.name)
    with database.session() as session:
        return _policy_public(session)


@router.get("/instructor/extensions", response_model=list[ExtensionPublic], responses=ERRORS)
def list_extensions(_: InstructorUser, session: SessionDep) -> list[ExtensionPublic]:
    """Every grant and revocation, oldest first (the newest per student is in force)."""
    names = dict(session.execute(select(User.id, User.name)).all())
    return [_extension_public(row, names[row.user_id]) for row in extensions.history(session)]


@router.post(
    "/instructor/extensions", status_code=status.HTTP_201_CREATED, response_model=ExtensionPublic, responses=ERRORS
)
def grant_extension(body: ExtensionCreate, user: InstructorUser, database: DatabaseDep) -> ExtensionPublic:
    """Grant a student new due (and close) times; local times are read in the policy's time zone."""
    with database.write_session() as session:
        student_id = _student(session, body.student)
        zone = policy.current(session).zone
        try:
            row = extensions.grant(
                session,
                student_id,
                due_at=policy.to_utc(body.due_at, zone, "due_at"),
                close_at=policy.to_utc(body.close_at, zone, "close_at"),
                reason=body.reason,
                author=user.name,
            )
        except ValueError as error:
            raise HTTPException(422, f"Invalid extension: {error}") from None
        return _extension_public(row, body.student)


@router.post(
    "/instructor/extensions/{student}/revoke",
    status_code=status.HTTP_201_CREATED,
    response_model=ExtensionPublic,
    responses=ERRORS,
)
def revoke_extension(
    student: str, body: ExtensionRevoke, user: InstructorUser, database: DatabaseDep
) -> ExtensionPublic:
    """Revoke a student's extension (a new history row; the grant stays in the history)."""
    with database.write_session() as session:
        student_id = _student(session, student)
        if student_id not in extensions.in_force(session, student_id):
            raise HTTPException(409, f"{student!r} has no extension in force.")
        return _extension_public(extensions.revoke(session, student_id, reason=body.reason, author=user.name), student)


def _student(session: SessionDep, name: str) -> str:
    found = extensions.student_id(session, name)
    if found is None:
        raise HTTPException(404, f"No student named {name!r}.")
    return found


def _extension_public(row: Extension, name: str) -> ExtensionPublic:
    return ExtensionPublic(
        id=row.id,
        student=name,
        action=row.action,
        due_at=row.due_at,
        close_at=row.close_at,
        reason=row.reason,
        author=row.author,
        created_at=row.created_at,
    )
