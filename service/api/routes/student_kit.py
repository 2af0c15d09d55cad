"""The student kit: ``pip install <service>/student-kit/vitgrade_student-<version>-py3-none-any.whl``.

Public like the assignment: the kit holds the public checks' fixtures, nothing of the answer key.
"""

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from grader.student_kit import wheel_name
from service.api.deps import SettingsDep
from service.student_kit import kit_wheel
from vitgrade_student import __version__

router = APIRouter(tags=["student kit"])


@router.get("/student-kit/")
def describe_kit(request: Request) -> dict[str, str]:
    """Where the wheel is and the one command that installs it."""
    url = str(request.url_for("download_kit", filename=wheel_name()))
    return {"version": __version__, "wheel": url, "install": f"pip install {url}"}


@router.get("/student-kit/{filename}", response_class=FileResponse, name="download_kit")
async def download_kit(filename: str, settings: SettingsDep) -> FileResponse:
    """The wheel (built on first request, then served from the var dir)."""
    if filename != wheel_name():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No such kit {filename!r}; the kit is {wheel_name()!r}.")
    path = await run_in_threadpool(kit_wheel, settings)
    return FileResponse(path, media_type="application/zip", filename=filename)
