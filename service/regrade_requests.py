"""Regrade requests: a student asks once per check of a submission; a TA answers with a reply, and optionally
an override (the reply is its reason and its feedback)."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service import overrides
from service.models import RegradeRequest, User, utcnow
from service.overrides import OverrideRejected


def create(session: Session, submission_id: str, user_id: str, check_id: str, message: str) -> RegradeRequest:
    report = overrides.graded_report(session, submission_id)
    if report is None:
        raise OverrideRejected(409, "This submission has no grade yet: wait for it before asking for a regrade.")
    if check_id not in {c.id for c in report.checks}:
        raise OverrideRejected(422, f"No check {check_id!r} in this submission's report.")
    exists = session.scalar(
        select(RegradeRequest.id).where(
            RegradeRequest.submission_id == submission_id, RegradeRequest.check_id == check_id
        )
    )
    if exists is not None:
        raise OverrideRejected(
            409, f"You already asked for a regrade of {check_id} on this submission (one per check)."
        )
    row = RegradeRequest(submission_id=submission_id, user_id=user_id, check_id=check_id, message=message)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # a concurrent twin
        raise OverrideRejected(409, f"You already asked for a regrade of {check_id} on this submission.") from None
    return row


def answer(
    session: Session, request_id: int, *, reply: str, score: float | None, full_credit: bool, author: str
) -> RegradeRequest:
    row = session.get(RegradeRequest, request_id)
    if row is None:
        raise OverrideRejected(404, f"No regrade request {request_id}.")
    if score is not None or full_credit:
        report = overrides.graded_report(session, row.submission_id)
        if report is None:
            raise OverrideRejected(404, f"No check {row.check_id!r} in this submission's report.")
        made = overrides.record(
            session, row.submission_id, report, check_id=row.check_id, score=score, full_credit=full_credit,
            feedback=reply, reason=f"regrade request {row.id}: {reply}", author=author,
        )  # fmt: skip
        row.override_id = made.id
    row.reply, row.answered_by, row.answered_at = reply, author, utcnow()
    session.flush()
    return row


def listed(session: Session, *, submission_id: str | None = None, open_only: bool = False) -> list[tuple]:
    """(request, student name) pairs, oldest first; one query."""
    query = select(RegradeRequest, User.name).join(User, User.id == RegradeRequest.user_id).order_by(RegradeRequest.id)
    if submission_id is not None:
        query = query.where(RegradeRequest.submission_id == submission_id)
    if open_only:
        query = query.where(RegradeRequest.answered_at.is_(None))
    return list(session.execute(query).all())
