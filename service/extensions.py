"""Per-student extensions: granted and revoked as new rows (history is never edited); the newest row rules."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.lateness import Deadline, deadline
from service.models import Extension, Role, User
from service.policy import Policy


def student_id(session: Session, name: str) -> str | None:
    """The id of the student named ``name`` (extensions are granted to students only), or None."""
    return session.scalar(select(User.id).where(User.name == name, User.role == Role.student))


def grant(
    session: Session, user_id: str, *, due_at: datetime, close_at: datetime | None, reason: str, author: str
) -> Extension:
    if close_at is not None and close_at < due_at:
        raise ValueError(f"close_at ({close_at.isoformat()}) is before due_at ({due_at.isoformat()})")
    row = Extension(user_id=user_id, action="grant", due_at=due_at, close_at=close_at, reason=reason, author=author)
    session.add(row)
    session.flush()
    return row


def revoke(session: Session, user_id: str, *, reason: str, author: str) -> Extension:
    row = Extension(user_id=user_id, action="revoke", reason=reason, author=author)
    session.add(row)
    session.flush()
    return row


def in_force(session: Session, user_id: str | None = None) -> dict[str, Extension]:
    """The extension in force per student (students whose newest row is a revocation have none); one query."""
    newest = select(func.max(Extension.id)).group_by(Extension.user_id)
    if user_id is not None:
        newest = newest.where(Extension.user_id == user_id)
    rows = session.scalars(select(Extension).where(Extension.id.in_(newest)))
    return {row.user_id: row for row in rows if row.action == "grant"}


def history(session: Session, user_id: str | None = None) -> list[Extension]:
    query = select(Extension).order_by(Extension.id)
    if user_id is not None:
        query = query.where(Extension.user_id == user_id)
    return list(session.scalars(query))


def deadline_for(policy: Policy, extension: Extension | None) -> Deadline:
    if extension is None:
        return deadline(policy)
    return deadline(policy, extension.due_at, extension.close_at)
