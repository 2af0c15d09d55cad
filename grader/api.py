"""The grader's one entry point for the CLI and the service: files in, a ``Report`` out, never an exception.

A submission that cannot be graded (no module and no answers, a syntax error, a bad zip...) gives
``gradable=False`` with intake's message and score 0; a grader bug gives ``succeeded=False`` with an
honest message and the traceback for staff. Only the caller's own mistakes (a wrong argument type)
escape as exceptions.
"""

import contextlib
import logging
import time
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path

from grader.intake import IntakeError, load_submission
from grader.report import Report
from grader.runner import (
    GraderFault,
    ProgressCallback,
    build_environment,
    grade_submission,
    resolve_device,
    select_checks,
)
from grader.settings import GraderSettings

log = logging.getLogger(__name__)


def grade_files(
    paths: Sequence[str | Path],
    *,
    device: str = "auto",
    data_profile: str = "bundled",
    seed: int = 0,
    select: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    settings: GraderSettings | None = None,
) -> Report:
    """Grade the files of one submission (``.py``, ``.ipynb``, ``.md``, ``.zip``; several are combined)."""
    start = time.perf_counter()
    select = list(select or [])
    try:
        settings = settings or GraderSettings()
        submission = load_submission([Path(p) for p in paths])
    except IntakeError as error:
        return _empty_report(error.message, start, device, data_profile, seed, select, gradable=False, succeeded=True)
    except Exception:  # noqa: BLE001 - last resort: intake itself broke
        log.exception("grader fault during intake")
        return _fault_report(
            "reading the submission", traceback.format_exc(), start, device, data_profile, seed, select
        )
    try:
        return grade_submission(
            submission,
            device=device,
            data_profile=data_profile,
            seed=seed,
            select=select,
            progress=progress,
            settings=settings,
        )
    except Exception:  # noqa: BLE001 - last resort: the runner itself broke
        log.exception("grader fault while grading")
        return _fault_report("grading", traceback.format_exc(), start, device, data_profile, seed, select)


def _empty_report(
    message: str,
    start: float,
    device: str,
    data_profile: str,
    seed: int,
    select: list[str],
    *,
    gradable: bool,
    succeeded: bool,
) -> Report:
    """A report with no checks run: score 0 out of the selected checks' points."""
    specs = select_checks(select)
    with contextlib.suppress(GraderFault):  # else the environment says what was asked for
        device = resolve_device(device)
    return Report(
        score=0.0,
        max_score=float(sum(spec.points for spec in specs)),
        gradable=gradable,
        succeeded=succeeded,
        duration_s=round(time.perf_counter() - start, 3),
        environment=build_environment(device, seed, data_profile, specs, []),
        message=message,
    )


def _fault_report(
    stage: str, staff_traceback: str, start: float, device: str, data_profile: str, seed: int, select: list[str]
) -> Report:
    """``succeeded=False``: the grader failed; the student sees that it is not their fault, the log has why."""
    last = staff_traceback.strip().splitlines()[-1] if staff_traceback.strip() else "unknown error"
    message = f"The grader failed while {stage} ({last}); the score is not a grade. This is not your fault."
    return _empty_report(message, start, device, data_profile, seed, select, gradable=True, succeeded=False)
