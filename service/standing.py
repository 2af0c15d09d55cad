"""A student's standing as the API shows it: their deadlines, each graded submission priced, what counts."""

from sqlalchemy.orm import Session

from service import extensions, gradebook
from service.course_schemas import StandingPublic, SubmissionStanding


def for_student(session: Session, user_id: str) -> StandingPublic | None:
    book = gradebook.load(session, user_id)
    if not book.students:
        return None
    standing = book.students[0]
    extension = book.granted.get(user_id)
    when = extensions.deadline_for(book.policy, extension)
    counted = standing.submission.submission_id if standing.submission else None
    return StandingPublic(
        student=standing.name,
        counts_rule=standing.rule.value,
        due_at=when.due_at,
        due_local=book.policy.local(when.due_at),
        close_at=when.close_at,
        close_local=book.policy.local(when.close_at),
        grace_minutes=book.policy.grace_minutes,
        extended=when.extended,
        extension_reason=extension.reason if extension else "",
        counted_submission=counted,
        final_score=standing.final,
        submissions=[
            SubmissionStanding(
                id=g.submission_id,
                received_at=g.received,
                timing=g.pricing.timing.value,
                late_minutes=round(g.pricing.late_s / 60, 2),
                late_token_hours=g.pricing.token_hours,
                credit_percent=round(g.pricing.credit * 100, 4),
                raw_score=g.raw,
                final_score=round(g.final, 4),
                max_score=g.max_score,
                gradable=g.gradable,
                counts=g.submission_id == counted,
            )
            for g in reversed(book.graded[user_id])
        ],
    )
