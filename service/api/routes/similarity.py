"""Similarity runs and pair reviews (instructors only): which submissions share code or answers."""

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from pydantic import ValidationError
from sqlalchemy import select

from service.api.deps import DatabaseDep, InstructorUser, SessionDep, StoreDep
from service.models import SimilarityRun
from service.schemas import (
    ErrorPublic,
    SimilarityReviewCreate,
    SimilarityReviewPublic,
    SimilarityRunCreate,
    SimilarityRunSummary,
)
from service.similarity import runs
from service.similarity.models import SimilarityParams

router = APIRouter(prefix="/instructor/similarity", tags=["similarity"])
ERRORS = {code: {"model": ErrorPublic} for code in (401, 403, 404, 422, 503)}


def _summary(run: SimilarityRun) -> SimilarityRunSummary:
    return SimilarityRunSummary(
        id=run.id,
        created_at=run.created_at,
        created_by=run.created_by,
        scope=run.scope,
        include_archive=run.include_archive,
        params=run.params,
        template_sha256=run.template_sha256,
        duration_s=run.duration_s,
        code_pairs=len(run.code_report["pairs"]),
        answers_pairs=len(run.answers_report["pairs"]),
    )


def _run_or_404(session: SessionDep, run_id: str) -> SimilarityRun:
    run = session.get(SimilarityRun, run_id)
    if run is None:
        raise HTTPException(404, f"No similarity run {run_id!r}.")
    return run


@router.post("/runs", status_code=status.HTTP_201_CREATED, response_model=SimilarityRunSummary, responses=ERRORS)
async def start(
    body: SimilarityRunCreate, caller: InstructorUser, database: DatabaseDep, store: StoreDep
) -> SimilarityRunSummary:
    """Compare the class's submissions now (seconds for hundreds of students) and store the result."""
    try:
        params = SimilarityParams(**body.params)
    except ValidationError as error:
        raise HTTPException(422, f"Invalid similarity parameters: {error.errors(include_url=False)}") from None

    def work() -> SimilarityRunSummary:
        with database.write_session() as session:
            run = runs.start_run(
                session,
                store,
                created_by=caller.name,
                scope=body.scope,
                include_archive=body.include_archive,
                params=params,
            )
            return _summary(run)

    return await run_in_threadpool(work)


@router.get("/runs", response_model=list[SimilarityRunSummary], responses=ERRORS)
def list_runs(_: InstructorUser, session: SessionDep) -> list[SimilarityRunSummary]:
    """Every stored run, newest first."""
    return [_summary(r) for r in session.scalars(select(SimilarityRun).order_by(SimilarityRun.created_at.desc()))]


@router.get("/runs/{run_id}", responses=ERRORS)
def get_run(run_id: str, _: InstructorUser, session: SessionDep, kind: str = "code") -> dict:
    """One run's pairs (most similar first, each with its current review), clusters and unreadable files."""
    if kind not in runs.KINDS:
        raise HTTPException(422, f"kind must be one of {runs.KINDS}.")
    run = _run_or_404(session, run_id)
    report = dict(run.code_report if kind == "code" else run.answers_report)
    reviews = runs.latest_reviews(session, kind)
    report["pairs"] = [
        {**pair, "review": _review_public(reviews.get(tuple(sorted((pair["a"], pair["b"])))))}
        for pair in report["pairs"]
    ]
    return {"run": _summary(run).model_dump(mode="json"), **report}


@router.get("/runs/{run_id}/pairs.csv", response_class=PlainTextResponse, responses=ERRORS)
def pairs_csv(
    run_id: str, _: InstructorUser, session: SessionDep, kind: str = "code", anonymise: bool = False
) -> PlainTextResponse:
    """The run's pairs as CSV (``anonymise=true`` replaces names by codes and drops the notes)."""
    if kind not in runs.KINDS:
        raise HTTPException(422, f"kind must be one of {runs.KINDS}.")
    text = runs.pairs_csv(session, _run_or_404(session, run_id), kind, anonymise=anonymise)
    name = f"similarity-{kind}{'-anonymised' if anonymise else ''}.csv"
    return PlainTextResponse(
        text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.post("/reviews", status_code=status.HTTP_201_CREATED, response_model=SimilarityReviewPublic, responses=ERRORS)
def review(body: SimilarityReviewCreate, caller: InstructorUser, database: DatabaseDep) -> SimilarityReviewPublic:
    """Record a decision on a pair of students ("to_discuss", "cleared", ...); it survives later runs."""
    with database.write_session() as session:
        try:
            saved = runs.record_review(
                session, kind=body.kind, a=body.a, b=body.b, status=body.status, note=body.note, reviewer=caller.name
            )
        except ValueError as error:
            raise HTTPException(422, str(error)) from None
        return _review_public(saved)


def _review_public(review) -> SimilarityReviewPublic | None:  # noqa: ANN001
    if review is None:
        return None
    return SimilarityReviewPublic(
        kind=review.kind,
        a=review.student_a,
        b=review.student_b,
        status=review.status,
        note=review.note,
        reviewer=review.reviewer,
        created_at=review.created_at,
    )
