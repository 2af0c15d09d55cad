"""API schemas in families: ``SubmissionCreated``, ``SubmissionPublic``, ``JobPublic``, ``AssignmentPublic``..."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class FilePublic(BaseModel):
    name: str = Field(description="File name as uploaded.")
    sha256: str = Field(description="SHA-256 of the stored bytes.")
    size: int = Field(description="Size in bytes.")


class SubmissionLinks(BaseModel):
    self: str = Field(description="Status of the submission.")
    report: str = Field(description="The student view of the latest report (JSON).")
    gradescope: str = Field(description="The latest report as a Gradescope results.json.")
    junit: str = Field(description="The latest report as JUnit XML.")


class SubmissionCreated(BaseModel):
    """The 202 answer: the submission is stored durably and queued."""

    id: str = Field(description="Unguessable submission id.")
    status: str = Field(description="queued")
    position: int | None = Field(description="1-based place in the grading queue.")
    files: list[FilePublic]
    links: SubmissionLinks


class GradePublic(BaseModel):
    """One recorded grade of a submission (the first grading, or a regrade)."""

    job_id: int
    kind: str = Field(description="grade or regrade.")
    score: float
    max_score: float
    succeeded: bool = Field(description="False when the grader itself failed.")
    gradable: bool
    created_at: datetime


class SubmissionPublic(BaseModel):
    """A submission's status: queued (with position), running (with progress), done, or error (with why)."""

    id: str
    student: str
    status: str = Field(description="queued, running, done or error.")
    position: int | None = Field(default=None, description="1-based queue position while queued.")
    progress: str = Field(default="", description="Grader progress while running, as text ('3/10 q1.shape passed').")
    progress_done: int | None = Field(default=None, description="Checks finished while running.")
    progress_total: int | None = Field(default=None, description="Checks in all while running (0: not known yet).")
    progress_label: str = Field(default="", description="The check running and its status, while running.")
    attempts: int = Field(default=0, description="Attempts used by the latest job.")
    created_at: datetime
    files: list[FilePublic]
    score: float | None = Field(default=None, description="Latest grade's score, once graded.")
    max_score: float | None = None
    message: str = Field(default="", description="Why the submission ended in error, or the report's summary.")
    grades: list[GradePublic] = Field(default_factory=list, description="Every grade recorded, oldest first.")
    links: SubmissionLinks


class CheckPublic(BaseModel):
    id: str
    question: str
    category: str
    points: float
    description: str


class QuestionPublic(BaseModel):
    id: str
    title: str = Field(default="", description="The question's title, e.g. 'Multi-head self-attention'.")
    points: float = Field(description="Points of all its checks, hidden ones included.")
    checks: list[CheckPublic] = Field(description="Public checks (hidden ones are only counted in points).")
    hidden_points: float = Field(default=0.0)


class AssignmentPublic(BaseModel):
    questions: list[QuestionPublic]
    max_score: float
    accepted_files: list[str]
    max_file_bytes: int
    max_request_bytes: int
    max_files: int


class RegradeCreated(BaseModel):
    submission_id: str
    job_id: int
    status: str


class RegradeAllCreated(BaseModel):
    queued: int = Field(description="Jobs created.")
    skipped: int = Field(description="Submissions skipped because a job is already queued or running.")


class QuestionStats(BaseModel):
    question: str
    count: int
    mean: float
    median: float
    max: float
    max_score: float


class StatsPublic(BaseModel):
    students: int = Field(description="Students with at least one grade (latest grade each).")
    submissions: int
    queue_depth: int
    questions: list[QuestionStats]
    total: QuestionStats


class ErrorPublic(BaseModel):
    detail: str


def links_for(submission_id: str) -> SubmissionLinks:
    base = f"/api/v1/submissions/{submission_id}"
    return SubmissionLinks(
        self=base, report=f"{base}/report", gradescope=f"{base}/report/gradescope", junit=f"{base}/report/junit"
    )


def files_public(files: list[dict[str, Any]]) -> list[FilePublic]:
    return [FilePublic(**f) for f in files]


class UserPublic(BaseModel):
    name: str = Field(description="Student or instructor name.")
    role: str = Field(description="student or instructor.")


class SimilarityRunCreate(BaseModel):
    """What an instructor asks for when starting a similarity run."""

    scope: str = Field("counted", pattern="^(counted|all)$", description="counted: one submission per student.")
    include_archive: bool = Field(False, description="Also compare with the imported submissions of earlier terms.")
    params: dict[str, Any] = Field(default_factory=dict, description="Overrides of the fingerprinting parameters.")


class SimilarityRunSummary(BaseModel):
    """A stored run, without its pairs."""

    id: str
    created_at: datetime
    created_by: str
    scope: str
    include_archive: bool
    params: dict[str, Any]
    template_sha256: str
    duration_s: float
    code_pairs: int
    answers_pairs: int


class SimilarityReviewCreate(BaseModel):
    """A reviewer's decision on a pair of students; it applies to every run, past and future."""

    kind: str = Field(pattern="^(code|answers)$")
    a: str = Field(min_length=1, max_length=128)
    b: str = Field(min_length=1, max_length=128)
    status: str = Field(pattern="^(open|to_discuss|cleared)$")
    note: str = Field("", max_length=4000)


class SimilarityReviewPublic(BaseModel):
    kind: str
    a: str
    b: str
    status: str
    note: str
    reviewer: str
    created_at: datetime
