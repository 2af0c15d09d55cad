"""Dependency aliases (``Annotated[..., Depends()]``): settings, database, store, the caller."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.auth import Caller
from service.config import Settings
from service.db import Database
from service.lti.config import LtiSettings
from service.storage import BlobStore

MAX_OFFSET = 1_000_000
"""Rows a list may skip; far beyond any course, far below the 64-bit integers databases use."""

bearer = HTTPBearer(auto_error=False, description="The token from `python -m service.roster`.")


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_database(request: Request) -> Database:
    return request.app.state.database


async def get_store(request: Request) -> BlobStore:
    return request.app.state.store


async def get_lti_settings(request: Request) -> LtiSettings:
    return request.app.state.lti_settings


async def get_clock(request: Request) -> Callable[[], datetime]:
    return request.app.state.clock


SettingsDep = Annotated[Settings, Depends(get_settings)]
LtiSettingsDep = Annotated[LtiSettings, Depends(get_lti_settings)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
"""The time now (aware UTC); ``create_app(clock=...)`` injects another in tests."""
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip (0 to 1,000,000).")]
"""Every integer query parameter is bounded: out of range is a 422 naming the bound, never a 500."""


def limit_query(default: int, maximum: int) -> object:
    """``limit: Annotated[int, limit_query(50, 500)] = 50``: a page size from 1 to ``maximum``."""
    return Query(ge=1, le=maximum, description=f"Rows to return (1 to {maximum}, default {default}).")


DatabaseDep = Annotated[Database, Depends(get_database)]
StoreDep = Annotated[BlobStore, Depends(get_store)]


async def get_session(database: DatabaseDep):  # noqa: ANN201
    """A read session; it connects on first use (in the route's thread) and closes after the response."""
    with database.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def get_current_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Missing token: send 'Authorization: Bearer <your token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    authenticate = request.app.state.authenticate
    user = authenticate.cached(credentials.credentials) or await run_in_threadpool(
        authenticate, credentials.credentials
    )
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Invalid token: ask your instructor for a new one.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return user


CurrentUser = Annotated[Caller, Depends(get_current_user)]


async def get_instructor(user: CurrentUser) -> Caller:
    if not user.instructor:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Instructors only: this token is a student's.")
    return user


InstructorUser = Annotated[Caller, Depends(get_instructor)]
