"""TA overrides of one submission's checks: the history, the effective scores with stale marks, a new decision."""

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Query, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from service import overrides, review
from service.api.deps import DatabaseDep, InstructorUser, SessionDep, StoreDep
from service.course_schemas import (
    AnswerPublic,
    EffectiveCheck,
    GroupDecision,
    OverrideCreate,
    OverridePublic,
    OverridesPublic,
    ReviewGroup,
    ReviewPublic,
)
from service.models import Override, Submission
from service.schemas import ErrorPublic

router = APIRouter(prefix="/instructor/submissions/{submission_id}/overrides", tags=["overrides"])
ERRORS = {code: {"model": ErrorPublic} for code in (401, 403, 404, 409, 422, 503)}


def _public(row: Override) -> OverridePublic:
    return OverridePublic.model_validate(row, from_attributes=True)


def _view(session: SessionDep, submission_id: str) -> OverridesPublic:
    if session.get(Submission, submission_id) is None:
        raise HTTPException(404, f"No submission {submission_id!r}.")
    report = overrides.graded_report(session, submission_id)
    if report is None:
        raise HTTPException(409, "This submission has no successful grade yet: nothing to override.")
    rows = overrides.history(session, submission_id)
    total, _, applied = overrides.apply(report, overrides.newest(rows))
    return OverridesPublic(
        submission_id=submission_id,
        auto_score=report.score,
        effective_score=total,
        effective=[
            EffectiveCheck(
                check_id=e.check_id,
                question=e.question,
                auto_score=e.auto_score,
                score=e.score,
                max_score=e.max_score,
                stale=e.stale,
                override_id=e.override.id,
            )
            for e in applied
        ],  # fmt: skip
        history=[_public(r) for r in rows],
    )


@router.get("", response_model=OverridesPublic, responses=ERRORS)
def list_overrides(submission_id: str, _: InstructorUser, session: SessionDep) -> OverridesPublic:
    """Every override of the submission, and the effective score of each overridden check (stale = review it)."""
    return _view(session, submission_id)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OverridesPublic, responses=ERRORS)
def create_override(
    submission_id: str, body: OverrideCreate, user: InstructorUser, database: DatabaseDep
) -> OverridesPublic:
    """A new decision on one check (a new score or full credit, feedback, a required reason); history is kept."""
    with database.write_session() as session:
        if session.get(Submission, submission_id) is None:
            raise HTTPException(404, f"No submission {submission_id!r}.")
        report = overrides.graded_report(session, submission_id)
        if report is None:
            raise HTTPException(409, "This submission has no successful grade yet: nothing to override.")
        try:
            overrides.record(
                session, submission_id, report, check_id=body.check_id, score=body.score,
                full_credit=body.full_credit, feedback=body.feedback, reason=body.reason, author=user.name,
            )  # fmt: skip
        except overrides.OverrideRejected as rejected:
            raise HTTPException(rejected.status_code, rejected.message) from None
    with database.session() as session:
        return _view(session, submission_id)


imports = APIRouter(prefix="/instructor/overrides", tags=["overrides"])


@imports.post("/import", responses=ERRORS)
async def import_overrides(
    user: InstructorUser,
    database: DatabaseDep,
    file: Annotated[UploadFile, File(description="CSV: submission, check_id, score (or 'full'), reason, feedback.")],
) -> dict:
    """Many overrides at once; every row is checked first and one bad row changes nothing (422 with the rows)."""
    data = await file.read(5 * 1024 * 1024 + 1)
    if len(data) > 5 * 1024 * 1024:
        raise HTTPException(413, f"{file.filename}: over 5 MiB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HTTPException(422, f"{file.filename} is not UTF-8 text; save it as UTF-8 CSV.") from None

    def run() -> int:
        with database.write_session() as session:
            return overrides.import_csv(session, text, user.name)

    try:
        return {"created": await run_in_threadpool(run)}
    except overrides.OverrideRejected as rejected:
        raise HTTPException(rejected.status_code, rejected.message) from None


reviews = APIRouter(prefix="/instructor/review", tags=["overrides"])


@reviews.get("/{question}", response_model=ReviewPublic, responses=ERRORS)
def review_queue(
    question: str, _: InstructorUser, session: SessionDep, store: StoreDep,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> ReviewPublic:  # fmt: skip
    """One written question's answers (from each student's counted submission), grouped by similarity."""
    try:
        key = review.question_key(question)
    except ValueError as error:
        raise HTTPException(404, str(error)) from None
    groups = review.group(review.collect(session, store, key), seed)
    return ReviewPublic(
        question=key, check_id=f"written.{key.lower()}", seed=seed,
        groups=[ReviewGroup(size=len(g), answers=[AnswerPublic(**_answer(a)) for a in g]) for g in groups],
    )  # fmt: skip


@reviews.post("/{question}/decide", status_code=status.HTTP_201_CREATED, responses=ERRORS)
def decide_group(question: str, body: GroupDecision, user: InstructorUser, database: DatabaseDep) -> dict:
    """One decision for a whole group: an override of the question's written check on each submission
    (all or nothing)."""
    try:
        check_id = f"written.{review.question_key(question).lower()}"
    except ValueError as error:
        raise HTTPException(404, str(error)) from None
    with database.write_session() as session:
        try:
            for sid in body.submissions:
                report = overrides.graded_report(session, sid)
                if report is None:
                    raise overrides.OverrideRejected(409, f"Submission {sid!r} has no successful grade.")
                overrides.record(
                    session, sid, report, check_id=check_id, score=body.score, full_credit=body.full_credit,
                    feedback=body.feedback, reason=body.reason, author=user.name,
                )  # fmt: skip
        except overrides.OverrideRejected as rejected:  # leaving the block with an error rolls every row back
            raise HTTPException(rejected.status_code, "Nothing was changed: " + rejected.message) from None
    return {"created": len(body.submissions), "check_id": check_id}


def _answer(a: review.Answer) -> dict:
    return {"student": a.student, "submission_id": a.submission_id, "text": a.text, "found": a.found,
            "missing": a.missing, "confidence": a.confidence, "auto_score": a.auto_score,
            "effective_score": a.effective_score, "max_score": a.max_score}  # fmt: skip
