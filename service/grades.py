"""Instructor views of the grades: ``grades.csv`` (the grade that counts, per student and question) and stats."""

import statistics

from sqlalchemy.orm import Session

from service import csvcells, gradebook
from service.course_schemas import GradeRow
from service.schemas import QuestionStats

COLUMNS = [
    "student", "counts", "submission", "submitted_at", "submitted_local", "timing", "late_minutes",
    "late_token_hours", "credit_percent", "raw_score", "final_score", "max_score",
]  # fmt: skip


def grades_csv(session: Session) -> str:
    """One row per student (graded or not): the submission that counts, its time, lateness, credit, raw and final
    score, then the per-question scores that count (before late credit; after it under ``best_per_question``)."""
    book = gradebook.load(session)
    rows = []
    for s, r in zip(book.students, _rows(book), strict=True):
        g = s.submission
        rows.append(
            [
                csvcells.text(r.student),
                r.counts,
                r.submission or "",
                r.submitted_at.isoformat() if r.submitted_at else "",
                book.policy.local(g.received) if g else "",
                r.timing or "",
                csvcells.number(r.late_minutes),
                csvcells.number(g.pricing.token_hours) if g else "",
                csvcells.number(r.credit_percent),
                csvcells.number(r.raw_score),
                csvcells.number(r.final_score),
                csvcells.number(r.max_score),
            ]
            + [csvcells.number(r.questions.get(q)) for q in book.questions]
        )
    return csvcells.write(COLUMNS + book.questions, rows)


def grade_rows(session: Session) -> list[GradeRow]:
    """The rows of grades.csv as data (the instructor page's grade table)."""
    return _rows(gradebook.load(session))


def _rows(book: gradebook.Gradebook) -> list[GradeRow]:
    rows = []
    for s in book.students:
        g = s.submission
        rows.append(
            GradeRow(
                student=s.name, counts=s.rule.value, submission=g.submission_id if g else None,
                submitted_at=g.received if g else None, timing=g.pricing.timing.value if g else None,
                late_minutes=round(g.pricing.late_s / 60, 2) if g else None,
                credit_percent=round(g.pricing.credit * 100, 4) if g else None, raw_score=g.raw if g else None,
                final_score=round(s.final, 4) if s.final is not None else None,
                max_score=g.max_score if g else None, questions=s.questions,
            )
        )  # fmt: skip
    return rows


def stats(session: Session) -> tuple[list[QuestionStats], QuestionStats, int]:
    """Mean, median and max per question and of the final score, over the students' counted grades."""
    book = gradebook.load(session)
    counted = [s for s in book.students if s.submission is not None]
    rows = []
    for q in book.questions:
        values = [s.questions[q] for s in counted if q in s.questions]
        rows.append(_stats(q, values, book.maxima.get(q, 0.0)))
    top = max((s.submission.max_score for s in counted), default=0.0)
    total = _stats("total", [s.final or 0.0 for s in counted], top)
    return rows, total, len(counted)


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
