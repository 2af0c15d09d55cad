"""Dependency aliases (``Annotated[..., Depends()]``): settings, database, store, the caller."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service import auth
from service.config import Settings
from service.db import Database
from service.models import Role, User
from service.storage import BlobStore

bearer = HTTPBearer(auto_error=False, description="The token from `python -m service.roster`.")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_store(request: Request) -> BlobStore:
    return request.app.state.store


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
StoreDep = Annotated[BlobStore, Depends(get_store)]


def get_session(database: DatabaseDep):  # noqa: ANN201
    with database.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_current_user(
    database: DatabaseDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Missing token: send 'Authorization: Bearer <your token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with database.session() as session:
        user = auth.authenticate(session, credentials.credentials)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Invalid token: ask your instructor for a new one.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_instructor(user: CurrentUser) -> User:
    if user.role != Role.instructor:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Instructors only: this token is a student's.")
    return user


InstructorUser = Annotated[User, Depends(get_instructor)]
