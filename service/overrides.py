"""TA overrides: decisions on one check of one submission, kept as history; effective scores; stale marking.

The effective score of a check is its newest override's (``full_credit`` = the check's max) or else the
automatic one. An override is *stale* when the automatic score under it has changed since it was made
(a regrade): it still applies, and it is listed for review. Totals, grades and exports use effective scores.
"""

import csv
import io
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader.report import CheckResult, Report
from service.models import Override, Result, Submission


class OverrideRejected(Exception):
    def __init__(self, status_code: int, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True)
class Effective:
    """One overridden check in a report."""

    override: Override
    check_id: str
    question: str
    auto_score: float
    max_score: float

    @property
    def score(self) -> float:
        return self.max_score if self.override.full_credit else float(self.override.score or 0.0)

    @property
    def stale(self) -> bool:
        return self.override.auto_score is None or abs(self.override.auto_score - self.auto_score) > 1e-9


def _checks(report: Report) -> dict[str, CheckResult]:
    return {c.id: c for c in report.checks}


def record(
    session: Session,
    submission_id: str,
    report: Report,
    *,
    check_id: str,
    score: float | None,
    full_credit: bool,
    feedback: str,
    reason: str,
    author: str,
) -> Override:
    """A new override of ``check_id`` against the submission's current ``report`` (``OverrideRejected`` if bad)."""
    problem = _problem(report, check_id, score, full_credit, reason)
    if problem is not None:
        raise OverrideRejected(*problem)
    check = _checks(report)[check_id]
    row = Override(
        submission_id=submission_id,
        check_id=check_id,
        score=None if full_credit else score,
        full_credit=full_credit,
        feedback=feedback,
        reason=reason,
        author=author,
        auto_score=check.score,
    )
    session.add(row)
    session.flush()
    return row


def _problem(
    report: Report, check_id: str, score: float | None, full_credit: bool, reason: str
) -> tuple[int, str] | None:
    """Why an override cannot be made (HTTP status, message), or None."""
    check = _checks(report).get(check_id)
    if check is None:
        return 404, f"No check {check_id!r} in this submission's report."
    top = check.max_score
    if not full_credit and (score is None or not 0 <= score <= top):
        return 422, f"Score for {check_id} must be between 0 and {top:g} (got {score!r})."
    if not reason.strip():
        return 422, "A reason is required (it is kept in the history)."
    return None


def import_csv(session: Session, text: str, author: str) -> int:
    """Overrides from a CSV (``submission, check_id, score`` (a number or ``full``), ``reason``, ``feedback``):
    every row is checked first, and one bad row changes nothing (``OverrideRejected`` lists the problems)."""
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    missing = {"submission", "check_id", "score", "reason"} - set(rows[0] if rows else [])
    if not rows or missing:
        raise OverrideRejected(422, f"Nothing was changed: the CSV needs the columns {sorted(missing) or 'and rows'}.")
    plans, problems, reports = [], [], {}
    for number, row in enumerate(rows, start=2):
        sid, raw = (row.get("submission") or "").strip(), (row.get("score") or "").strip()
        if sid not in reports:
            reports[sid] = graded_report(session, sid)
        full = raw.lower() == "full"
        try:
            score = None if full else float(raw)
        except ValueError:
            score = None
        plan = {"check_id": (row.get("check_id") or "").strip(), "score": score, "full_credit": full,
                "feedback": row.get("feedback") or "", "reason": row.get("reason") or ""}  # fmt: skip
        if reports[sid] is None:
            problems.append(f"row {number}: no graded submission {sid!r}")
            continue
        problem = _problem(reports[sid], plan["check_id"], score, full, plan["reason"])
        if problem is not None:
            problems.append(f"row {number}: {problem[1]}")
            continue
        plans.append((sid, plan))
    if problems:
        raise OverrideRejected(422, "Nothing was changed: " + "; ".join(problems[:20]))
    for sid, plan in plans:
        record(session, sid, reports[sid], author=author, **plan)
    return len(plans)


def in_force(session: Session, user_id: str | None = None) -> dict[str, list[Override]]:
    """submission id -> the newest override of each of its checks (of one student's submissions); one query."""
    newest = select(func.max(Override.id)).group_by(Override.submission_id, Override.check_id)
    if user_id is not None:
        newest = newest.where(Override.submission_id.in_(select(Submission.id).where(Submission.user_id == user_id)))
    found: dict[str, list[Override]] = {}
    for row in session.scalars(select(Override).where(Override.id.in_(newest)).order_by(Override.id)):
        found.setdefault(row.submission_id, []).append(row)
    return found


def history(session: Session, submission_id: str) -> list[Override]:
    return list(session.scalars(select(Override).where(Override.submission_id == submission_id).order_by(Override.id)))


def newest(rows: list[Override]) -> list[Override]:
    """The newest of each check among ``rows`` (a submission's history)."""
    return list({row.check_id: row for row in sorted(rows, key=lambda r: r.id)}.values())


def apply(report: Report, rows: list[Override]) -> tuple[float, dict[str, float], list[Effective]]:
    """Effective total, per-question scores and the overridden checks of ``report`` under ``rows``."""
    checks = _checks(report)
    questions = {q.id: q.score for q in report.questions}
    total = report.score
    applied = []
    for row in rows:
        check = checks.get(row.check_id)
        if check is None:  # a regrade without that check: kept in the history, applies to nothing
            continue
        effective = Effective(row, row.check_id, check.question, check.score, check.max_score)
        delta = effective.score - effective.auto_score
        total += delta
        if effective.question in questions:
            questions[effective.question] += delta
        applied.append(effective)
    return total, questions, applied


def graded_report(session: Session, submission_id: str) -> Report | None:
    """The report of the submission's latest successful grade (what overrides apply to), or None."""
    return session.scalars(
        select(Result.report)
        .where(Result.submission_id == submission_id, Result.succeeded.is_(True))
        .order_by(Result.id.desc())
        .limit(1)
    ).first()


def annotate(view: dict, report: Report, rows: list[Override]) -> dict:
    """A student view with the TA's decisions: ``effective_score`` and, on each overridden check,
    ``override: {score, feedback}`` (the reason and the author stay staff-only)."""
    total, questions, applied = apply(report, rows)
    decided = {e.check_id: e for e in applied}
    view["effective_score"] = total
    for q in view["questions"]:  # the JSON of a student view: every question and check has its id
        q["effective_score"] = questions.get(q["id"], q["score"])
    for check in view["checks"]:
        if check["id"] in decided:
            e = decided[check["id"]]
            check["override"] = {"score": e.score, "feedback": e.override.feedback}
    return view
