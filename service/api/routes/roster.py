"""The roster: who has a token (students and instructors, with email and SIS ids), imports, and tokens issued
again or revoked (a revoked token stops working within the auth cache's few seconds)."""

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, UploadFile
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from service import auth, roster
from service.api.deps import DatabaseDep, InstructorUser, SessionDep
from service.api.routes.exports import read_csv
from service.course_schemas import RosterEntry, RosterImported, TokenIssued
from service.models import Role, User, utcnow
from service.schemas import ErrorPublic

router = APIRouter(prefix="/instructor", tags=["roster"])
ERRORS = {code: {"model": ErrorPublic} for code in (401, 403, 404, 413, 422, 503)}


@router.get("/roster", response_model=list[RosterEntry], responses=ERRORS)
def list_roster(_: InstructorUser, session: SessionDep) -> list[RosterEntry]:
    """Everyone with a token (students and instructors), with email and SIS ids; never the tokens."""
    users = session.scalars(select(User).order_by(User.role, User.name))
    return [RosterEntry.model_validate(u, from_attributes=True) for u in users]


@router.post("/roster", response_model=RosterImported, responses=ERRORS)
async def import_roster(
    _: InstructorUser,
    database: DatabaseDep,
    file: Annotated[UploadFile, File(description="CSV: student, email, sis_id, sis_login (LF or CRLF).")],
) -> RosterImported:
    """New students get tokens (shown once); existing ones get their email and SIS ids updated; bad rows are
    reported and left out."""
    rows, problems = roster.parse_roster(await read_csv(file))
    created, updated = await run_in_threadpool(roster.import_rows, database, rows)
    return RosterImported(created=created, updated=updated, problems=problems)


def _user(session, name: str) -> User:  # noqa: ANN001
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise HTTPException(404, f"No one named {name!r} on the roster.")
    return user


@router.post("/roster/{name}/token", response_model=TokenIssued, responses=ERRORS)
def issue_token(name: str, _: InstructorUser, database: DatabaseDep) -> TokenIssued:
    """A new token for ``name`` (shown once); the old one stops working; a revoked user is active again."""
    with database.write_session() as session:
        user = _user(session, name)
        token = auth.issue(session, name, Role(user.role))
        user.revoked_at = None
    return TokenIssued(name=name, token=token)


@router.post("/roster/{name}/revoke", response_model=RosterEntry, responses=ERRORS)
def revoke_token(name: str, caller: InstructorUser, database: DatabaseDep) -> RosterEntry:
    """Revoke ``name``'s token: nothing will match it (a new token can be issued later)."""
    if name == caller.name:
        raise HTTPException(409, "You cannot revoke your own token here; use python -m service.roster.")
    with database.write_session() as session:
        user = _user(session, name)
        user.token_hash = auth.hash_token(auth.new_token(Role(user.role)))  # a hash no one holds the token of
        user.revoked_at = utcnow()
        session.flush()
        return RosterEntry.model_validate(user, from_attributes=True)
