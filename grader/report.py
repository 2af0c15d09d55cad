"""The grading report: the binding JSON contract (schema_version 1) that the CLI, the service and CI read."""

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

SCHEMA_VERSION = 1
HIDDEN_MESSAGE = "hidden check"


class CheckStatus(StrEnum):
    passed = "passed"
    failed = "failed"
    error = "error"
    skipped = "skipped"


class CheckCategory(StrEnum):
    shape = "shape"
    equivalence = "equivalence"
    property = "property"
    accuracy = "accuracy"
    written = "written"
    static = "static"


class CheckResult(BaseModel):
    """The verdict of one check on one submission."""

    id: str = Field(description="Stable check id, e.g. 'q3.equivalence'.")
    question: str = Field(description="'Q1'..'Q8', or 'written' for the written answers.")
    category: CheckCategory = Field(description="What kind of evidence the check looks at.")
    status: CheckStatus = Field(description="passed, failed (the submission is wrong), error (it crashed), skipped.")
    score: float = Field(description="Points earned.")
    max_score: float = Field(description="Points available.")
    message: str = Field(default="", description="What was expected and what came.")
    hint: str = Field(default="", description="How to fix it; names a known mistake when one matches.")
    hidden: bool = Field(default=False, description="Hidden from students: only its score is shown.")
    details: dict[str, Any] = Field(default_factory=dict, description="Figures: errors, tolerances, shapes.")
    duration_s: float = Field(default=0.0, description="Wall time of the check.")
    staff_traceback: str | None = Field(default=None, description="Traceback for staff; never shown to students.")


class QuestionScore(BaseModel):
    """The total of one question."""

    id: str = Field(description="'Q1'..'Q8' or 'written'.")
    score: float
    max_score: float
    title: str = Field(default="", description="The question's title in grader/questions.py, e.g. 'MLP'.")


class Environment(BaseModel):
    """Where and how the grade was computed, so that it can be reproduced."""

    grader_version: str
    python: str
    torch: str
    timm: str
    device: str
    seed: int
    data_profile: str
    suite_sha256: str = Field(description="Hash of the check suite: ids, points and the grader's source.")
    isolation: list[str] = Field(default_factory=list, description="Sandbox mechanisms that were in force.")


class Report(BaseModel):
    """The whole grade of one submission (schema_version 1)."""

    schema_version: int = SCHEMA_VERSION
    score: float
    max_score: float
    gradable: bool = Field(description="False when the submission could not be graded at all (no module...).")
    succeeded: bool = Field(description="False when the grader itself failed; the score is then not a grade.")
    duration_s: float
    questions: list[QuestionScore] = Field(default_factory=list)
    checks: list[CheckResult] = Field(default_factory=list)
    environment: Environment
    submission: dict[str, Any] = Field(
        default_factory=dict, description="Intake notes: files, sha256, dropped notebook lines, answers found."
    )
    message: str = Field(default="", description="A summary for the student (why not gradable, grader fault...).")
    log: str = Field(default="", description="The submission's own output, truncated; instructors only.")

    def student_view(self) -> "Report":
        """What a student may see: no staff tracebacks, no hidden check's message, hint or figures, and never the
        submission's log (it prints whatever its code is built with, hidden configurations included)."""
        checks = []
        for check in self.checks:
            public = check.model_copy(update={"staff_traceback": None})
            if check.hidden:
                public = public.model_copy(update={"message": HIDDEN_MESSAGE, "hint": "", "details": {}})
            checks.append(public)
        return self.model_copy(update={"checks": checks, "log": ""})
