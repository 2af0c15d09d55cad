"""The course's grades as read now: every student's graded submissions with their effective scores (TA
overrides applied), priced by the policy in force and their extension, and the grade that counts.

Scores come from the stored score rows (``service.scores``), never from the reports: a submission counts
with its latest successful result; its per-question scores are that result's, plus, for each override in
force (the newest per submission and check), the override's score (the check's max with full credit)
minus the check's automatic score, on the total and on the check's question. A handful of queries, none
per row; lateness and the grade that counts are priced in Python (``service.lateness``, ``service.counting``).
"""

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from grader.questions import question_order
from service import choices, extensions, policy
from service.counting import Graded, Standing, count
from service.lateness import price
from service.models import CheckScore, Extension, Override, QuestionScore, Result, Role, Submission, User


@dataclass
class Gradebook:
    policy: policy.Policy
    students: list[Standing]
    graded: dict[str, list[Graded]]  # user id -> their graded submissions, oldest first
    questions: list[str]  # question ids in the table's order (grader/questions.py)
    maxima: dict[str, float]  # question id -> its max score, from the reports
    granted: dict[str, Extension]  # user id -> the extension in force


def _latest_success(user_id: str | None):  # noqa: ANN202 - a subquery
    """submission id -> the id of its latest successful result (what the submission counts with); a CTE, so
    that PostgreSQL computes it once for the statement that joins it twice."""
    query = select(Result.submission_id.label("sid"), func.max(Result.id).label("rid")).where(
        Result.succeeded.is_(True)
    )
    if user_id is not None:
        query = query.where(Result.user_id == user_id)
    return query.group_by(Result.submission_id).cte("latest")


def _effective_overrides(user_id: str | None):  # noqa: ANN202 - a subquery
    """The newest override of each (submission, check): the one in force."""
    query = select(func.max(Override.id).label("id"))
    if user_id is not None:
        query = query.where(Override.submission_id.in_(select(Submission.id).where(Submission.user_id == user_id)))
    return query.group_by(Override.submission_id, Override.check_id)


def _scores(session: Session, user_id: str | None) -> tuple[list[str], list, dict[str, list]]:
    """Three queries over stored scores, no report: the question ids; the counted results (oldest submission
    first), each with its per-question automatic scores and maxima pivoted into columns (one row per
    submission, NULL where its report has no such question); the score changes of the overrides in force."""
    conn = session.connection()  # Core rows: tens of thousands of them, no ORM objects needed
    latest = _latest_success(user_id)
    known = select(QuestionScore.question).distinct()  # a question no counted result has gives NULLs only
    if user_id is not None:  # one student's: through their few results
        known = known.join(latest, latest.c.rid == QuestionScore.result_id)
    questions = sorted(conn.execute(known).scalars(), key=question_order)
    pivot = select(QuestionScore.result_id).group_by(QuestionScore.result_id)
    for index, question in enumerate(questions):
        mine = QuestionScore.question == question
        pivot = pivot.add_columns(
            func.max(case((mine, QuestionScore.score))).label(f"s{index}"),
            func.max(case((mine, QuestionScore.max_score))).label(f"m{index}"),
        )
    pivot = pivot.join(latest, latest.c.rid == QuestionScore.result_id).subquery("pivot")
    graded = conn.execute(
        select(Submission.id, Submission.user_id, Submission.created_at, Result.score, Result.max_score,
               Result.gradable, *[c for c in pivot.c if c.name != "result_id"])
        .join(latest, latest.c.sid == Submission.id)
        .join(Result, Result.id == latest.c.rid)
        .outerjoin(pivot, pivot.c.result_id == latest.c.rid)
        .order_by(Submission.created_at, Submission.id)
    ).all()  # fmt: skip
    # the effective score of an overridden check (its max with full credit) minus the automatic one
    effective = case((Override.full_credit.is_(True), CheckScore.max_score), else_=func.coalesce(Override.score, 0.0))
    changes: dict[str, list] = {}
    for sid, question, delta in conn.execute(
        select(Override.submission_id, CheckScore.question, effective - CheckScore.score)
        .join(latest, latest.c.sid == Override.submission_id)
        .join(CheckScore, and_(CheckScore.result_id == latest.c.rid, CheckScore.check_id == Override.check_id))
        .where(Override.id.in_(_effective_overrides(user_id)))
        .order_by(Override.id)
    ):
        changes.setdefault(sid, []).append((question, delta))
    return questions, graded, changes


def load(session: Session, user_id: str | None = None) -> Gradebook:
    """The gradebook of every student (or of one), from the stored scores (``service.scores``) and overrides."""
    rules = policy.current(session)
    users_query = select(User.id, User.name).where(User.role == Role.student).order_by(User.name)
    if user_id is not None:
        users_query = users_query.where(User.id == user_id)
    users = session.execute(users_query).all()
    granted = extensions.in_force(session, user_id)
    marked = choices.in_force(session, user_id)
    questions, rows, changes = _scores(session, user_id)
    graded: dict[str, list[Graded]] = {uid: [] for uid, _ in users}
    maxima: dict[str, float] = {}
    for sid, uid, received, score, max_score, gradable, *pivoted in rows:
        if uid not in graded:
            continue
        pairs = [
            (q, value, top)
            for q, value, top in zip(questions, pivoted[::2], pivoted[1::2], strict=True)
            if value is not None
        ]
        scores = {q: float(value) for q, value, _ in pairs}
        maxima.update({q: float(top) for q, _, top in pairs})
        total = float(score)
        for question, delta in changes.get(sid, ()):  # in the order the overrides were made
            total += delta
            if question in scores:
                scores[question] += delta
        when = extensions.deadline_for(rules, granted.get(uid))
        graded[uid].append(Graded(sid, received, total, max_score, scores, gradable, price(rules, when, received)))
    standings = [count(Standing(name, uid, rules.counts), graded[uid], marked.get(uid)) for uid, name in users]
    return Gradebook(rules, standings, graded, sorted(maxima, key=question_order), maxima, granted)
