"""The course's grades as read now: every student's graded submissions with their effective scores (TA
overrides applied), priced by the policy in force and their extension, and the grade that counts.
A handful of queries, none per row."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader.questions import question_order
from service import choices, extensions, overrides, policy
from service.counting import Graded, Standing, count
from service.lateness import price
from service.models import Extension, Result, Role, Submission, User


@dataclass
class Gradebook:
    policy: policy.Policy
    students: list[Standing]
    graded: dict[str, list[Graded]]  # user id -> their graded submissions, oldest first
    questions: list[str]  # question ids in the table's order (grader/questions.py)
    maxima: dict[str, float]  # question id -> its max score, from the reports
    granted: dict[str, Extension]  # user id -> the extension in force


def _latest_success():  # noqa: ANN202 - a correlated scalar subquery
    return (
        select(func.max(Result.id))
        .where(Result.submission_id == Submission.id, Result.succeeded.is_(True))
        .correlate(Submission)
        .scalar_subquery()
    )


def load(session: Session, user_id: str | None = None) -> Gradebook:
    """The gradebook of every student (or of one)."""
    rules = policy.current(session)
    users_query = select(User.id, User.name).where(User.role == Role.student).order_by(User.name)
    rows_query = (
        select(Submission.id, Submission.user_id, Submission.created_at, Result.max_score, Result.gradable,
               Result.report)
        .join(Result, Result.id == _latest_success())
        .order_by(Submission.created_at, Submission.id)
    )  # fmt: skip
    if user_id is not None:
        users_query = users_query.where(User.id == user_id)
        rows_query = rows_query.where(Submission.user_id == user_id)
    users = session.execute(users_query).all()
    granted = extensions.in_force(session, user_id)
    marked = choices.in_force(session, user_id)
    decided = overrides.in_force(session, user_id)
    graded: dict[str, list[Graded]] = {uid: [] for uid, _ in users}
    maxima: dict[str, float] = {}
    for sid, uid, received, max_score, gradable, report in session.execute(rows_query):
        if uid not in graded:
            continue
        score, scores, _ = overrides.apply(report, decided.get(sid, []))
        maxima.update({q.id: q.max_score for q in report.questions})
        when = extensions.deadline_for(rules, granted.get(uid))
        graded[uid].append(Graded(sid, received, score, max_score, scores, gradable, price(rules, when, received)))
    standings = [count(Standing(name, uid, rules.counts), graded[uid], marked.get(uid)) for uid, name in users]
    return Gradebook(rules, standings, graded, sorted(maxima, key=question_order), maxima, granted)
