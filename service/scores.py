"""Stored scores: each result's per-question and per-check automatic scores as rows, written with the result.

Grades, exports and statistics read these rows with SQL (``service.gradebook``) instead of loading every
report: a report is tens of kilobytes, its scores a few dozen numbers. The rows repeat what the report says
and never change; a regrade writes a new result with its own rows. When a report names a question or a
check twice, the last one counts (as when the report is read as a mapping from id to entry).
"""

from sqlalchemy import insert
from sqlalchemy.orm import Session

from grader.report import Report
from service.models import CheckScore, QuestionScore


def question_rows(result_id: int, report: Report) -> list[dict]:
    """The ``question_scores`` rows of one report: one per question id, the last entry winning."""
    found = {q.id: {"score": float(q.score), "max_score": float(q.max_score)} for q in report.questions}
    return [{"result_id": result_id, "question": qid, **values} for qid, values in found.items()]


def check_rows(result_id: int, submission_id: str, report: Report) -> list[dict]:
    """The ``check_scores`` rows of one report: one per check id, the last entry winning."""
    found = {
        c.id: {"question": c.question, "score": float(c.score), "max_score": float(c.max_score)} for c in report.checks
    }
    return [
        {"result_id": result_id, "check_id": cid, "submission_id": submission_id, **values}
        for cid, values in found.items()
    ]


def record(session: Session, result_id: int, submission_id: str, report: Report) -> None:
    """Write the scores of result ``result_id`` (in the caller's transaction, the one that adds the result)."""
    questions = question_rows(result_id, report)
    checks = check_rows(result_id, submission_id, report)
    if questions:
        session.execute(insert(QuestionScore), questions)
    if checks:
        session.execute(insert(CheckScore), checks)
