"""Readiness: the database answers and some worker has sent a heartbeat recently."""

from datetime import UTC

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from service.db import Database
from service.models import Worker, utcnow


def readiness(database: Database, worker_stale_s: float) -> tuple[bool, str]:
    try:
        with database.session() as session:
            session.execute(text("SELECT 1"))
            last = session.scalar(select(func.max(Worker.heartbeat_at)).where(Worker.stopped_at.is_(None)))
    except SQLAlchemyError as error:
        return False, f"database unreachable: {type(error.orig or error).__name__}"
    if last is None:
        return False, "no worker has sent a heartbeat"
    if last.tzinfo is None:  # func.max keeps the column type on both backends; this is belt and braces
        last = last.replace(tzinfo=UTC)
    age = (utcnow() - last).total_seconds()
    if age > worker_stale_s:
        return False, f"last worker heartbeat {age:.0f} s ago (limit {worker_stale_s:g} s)"
    return True, f"database ok, worker heartbeat {age:.1f} s ago"
