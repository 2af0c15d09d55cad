"""The submission a student marks to count (policy ``chosen``): kept as history, the newest mark rules."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import Choice


def mark(session: Session, user_id: str, submission_id: str) -> Choice:
    row = Choice(user_id=user_id, submission_id=submission_id)
    session.add(row)
    session.flush()
    return row


def in_force(session: Session, user_id: str | None = None) -> dict[str, str]:
    """user id -> the submission id they marked last; one query."""
    newest = select(func.max(Choice.id)).group_by(Choice.user_id)
    if user_id is not None:
        newest = newest.where(Choice.user_id == user_id)
    rows = session.execute(select(Choice.user_id, Choice.submission_id).where(Choice.id.in_(newest)))
    return {user: submission for user, submission in rows}
