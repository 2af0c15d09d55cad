"""Run the registered checks on one submission: one sandbox, one context per check, one report.

If the module is missing or does not import, every code check fails with the reason while the
written checks still run. Each check's outcome becomes a ``CheckResult`` in ``grader.outcomes``;
a grader fault in any check makes the report ``succeeded=False``. A per-submission wall budget bounds
the whole grade.
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
from grader.checks.context import CheckContext
from grader.checks.registry import REGISTRY, CheckSpec
from grader.checks.scratch_cap import apply_from_scratch_rule
from grader.intake.models import Submission
from grader.outcomes import result_of, run_check, short_traceback, unavailable_result
from grader.questions import BY_ID, check_order, question_order
from grader.report import CheckCategory, CheckResult, CheckStatus, Environment, QuestionScore, Report
from grader.sandbox.errors import SandboxCrashed, SandboxTimeout, StudentError
from grader.settings import GraderSettings
from grader.suite import suite_sha256

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int, str], None]


@dataclass
class GradingContext(CheckContext):
    """A ``CheckContext`` that also carries the grader's settings (data dir, time budgets)."""

    settings: GraderSettings | None = None


class GraderFault(Exception):
    """The grader itself could not run (bad device, sandbox could not start for a reason not the student's)."""


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; ``cuda`` without a GPU is a grader fault."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise GraderFault("--device cuda was asked for, but torch sees no CUDA device on the grading machine.")
    if device not in ("cpu", "cuda"):
        raise GraderFault(f"Unknown device {device!r}; expected cpu, cuda or auto.")
    return device


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


def _describe_import_error(error: Any) -> str:
    """The sandbox's import error (a string or an exception) as one student-readable text."""
    if error is None:
        return ""
    message = getattr(error, "message", None) or str(error)
    trace = short_traceback(getattr(error, "traceback", "") or "")
    return f"{message}\n{trace}" if trace else message


def start_sandbox(submission: Submission, device: str, seed: int, settings: GraderSettings, budget_s: float):
    """Start the submission's one sandbox; returns ``(sandbox or None, why the module checks cannot run)``.

    A missing module, an import that fails (``sys.exit`` at import included), or a child that hangs or
    dies while importing make every module check fail with that reason; the written checks still run.
    """
    from grader.sandbox import Sandbox  # imported late: the written-only path never needs it

    if submission.module_source is None:
        return None, (
            "no Python module was found in the submission, so the code checks could not run",
            "Submit your vit.py (or the notebook) together with answers.md.",
        )
    limits = settings.limits.model_copy(update={"total_timeout_s": min(settings.limits.total_timeout_s, budget_s)})
    hint = "Run `python vit.py` (or restart your notebook and run all cells) and fix the first error."
    box = Sandbox(submission.module_source, device=device, limits=limits, seed=seed)
    try:
        box.__enter__()
    except StudentError as error:
        return None, (f"your module failed to import: {_describe_import_error(error)}", hint)
    except SandboxTimeout as error:
        return None, (f"importing your module took longer than {error.seconds:g}s and was stopped", hint)
    except SandboxCrashed as error:
        return None, (f"your process died while importing your module: {error}", hint)
    except BaseException:
        box.close()
        raise
    if getattr(box, "import_error", None):
        return box, (f"your module failed to import: {_describe_import_error(box.import_error)}", hint)
    return box, None


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
    deadline = start + settings.submission_budget_s
    box, unavailable = None, None
    if any(spec.category is not CheckCategory.written for spec in specs):
        box, unavailable = start_sandbox(submission, used_device, seed, settings, settings.submission_budget_s)
    results: list[CheckResult] = []
    faults: list[str] = []
    try:
        for index, spec in enumerate(specs):
            if progress is not None:
                progress(spec.id, index, len(specs), "running")
            began = time.perf_counter()
            if began > deadline:
                result = result_of(
                    spec,
                    CheckStatus.error,
                    message=f"not run: grading this submission used up its {settings.submission_budget_s:g}s budget",
                    hint="Something in your code is very slow; the earlier checks' times show where.",
                )
            elif spec.category is not CheckCategory.written and unavailable is not None:
                result = unavailable_result(spec, *unavailable)
            else:
                ctx = GradingContext(
                    sandbox=box,
                    submission=submission,
                    device=used_device,
                    seed=seed,
                    data_profile=data_profile,
                    cache_dir=settings.cache_dir,
                    check_id=spec.id,
                    settings=settings,
                )
                result, ok = run_check(spec, ctx)
                if not ok:
                    faults.append(spec.id)
            result.duration_s = round(time.perf_counter() - began, 3)
            results.append(result)
            if progress is not None:
                progress(spec.id, index + 1, len(specs), result.status.value)
        # "uid:60446" -> "uid": which pooled uid ran the child is not part of a reproducible report
        isolation = [str(item).split(":", 1)[0] for item in (getattr(box, "isolation", None) or [])]
        log_text = str(getattr(box, "log", "") or "") if box is not None else ""
    finally:
        if box is not None:
            box.__exit__(None, None, None)
    try:
        results = apply_from_scratch_rule(results, submission.module_source)
    except Exception:  # noqa: BLE001 - a grader bug: the report says so, the student is not charged
        log.exception("grader fault in the from-scratch rule")
        faults.append("the from-scratch rule")
    succeeded = not faults
    message = ""
    if faults:
        message = f"The grader failed on {', '.join(faults)}; the score is not a grade. Staff have the traceback."
    elif unavailable is not None:
        message = unavailable[0]
    report = Report(
        score=round(sum(r.score for r in results), 6),
        max_score=round(sum(r.max_score for r in results), 6),
        gradable=True,
        succeeded=succeeded,
        duration_s=round(time.perf_counter() - start, 3),
        questions=totals(results),
        checks=results,
        environment=build_environment(used_device, seed, data_profile, specs, isolation),
        submission=submission_notes(submission),
        message=message,
        log=truncate(log_text, settings.log_bytes),
    )
    return sanitize(report)
