"""Instructor views of the grades: ``grades.csv`` (latest and best per student, per question) and stats."""

import statistics
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import csvcells
from service.models import Result, Role, User
from service.schemas import QuestionStats


@dataclass
class StudentGrades:
    name: str
    latest: Result | None = None
    best: Result | None = None
    best_per_question: dict[str, float] = field(default_factory=dict)


def _questions(report: dict) -> dict[str, tuple[float, float]]:
    return {q["id"]: (float(q["score"]), float(q["max_score"])) for q in report.get("questions", [])}


def collect(session: Session) -> tuple[list[StudentGrades], list[str]]:
    """Every student (graded or not) with their latest and best grade; the question ids in order."""
    students = {u.id: StudentGrades(u.name) for u in session.scalars(select(User).where(User.role == Role.student))}
    question_ids: list[str] = []
    for result in session.scalars(select(Result).order_by(Result.id)):
        grades = students.get(result.user_id)
        if grades is None:
            continue
        grades.latest = result
        if result.succeeded and (grades.best is None or result.score > grades.best.score):
            grades.best = result
        for qid, (score, _) in _questions(result.report).items():
            if qid not in question_ids:
                question_ids.append(qid)
            if result.succeeded:
                grades.best_per_question[qid] = max(score, grades.best_per_question.get(qid, 0.0))
    order = sorted(question_ids, key=lambda q: (q == "written", q))
    return sorted(students.values(), key=lambda s: s.name), order


def grades_csv(session: Session) -> str:
    """One row per student: latest and best totals, then latest and best per question."""
    students, questions = collect(session)
    header = (
        ["student", "latest_submission", "latest_score", "best_submission", "best_score", "max_score"]
        + [f"latest_{q}" for q in questions]
        + [f"best_{q}" for q in questions]
    )
    rows = []
    for s in students:
        latest_q = _questions(s.latest.report) if s.latest else {}
        rows.append(
            [
                csvcells.text(s.name),
                s.latest.submission_id if s.latest else "",
                _fmt(s.latest.score) if s.latest else "",
                s.best.submission_id if s.best else "",
                _fmt(s.best.score) if s.best else "",
                _fmt((s.latest or s.best).max_score) if (s.latest or s.best) else "",
            ]
            + [_fmt(latest_q[q][0]) if q in latest_q else "" for q in questions]
            + [_fmt(s.best_per_question[q]) if q in s.best_per_question else "" for q in questions]
        )
    return csvcells.write(header, rows)


def _fmt(value: float) -> str:
    return f"{value:g}"


def stats(session: Session) -> tuple[list[QuestionStats], QuestionStats, int]:
    """Mean, median and max per question over each student's latest successful grade."""
    students, questions = collect(session)
    latest = [s.latest for s in students if s.latest is not None and s.latest.succeeded]
    rows = []
    for q in questions:
        pairs = [_questions(r.report)[q] for r in latest if q in _questions(r.report)]
        rows.append(_stats(q, [p[0] for p in pairs], max((p[1] for p in pairs), default=0.0)))
    total = _stats("total", [r.score for r in latest], max((r.max_score for r in latest), default=0.0))
    return rows, total, len(latest)


def _stats(name: str, values: list[float], max_score: float) -> QuestionStats:
    if not values:
        return QuestionStats(question=name, count=0, mean=0.0, median=0.0, max=0.0, max_score=max_score)
    return QuestionStats(
        question=name,
        count=len(values),
        mean=round(statistics.fmean(values), 4),
        median=round(statistics.median(values), 4),
        max=max(values),
        max_score=max_score,
    )
