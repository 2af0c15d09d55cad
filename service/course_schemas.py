"""API schemas of the course: the policy, extensions, and a student's standing (``PolicyPublic``, ...)."""

from datetime import datetime

from pydantic import BaseModel, Field

from service.policy import Policy


class PolicyPublic(BaseModel):
    policy: Policy = Field(description="The policy in force; times in UTC.")
    due_local: str = Field(description="Due time in the policy's time zone.")
    close_local: str = Field(description="Close time in the policy's time zone ('' = never closes).")
    version: int = Field(description="Version number (0 = the default policy, never set).")
    author: str = ""
    set_at: datetime | None = None


class ExtensionCreate(BaseModel):
    student: str = Field(min_length=1, max_length=128)
    due_at: datetime = Field(description="New due time (local to the policy's time zone, or with an offset).")
    close_at: datetime | None = Field(default=None, description="New close time; default: max(policy close, due).")
    reason: str = Field(min_length=1, max_length=2000, description="Why (kept in the history).")


class ExtensionRevoke(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class ExtensionPublic(BaseModel):
    id: int
    student: str
    action: str = Field(description="grant or revoke.")
    due_at: datetime | None
    close_at: datetime | None
    reason: str
    author: str
    created_at: datetime


class SubmissionStanding(BaseModel):
    """One graded submission as the policy prices it now."""

    id: str
    received_at: datetime
    timing: str = Field(description="on_time, late, or practice (after the close: no credit).")
    late_minutes: float
    late_token_hours: int = Field(description="Late tokens spent on this submission (whole hours).")
    credit_percent: float
    raw_score: float
    final_score: float
    max_score: float
    gradable: bool
    counts: bool = Field(description="True for the submission whose grade counts.")


class StandingPublic(BaseModel):
    """A student's deadlines and grades: what counts and why."""

    student: str
    counts_rule: str = Field(description="latest, best, chosen or best_per_question.")
    due_at: datetime | None
    due_local: str
    close_at: datetime | None
    close_local: str
    grace_minutes: float
    extended: bool = Field(description="True when an extension sets the due and close times above.")
    extension_reason: str = ""
    counted_submission: str | None
    final_score: float | None
    submissions: list[SubmissionStanding]


class OverrideCreate(BaseModel):
    check_id: str = Field(min_length=1, max_length=128)
    score: float | None = Field(default=None, description="New score of the check (omit with full_credit).")
    full_credit: bool = Field(default=False, description="The check's max score, whatever it is.")
    feedback: str = Field(default="", max_length=10_000, description="Shown to the student.")
    reason: str = Field(min_length=1, max_length=2000, description="Why (kept in the history; required).")


class OverridePublic(BaseModel):
    id: int
    submission_id: str
    check_id: str
    score: float | None
    full_credit: bool
    feedback: str
    reason: str
    author: str
    auto_score: float | None = Field(description="The automatic score when the override was made.")
    created_at: datetime


class EffectiveCheck(BaseModel):
    check_id: str
    question: str
    auto_score: float = Field(description="The automatic score of the latest successful grade.")
    score: float = Field(description="The effective score (the newest override's).")
    max_score: float
    stale: bool = Field(description="The automatic score changed since the override was made: review it.")
    override_id: int


class OverridesPublic(BaseModel):
    submission_id: str
    auto_score: float
    effective_score: float
    effective: list[EffectiveCheck]
    history: list[OverridePublic] = Field(description="Every override of this submission, oldest first.")


class ExportPublic(BaseModel):
    csv: str = Field(description="The file to upload to the LMS (CRLF line ends).")
    column: str = Field(description="The grade column written.")
    missing_in_lms: list[str] = Field(description="Roster students the LMS file lacks (or who lack its key).")
    missing_in_roster: list[str] = Field(description="LMS students who are not on the roster.")


class RosterImported(BaseModel):
    created: dict[str, str] = Field(description="New students and their tokens (shown once).")
    updated: list[str] = Field(description="Existing students whose email and SIS ids were updated (tokens kept).")
    problems: list[str] = Field(description="Rows left out, with why.")


class RosterEntry(BaseModel):
    name: str
    role: str
    email: str | None
    sis_id: str | None
    sis_login: str | None
    created_at: datetime
    revoked_at: datetime | None = Field(default=None, description="When the token was revoked; None = active.")


class TokenIssued(BaseModel):
    name: str
    token: str = Field(description="Shown once; only its hash is stored.")


class GradeRow(BaseModel):
    """One student's grade that counts (the JSON twin of a grades.csv row)."""

    student: str
    counts: str
    submission: str | None
    submitted_at: datetime | None
    timing: str | None
    late_minutes: float | None
    credit_percent: float | None
    raw_score: float | None
    final_score: float | None
    max_score: float | None
    questions: dict[str, float]


class AnswerPublic(BaseModel):
    student: str
    submission_id: str
    text: str = Field(description="The answer as the student wrote it (render as text, never as HTML).")
    found: list[str] = Field(description="Rubric concepts the grader found.")
    missing: list[str] = Field(description="Rubric concepts it did not find.")
    confidence: float = Field(description="Fraction of the concepts found (0..1).")
    auto_score: float
    effective_score: float
    max_score: float


class ReviewGroup(BaseModel):
    size: int
    answers: list[AnswerPublic]


class ReviewPublic(BaseModel):
    question: str
    check_id: str
    seed: int = Field(description="The seed of the singletons' order (send another for another order).")
    groups: list[ReviewGroup] = Field(description="Similar answers together, largest groups first.")


class GroupDecision(BaseModel):
    submissions: list[str] = Field(min_length=1, max_length=5000, description="The group's submission ids.")
    score: float | None = None
    full_credit: bool = False
    feedback: str = Field(default="", max_length=10_000)
    reason: str = Field(min_length=1, max_length=2000)


class RegradeRequestCreate(BaseModel):
    check_id: str = Field(min_length=1, max_length=128)
    message: str = Field(min_length=1, max_length=4000, description="What you want looked at, and why.")


class RegradeRequestAnswer(BaseModel):
    reply: str = Field(min_length=1, max_length=4000, description="Shown to the student.")
    score: float | None = Field(default=None, description="A new score: makes an override (reason: the reply).")
    full_credit: bool = False


class RegradeRequestPublic(BaseModel):
    id: int
    submission_id: str
    student: str
    check_id: str
    message: str
    created_at: datetime
    reply: str | None
    answered_by: str | None
    answered_at: datetime | None
    override_id: int | None
