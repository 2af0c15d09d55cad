"""Run the registered checks on one submission: one context per check, one report.

The visible checks share one sandbox; the hidden checks run last, in a fresh one (``grader.session``).
If the module is missing or does not import, every code check fails with the reason while the
written checks still run. Each check's outcome becomes a ``CheckResult`` in ``grader.outcomes``;
a grader fault in any check (or a sandbox that cannot start) makes the report ``succeeded=False``.
Every request runs under a limit derived from the reference's measured time, a component that timed
out is not waited for again (``grader.guard``), and a per-submission wall budget bounds the whole grade.
The report lists the checks in question order, whatever order they ran in.
"""

import fnmatch
import logging
import platform
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import timm
import torch

import grader
from grader import checks as _checks  # noqa: F401 - importing the package registers every check
from grader import devices
from grader.checks.context import CheckContext
from grader.checks.registry import REGISTRY, CheckSpec
from grader.checks.scratch_cap import apply_from_scratch_rule
from grader.guard import GuardState
from grader.intake.models import Submission
from grader.outcomes import fault_result, run_check, unavailable_result
from grader.questions import BY_ID, check_order, question_order
from grader.report import CheckCategory, CheckResult, Environment, QuestionScore, Report
from grader.session import SandboxSession
from grader.settings import GraderSettings
from grader.suite import suite_sha256
from grader.timing import request_limits

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int, str], None]


@dataclass
class GradingContext(CheckContext):
    """A ``CheckContext`` that also carries the grader's settings (data dir, time budgets)."""

    settings: GraderSettings | None = None


class GraderFault(Exception):
    """The grader itself could not run (bad device, sandbox could not start for a reason not the student's)."""


def resolve_device(device: str) -> str:
    """``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (-> ``cuda`` when torch sees a GPU, else ``cpu``); a device this
    machine does not have, or an unknown name, is a grader fault."""
    try:
        return devices.resolve_device(
            device, cuda_available=torch.cuda.is_available(), cuda_count=torch.cuda.device_count()
        )
    except devices.DeviceError as error:
        raise GraderFault(str(error)) from None


def _order_key(spec: CheckSpec) -> tuple[int, int, str]:
    return check_order(spec.id, spec.question)


def select_checks(select: Iterable[str] | None = None, registry: dict[str, CheckSpec] | None = None) -> list[CheckSpec]:
    """The registered checks in question order, keeping those whose id matches any ``select`` glob."""
    specs = sorted((registry if registry is not None else REGISTRY).values(), key=_order_key)
    patterns = list(select or [])
    if patterns:
        specs = [spec for spec in specs if any(fnmatch.fnmatchcase(spec.id, pattern) for pattern in patterns)]
    return specs


def build_environment(device: str, seed: int, data_profile: str, specs: list[CheckSpec], isolation: list[str]):
    """Where and how the grade is computed."""
    return Environment(
        grader_version=grader.__version__,
        python=platform.python_version(),
        torch=torch.__version__,
        timm=timm.__version__,
        device=device,
        seed=seed,
        data_profile=data_profile,
        suite_sha256=suite_sha256(specs),
        isolation=isolation,
    )


def submission_notes(submission: Submission) -> dict[str, Any]:
    """Intake's notes for the report: files and hashes, dropped notebook lines, answers found, warnings."""
    notes = submission.model_dump(mode="json", exclude={"module_source", "answers"})
    notes["has_module"] = submission.module_source is not None
    notes["answers_found"] = list(submission.answers)
    return notes


def _clean(value: Any) -> Any:
    """Strings that UTF-8 can encode (lone surrogates from the child's JSON become '?'), recursively."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_clean(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def sanitize(report: Report) -> Report:
    """The report with every string encodable, so that JSON writers and databases never choke on it."""
    return Report.model_validate(_clean(report.model_dump()))


def truncate(text: str, limit: int) -> str:
    """Keep the first ``limit`` bytes' worth of characters and say how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... [{len(text) - limit} more characters truncated]"


def totals(results: list[CheckResult]) -> list[QuestionScore]:
    """Per-question sums in question order."""
    sums: dict[str, list[float]] = {}
    for result in results:
        entry = sums.setdefault(result.question, [0.0, 0.0])
        entry[0] += result.score
        entry[1] += result.max_score
    order = sorted(sums, key=question_order)
    return [
        QuestionScore(
            id=q, title=BY_ID[q].title if q in BY_ID else "", score=round(sums[q][0], 6), max_score=round(sums[q][1], 6)
        )
        for q in order
    ]


def grade_submission(
    submission: Submission,
    *,
    device: str = "auto",
    data_profile: str = "bundled",
    seed: int = 0,
    select: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    settings: GraderSettings | None = None,
) -> Report:
    """Grade one intake'd submission; grader faults inside checks give ``succeeded=False``, never raise.

    Raises ``GraderFault`` only when grading cannot start at all (an unusable device).
    """
    settings = settings or GraderSettings()
    start = time.perf_counter()
    used_device = resolve_device(device)
    specs = select_checks(select)
    module_specs = [spec for spec in specs if spec.category is not CheckCategory.written]
    placement = settings.sandbox_placement()
    limits = request_limits(used_device, settings.timing, settings.limits, placement) if module_specs else None
    state = GuardState(limits) if limits is not None else None
    session = SandboxSession(submission, used_device, seed, settings, state)
    deadline = start + settings.submission_budget_s
    results: dict[str, CheckResult] = {}
    faults: list[str] = []
    try:
        for index, spec in enumerate(run_order(specs)):
            if progress is not None:
                progress(spec.id, index, len(specs), "running")
            began = time.perf_counter()
            result, ok = _run_one(spec, session, deadline, settings, used_device, seed, data_profile)
            if not ok:
                faults.append(spec.id)
            result.duration_s = round(time.perf_counter() - began, 3)
            results[spec.id] = result
            if progress is not None:
                progress(spec.id, index + 1, len(specs), result.status.value)
    finally:
        session.close()
    ordered = [results[spec.id] for spec in specs]
    try:
        ordered = apply_from_scratch_rule(ordered, submission.module_source)
    except Exception:  # noqa: BLE001 - a grader bug: the report says so, the student is not charged
        log.exception("grader fault in the from-scratch rule")
        faults.append("the from-scratch rule")
    message = ""
    if session.fault is not None:
        message = f"The grader failed: {session.fault}. The score is not a grade; this is not your fault."
    elif faults:
        message = f"The grader failed on {', '.join(faults)}; the score is not a grade. Staff have the traceback."
    elif session.unavailable is not None:
        message = session.unavailable[0]
    report = Report(
        score=round(sum(r.score for r in ordered), 6),
        max_score=round(sum(r.max_score for r in ordered), 6),
        gradable=True,
        succeeded=not faults and session.fault is None,
        duration_s=round(time.perf_counter() - start, 3),
        questions=totals(ordered),
        checks=ordered,
        environment=build_environment(used_device, seed, data_profile, specs, session.isolation),
        submission=submission_notes(submission),
        message=message,
        log=truncate(session.log, settings.log_bytes),
    )
    return sanitize(report)


def run_order(specs: list[CheckSpec]) -> list[CheckSpec]:
    """Every visible check first, then the hidden ones (in a fresh child): nothing they see reaches a visible check."""
    return [spec for spec in specs if not spec.hidden] + [spec for spec in specs if spec.hidden]


def _run_one(
    spec: CheckSpec,
    session: SandboxSession,
    deadline: float,
    settings: GraderSettings,
    device: str,
    seed: int,
    data_profile: str,
) -> tuple[CheckResult, bool]:
    """One check's result, and False when the grader failed on it."""
    if time.perf_counter() > deadline:  # the submission's own time is bounded by its limits: this is the grader's
        why = f"not run: grading went past the grader's {settings.submission_budget_s:g} s budget for one submission"
        return fault_result(spec, why), False
    box = None
    if spec.category is not CheckCategory.written:
        box = session.sandbox(spec.hidden, max(deadline - time.perf_counter(), 0.001))
        if session.fault is not None:
            return fault_result(spec, session.fault), False
        if box is None:
            return unavailable_result(spec, *session.unavailable), True
        box.check_id = spec.id
    ctx = GradingContext(
        sandbox=box,
        submission=session.submission,
        device=device,
        seed=seed,
        data_profile=data_profile,
        cache_dir=settings.cache_dir,
        check_id=spec.id,
        settings=settings,
    )
    return run_check(spec, ctx)
