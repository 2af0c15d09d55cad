"""Bearer tokens: issued once, stored as sha256 (tokens carry 256 random bits, so a plain hash suffices)."""

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Role, User

TOKEN_PREFIX = {Role.student: "vgs_", Role.instructor: "vgi_"}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(role: Role) -> str:
    return TOKEN_PREFIX[role] + secrets.token_urlsafe(32)


def issue(session: Session, name: str, role: Role = Role.student) -> str:
    """Create ``name`` (or rotate its token) and return the new token; only its hash is stored."""
    token = new_token(role)
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        session.add(User(name=name, role=role, token_hash=hash_token(token)))
    else:
        user.token_hash = hash_token(token)
        user.role = role
    return token


def authenticate(session: Session, token: str) -> User | None:
    """The user holding ``token``, or None."""
    if not token:
        return None
    return session.scalar(select(User).where(User.token_hash == hash_token(token)))
