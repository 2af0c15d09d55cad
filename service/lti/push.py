"""Push the grades that count to the LMS: match roster students to the course's members, post one score each.

Students match a member by SIS id (roster ``sis_id`` = NRPS ``lis_person_sourcedid``), else by email (NFC,
case-folded); a key two members share matches nobody. Each matched student with a final score gets one
Score; students with nothing that counts are skipped (the LMS keeps its value). Failures of one score are
reported with the platform's message and the push goes on; a failure before the first score stops it.
"""

import logging
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import grades
from service.lti import ags, nrps
from service.lti.client import Platform
from service.lti.errors import LtiError, PlatformError
from service.models import Role, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StudentGrade:
    name: str
    email: str
    sis_id: str
    final: float | None  # the final score that counts (None: nothing counts)
    maximum: float | None


class LtiScorePublic(BaseModel):
    student: str
    user_id: str = Field(description="The platform's LTI user id the score went to.")
    score_given: float
    score_maximum: float


class LtiFailurePublic(BaseModel):
    student: str
    status: int | None = Field(description="The platform's HTTP status (None: no answer).")
    message: str = Field(description="The platform's message.")


class LtiPushSummary(BaseModel):
    """What a push did (or, with dry_run, would do)."""

    dry_run: bool
    lineitem: str | None = Field(description="The line item's URL (None: a dry run that would create it).")
    lineitem_created: bool = Field(description="True when this push created the line item (or would).")
    matched: int = Field(description="Roster students matched to a member: pushed + no_grade + failed.")
    pushed: list[LtiScorePublic] = Field(description="Scores the platform accepted (dry run: would post).")
    no_grade: list[str] = Field(description="Matched students with nothing that counts: no score sent.")
    unmatched: list[str] = Field(description="Roster students no member matches by SIS id or email.")
    failed: list[LtiFailurePublic] = Field(description="Scores the platform refused, with its message.")
    learners_not_in_roster: list[str] = Field(description="Learners of the course the roster lacks.")


def class_grades(session: Session) -> list[StudentGrade]:
    """Every roster student with email, SIS id and the final score that counts (``grades.grade_rows``)."""
    users = {u.name: u for u in session.scalars(select(User).where(User.role == Role.student))}
    out = []
    for row in grades.grade_rows(session):
        user = users.get(row.student)
        if user is None:
            continue
        out.append(StudentGrade(row.student, user.email or "", user.sis_id or "", row.final_score, row.max_score))
    return out


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


def _index(members: list[nrps.Member], field: str) -> dict[str, nrps.Member]:
    """key -> member, for keys exactly one member has."""
    seen: dict[str, list[nrps.Member]] = {}
    for m in members:
        if value := _key(getattr(m, field)):
            seen.setdefault(value, []).append(m)
    return {k: ms[0] for k, ms in seen.items() if len(ms) == 1}


def match(students: list[StudentGrade], members: list[nrps.Member]) -> dict[str, nrps.Member | None]:
    """student name -> their member (SIS id first, then email), or None; a member two students match: None."""
    by_sis, by_email = _index(members, "sourcedid"), _index(members, "email")
    found: dict[str, nrps.Member | None] = {}
    for s in students:
        found[s.name] = by_sis.get(_key(s.sis_id)) if s.sis_id else None
        if found[s.name] is None and s.email:
            found[s.name] = by_email.get(_key(s.email))
    claims = Counter(m.user_id for m in found.values() if m is not None)
    return {name: m if m is not None and claims[m.user_id] == 1 else None for name, m in found.items()}


def push(
    platform: Platform,
    students: list[StudentGrade],
    dry_run: bool = False,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> LtiPushSummary:
    """Match, find or create the line item, post the scores; ``LtiError`` when it stops before any score."""
    settings = platform.settings
    try:
        found = nrps.members(platform, settings.memberships_url)
        matches = match(students, found)
        lineitem = settings.lineitem_url or ags.find_lineitem(platform, settings)
        created = lineitem is None
        if lineitem is None and not dry_run:
            lineitem = ags.create_lineitem(platform, settings)
    except LtiError as error:
        raise LtiError(f"{error} No score was sent.") from None
    matched_ids = {m.user_id for m in matches.values() if m is not None}
    unmatched = [s.name for s in students if matches[s.name] is None]
    summary = LtiPushSummary(
        dry_run=dry_run, lineitem=lineitem, lineitem_created=created, matched=len(students) - len(unmatched), pushed=[],
        no_grade=[], unmatched=unmatched, failed=[],
        learners_not_in_roster=sorted(m.name or m.user_id for m in found if m.learner and m.user_id not in matched_ids),
    )  # fmt: skip
    now = clock()
    for student in students:
        member = matches[student.name]
        if member is None:
            continue
        if student.final is None or not student.maximum:
            summary.no_grade.append(student.name)
            continue
        body = ags.score(member.user_id, student.final, student.maximum, now)
        try:
            if not dry_run:
                ags.post_score(platform, lineitem, body)
        except LtiError as error:
            status = error.status if isinstance(error, PlatformError) else None
            summary.failed.append(LtiFailurePublic(student=student.name, status=status, message=str(error)))
            continue
        summary.pushed.append(LtiScorePublic(student=student.name, user_id=member.user_id,
                                             score_given=student.final, score_maximum=student.maximum))  # fmt: skip
    log.info(
        "LTI push%s: %d pushed, %d failed, %d without a grade, %d unmatched",
        " (dry run)" if dry_run else "", len(summary.pushed), len(summary.failed), len(summary.no_grade),
        len(summary.unmatched),
    )  # fmt: skip
    return summary
