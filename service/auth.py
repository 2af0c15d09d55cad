"""Bearer tokens: issued once, stored as sha256 (tokens carry 256 random bits, so a plain hash suffices).

``Authenticator`` resolves a token to a ``Caller`` with one indexed lookup, remembered for
``auth_cache_s`` seconds per process (status polls are the hot path); a rotated token stops working
within that time.
"""

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import Database
from service.models import Role, User

TOKEN_PREFIX = {Role.student: "vgs_", Role.instructor: "vgi_"}


@dataclass(frozen=True)
class Caller:
    """Who sent the request."""

    id: str
    name: str
    role: str

    @property
    def instructor(self) -> bool:
        return self.role == Role.instructor


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
        user.revoked_at = None
    return token


class Authenticator:
    """Token -> ``Caller``, with a short per-process cache."""

    def __init__(self, database: Database, ttl_s: float):
        self.database = database
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def cached(self, token: str) -> Caller | None:
        """The caller if the token was seen less than ``ttl_s`` ago (no database access)."""
        with self._lock:
            hit = self._cache.get(hash_token(token))
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def __call__(self, token: str) -> Caller | None:
        """The caller holding ``token``, or None (one indexed query on a cache miss)."""
        if not token:
            return None
        hit = self.cached(token)
        if hit is not None:
            return hit
        digest = hash_token(token)
        now = time.monotonic()
        with self.database.session() as session:
            row = session.execute(select(User.id, User.name, User.role).where(User.token_hash == digest)).first()
        if row is None:
            return None
        caller = Caller(id=row.id, name=row.name, role=row.role)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + self.ttl_s, caller)
        return caller
