"""LMS exports (Canvas, Moodle) and the grades as JSON: the instructor's files in, files an LMS imports out."""

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from service import exports, gradebook, grades
from service.api.deps import DatabaseDep, InstructorUser, SessionDep
from service.course_schemas import ExportPublic, GradeRow
from service.models import Role, User
from service.schemas import ErrorPublic

router = APIRouter(prefix="/instructor", tags=["exports"])
ERRORS = {code: {"model": ErrorPublic} for code in (401, 403, 413, 422, 503)}
MAX_LMS_FILE = 5 * 1024 * 1024


async def read_csv(upload: UploadFile) -> str:
    data = await upload.read(MAX_LMS_FILE + 1)
    if len(data) > MAX_LMS_FILE:
        raise HTTPException(413, f"{upload.filename}: over {MAX_LMS_FILE} bytes.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise HTTPException(
            422, f"{upload.filename} is not UTF-8 text (byte {error.start}); save it as UTF-8 CSV."
        ) from None


def _students(session: SessionDep) -> list[User]:
    return list(session.scalars(select(User).where(User.role == Role.student)))


def _public(export: exports.Export) -> ExportPublic:
    return ExportPublic(csv=export.csv, column=export.column, missing_in_lms=export.missing_in_lms,
                        missing_in_roster=export.missing_in_roster)  # fmt: skip


@router.post("/exports/canvas", response_model=ExportPublic, responses=ERRORS)
async def canvas(
    _: InstructorUser,
    database: DatabaseDep,
    file: Annotated[UploadFile, File(description="Your Canvas gradebook export (CSV).")],
    column: Annotated[str | None, Query(max_length=300, description="Assignment column 'Name (id)'.")] = None,
) -> ExportPublic:
    """Your Canvas export filled with the grades that count, ready for Canvas's gradebook import."""
    text = await read_csv(file)

    def build() -> exports.Export:
        with database.session() as session:
            return exports.canvas(gradebook.load(session), _students(session), text, column)

    try:
        return _public(await run_in_threadpool(build))
    except exports.ExportError as error:
        raise HTTPException(422, str(error)) from None


@router.get("/exports/moodle", response_model=ExportPublic, responses=ERRORS)
def moodle(
    _: InstructorUser,
    session: SessionDep,
    key: Annotated[str, Query(pattern="^(email|idnumber)$")] = "email",
    item: Annotated[str, Query(min_length=1, max_length=200)] = "ViT lab",
) -> ExportPublic:
    """A Moodle "Import grades from CSV" file keyed by email address or ID number."""
    return _public(exports.moodle(gradebook.load(session), _students(session), key, item))


@router.get("/grades", response_model=list[GradeRow], responses=ERRORS)
def grades_json(_: InstructorUser, session: SessionDep) -> list[GradeRow]:
    """The grade that counts per student, as data (grades.csv's rows)."""
    return grades.grade_rows(session)
