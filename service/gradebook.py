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
    """submission id -> the id of its latest successful result (what the submission counts with)."""
    query = select(Result.submission_id.label("sid"), func.max(Result.id).label("rid")).where(
        Result.succeeded.is_(True)
    )
    if user_id is not None:
        query = query.where(Result.user_id == user_id)
    return query.group_by(Result.submission_id).subquery("latest")


def _effective_overrides(user_id: str | None):  # noqa: ANN202 - a subquery
    """The newest override of each (submission, check): the one in force."""
    query = select(func.max(Override.id).label("id"))
    if user_id is not None:
        query = query.where(Override.submission_id.in_(select(Submission.id).where(Submission.user_id == user_id)))
    return query.group_by(Override.submission_id, Override.check_id)


def _scores(session: Session, user_id: str | None) -> tuple[list, dict[str, dict], dict[str, list]]:
    """Three queries over stored scores, no report: the counted results (oldest submission first), each
    one's per-question automatic scores, and the score changes of the overrides in force (oldest first)."""
    latest = _latest_success(user_id)
    graded = session.execute(
        select(Submission.id, Submission.user_id, Submission.created_at, Result.score, Result.max_score,
               Result.gradable)
        .join(latest, latest.c.sid == Submission.id)
        .join(Result, Result.id == latest.c.rid)
        .order_by(Submission.created_at, Submission.id)
    ).all()  # fmt: skip
    questions: dict[str, dict] = {}
    for sid, question, score, max_score in session.execute(
        select(latest.c.sid, QuestionScore.question, QuestionScore.score, QuestionScore.max_score).join(
            QuestionScore, QuestionScore.result_id == latest.c.rid
        )
    ):
        questions.setdefault(sid, {})[question] = (score, max_score)
    # the effective score of an overridden check (its max with full credit) minus the automatic one
    effective = case((Override.full_credit.is_(True), CheckScore.max_score), else_=func.coalesce(Override.score, 0.0))
    changes: dict[str, list] = {}
    for sid, question, delta in session.execute(
        select(Override.submission_id, CheckScore.question, effective - CheckScore.score)
        .join(latest, latest.c.sid == Override.submission_id)
        .join(CheckScore, and_(CheckScore.result_id == latest.c.rid, CheckScore.check_id == Override.check_id))
        .where(Override.id.in_(_effective_overrides(user_id)))
        .order_by(Override.id)
    ):
        changes.setdefault(sid, []).append((question, delta))
    return graded, questions, changes


def load(session: Session, user_id: str | None = None) -> Gradebook:
    """The gradebook of every student (or of one), from the stored scores (``service.scores``) and overrides."""
    rules = policy.current(session)
    users_query = select(User.id, User.name).where(User.role == Role.student).order_by(User.name)
    if user_id is not None:
        users_query = users_query.where(User.id == user_id)
    users = session.execute(users_query).all()
    granted = extensions.in_force(session, user_id)
    marked = choices.in_force(session, user_id)
    rows, question_scores, changes = _scores(session, user_id)
    graded: dict[str, list[Graded]] = {uid: [] for uid, _ in users}
    maxima: dict[str, float] = {}
    for sid, uid, received, score, max_score, gradable in rows:
        if uid not in graded:
            continue
        found = sorted(question_scores.get(sid, {}).items(), key=lambda item: question_order(item[0]))
        scores = {qid: float(value) for qid, (value, _) in found}
        maxima.update({qid: float(top) for qid, (_, top) in found})
        total = float(score)
        for question, delta in changes.get(sid, []):  # in the order the overrides were made
            total += delta
            if question in scores:
                scores[question] += delta
        when = extensions.deadline_for(rules, granted.get(uid))
        graded[uid].append(Graded(sid, received, total, max_score, scores, gradable, price(rules, when, received)))
    standings = [count(Standing(name, uid, rules.counts), graded[uid], marked.get(uid)) for uid, name in users]
    return Gradebook(rules, standings, graded, sorted(maxima, key=question_order), maxima, granted)
