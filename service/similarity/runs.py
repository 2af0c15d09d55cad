"""Similarity runs in the service: gather the class's submissions, run the report, store it; reviews and CSV.

A run reads each student's counted submission (scope ``counted``: the one that counts under the course's
rule, or the latest readable one while none is graded) or every submission (``all``), optionally the
archive of earlier terms, and stores the parameters, the template's hash, who started it and the results.
Reviews are kept per pair of students (append-only), so a decision survives every later run.
"""

import csv
import hashlib
import io
import tempfile
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.intake import IntakeError, load_submission
from service import gradebook
from service.models import ArchivedSubmission, Role, SimilarityReview, SimilarityRun, Status, Submission, User
from service.similarity.models import SimilarityParams
from service.similarity.report import Source, similarity_report
from service.similarity.template import load_template
from service.storage import BlobStore
from service.uploads import work_name

SCOPES = ("counted", "all")
REVIEW_STATUSES = ("open", "to_discuss", "cleared")
KINDS = ("code", "answers")


def read_files(store: BlobStore, files: list[dict]) -> tuple[str | None, dict[str, str]]:
    """The module source and the answers of one stored submission, read as the grader reads them (``IntakeError``
    when they cannot be)."""
    with tempfile.TemporaryDirectory(prefix="vitgrade-similarity-") as tmp:
        paths = []
        for index, entry in enumerate(files):
            folder = Path(tmp) / str(index)
            folder.mkdir()
            path = folder / work_name(entry["name"], index)  # a safe name, whatever the row holds
            path.write_bytes(store.get(entry["sha256"]))
            paths.append(path)
        submission = load_submission(paths)
    return submission.module_source, dict(submission.answers)


def gather_sources(session: Session, store: BlobStore, *, scope: str, include_archive: bool) -> list[Source]:
    """The class as ``Source`` records: one per student (``counted``: the submission that counts under the
    course's rule, or their latest readable one while none is graded) or one per submission (``all``)."""
    query = (
        select(Submission, User.name)
        .join(User, User.id == Submission.user_id)
        .where(User.role == Role.student)
        .order_by(User.name, Submission.created_at.desc())
    )
    counted = {s.name: s.submission.submission_id for s in gradebook.load(session).students if s.submission}
    rows = list(session.execute(query))
    if scope == "counted":
        rows = [(sub, name) for sub, name in rows if counted.get(name, sub.id) == sub.id]
    sources: list[Source] = []
    seen: set[str] = set()
    for submission, name in rows:
        if scope == "counted" and (name in seen or submission.status == Status.error):
            continue
        try:
            code, answers = read_files(store, submission.files)
        except (IntakeError, OSError, ValueError) as error:
            sources.append(Source(name, submission.id, None, problem=f"not readable: {error}"))
            continue
        seen.add(name)
        sources.append(Source(name, submission.id, code, answers))
    if include_archive:
        for entry in session.scalars(select(ArchivedSubmission).order_by(ArchivedSubmission.id)):
            owner = f"{entry.term}/{entry.owner}"
            sources.append(Source(owner, f"archive:{owner}", entry.code, dict(entry.answers), archived=True))
    return sources


def start_run(
    session: Session,
    store: BlobStore,
    *,
    created_by: str,
    scope: str = "counted",
    include_archive: bool = False,
    params: SimilarityParams | None = None,
) -> SimilarityRun:
    """Compute a report over the class and store it (the caller commits)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    params = params or SimilarityParams()
    template = load_template()
    began = time.monotonic()
    sources = gather_sources(session, store, scope=scope, include_archive=include_archive)
    code, answers = similarity_report(sources, template, params)
    run = SimilarityRun(
        created_by=created_by,
        scope=scope,
        include_archive=include_archive,
        params=params.model_dump(),
        template_sha256=template.sha256,
        duration_s=round(time.monotonic() - began, 3),
        code_report=code.model_dump(mode="json"),
        answers_report=answers.model_dump(mode="json"),
    )
    session.add(run)
    session.flush()
    return run


def record_review(
    session: Session, *, kind: str, a: str, b: str, status: str, note: str, reviewer: str
) -> SimilarityReview:
    """Append a review of the pair (a, b); the names are stored sorted so (b, a) is the same pair."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if status not in REVIEW_STATUSES:
        raise ValueError(f"status must be one of {REVIEW_STATUSES}, got {status!r}")
    if a == b:
        raise ValueError("a pair needs two different students")
    first, second = sorted((a, b))
    review = SimilarityReview(kind=kind, student_a=first, student_b=second, status=status, note=note, reviewer=reviewer)
    session.add(review)
    session.flush()
    return review


def latest_reviews(session: Session, kind: str) -> dict[tuple[str, str], SimilarityReview]:
    """The latest review of every reviewed pair of ``kind``."""
    reviews: dict[tuple[str, str], SimilarityReview] = {}
    query = select(SimilarityReview).where(SimilarityReview.kind == kind).order_by(SimilarityReview.id)
    for review in session.scalars(query):
        reviews[(review.student_a, review.student_b)] = review
    return reviews


def pairs_csv(session: Session, run: SimilarityRun, kind: str, *, anonymise: bool = False) -> str:
    """The run's pairs of ``kind`` as CSV with each pair's review; ``anonymise`` replaces names by stable codes."""
    report = run.code_report if kind == "code" else run.answers_report
    reviews = latest_reviews(session, kind)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["student_a", "student_b", "similarity", "a_coverage", "b_coverage", "longest_fragment", "review", "note"]
    )
    for pair in report["pairs"]:
        review = reviews.get(tuple(sorted((pair["a"], pair["b"]))))
        names = [_anonymous(run.id, n) if anonymise else _cell(n) for n in (pair["a"], pair["b"])]
        writer.writerow(
            [
                *names,
                pair["similarity"],
                pair["a_coverage"],
                pair["b_coverage"],
                pair["longest_fragment"],
                review.status if review else "open",
                "" if anonymise or review is None else _cell(review.note),
            ]
        )
    return out.getvalue()


def _anonymous(salt: str, name: str) -> str:
    return "student-" + hashlib.sha256(f"{salt}:{name}".encode()).hexdigest()[:8]


def _cell(text: str) -> str:
    """A spreadsheet cell that cannot be read as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
