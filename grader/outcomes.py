"""What a check did -> what the report says (issue 3 item 3): the runner's one mapping of outcomes.

``None`` is full credit, ``Outcome`` partial credit, ``CheckFailed`` zero with a message,
``Skip`` skipped (worth nothing either way), ``ComponentTimedOut`` error without waiting (a component it
needs already timed out; its points are lost), ``StudentError`` failed ("not implemented yet", a wrong
state_dict, a missing name, a bad output) or error (the student's code raised: a short traceback for
the student, the full one for staff; an environment error with no frame in the student's code is a
grader fault, see ``grader.faults``), ``SandboxTimeout`` / ``SandboxCrashed`` error, and anything
else a grader fault: the check is ``error`` and the report ``succeeded=False`` (the last-resort
handler of PrairieLearn's grader).
"""

import logging
import traceback
from typing import Any

from grader import faults
from grader.checks.context import CheckContext
from grader.checks.registry import CheckFailed, CheckSpec, Outcome, Skip
from grader.guard import ComponentTimedOut
from grader.report import CheckResult, CheckStatus
from grader.sandbox.errors import SandboxCrashed, SandboxTimeout, StudentError

log = logging.getLogger(__name__)

SHORT_TRACEBACK_LINES = 12
# StudentError kinds that mean "the submission is wrong" rather than "the submission crashed".
FAILED_KINDS = {"state_dict", "missing_name", "bad_output"}


def short_traceback(text: str) -> str:
    """The last lines of a student traceback: enough to find the line, short enough to read."""
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    if len(lines) > SHORT_TRACEBACK_LINES:
        lines = ["...", *lines[-SHORT_TRACEBACK_LINES:]]
    return "\n".join(lines)


def result_of(spec: CheckSpec, status: CheckStatus, fraction: float = 0.0, **fields: Any) -> CheckResult:
    """A ``CheckResult`` for ``spec``; a skipped check is worth nothing either way (max_score 0)."""
    fraction = min(1.0, max(0.0, fraction))
    max_score = 0.0 if status is CheckStatus.skipped else float(spec.points)
    return CheckResult(
        id=spec.id,
        question=spec.question,
        category=spec.category,
        status=status,
        score=round(fraction * max_score, 6),
        max_score=max_score,
        hidden=spec.hidden,
        **fields,
    )


def run_check(spec: CheckSpec, ctx: CheckContext) -> tuple[CheckResult, bool]:
    """Run one check and classify what happened; the bool is False when the grader itself failed."""
    try:
        outcome = spec.func(ctx)
    except CheckFailed as failure:
        return result_of(
            spec, CheckStatus.failed, message=failure.message, hint=failure.hint, details=failure.details
        ), True
    except Skip as skip:
        return result_of(spec, CheckStatus.skipped, message=str(skip) or "skipped"), True
    except ComponentTimedOut as skip:
        hint = "Fix the endless loop or the very slow code there first; the checks that need it were not run."
        return result_of(spec, CheckStatus.error, message=skip.message, hint=hint), True
    except StudentError as error:
        if error.kind == "exception" and faults.is_environment_fault(error.message, error.traceback):
            log.error("grader fault in check %s: %s", spec.id, error.message)
            trace = f"{error.message}\n{error.traceback}"
            return fault_result(spec, f"its sandbox's environment failed ({error.message[:300]})", trace), False
        return student_error_result(spec, error), True
    except SandboxTimeout as error:
        message = f"your code took longer than {error.seconds:g}s and was stopped ({error.message})"
        return result_of(
            spec,
            CheckStatus.error,
            message=message,
            hint="Look for an infinite loop or a very slow operation in the code this check runs.",
        ), True
    except SandboxCrashed as error:
        message = f"your process died: {error}"
        hint = "It exited, was killed by a signal, or ran out of memory; sys.exit()/os._exit() count as a crash."
        return result_of(spec, CheckStatus.error, message=message, hint=hint), True
    except Exception as error:  # noqa: BLE001 - the last-resort handler: a grader bug, reported honestly
        log.exception("grader fault in check %s", spec.id)
        message = f"The grader failed on this check ({type(error).__name__}); this is not your fault."
        return result_of(spec, CheckStatus.error, message=message, staff_traceback=traceback.format_exc()), False
    if outcome is None:
        return result_of(spec, CheckStatus.passed, 1.0), True
    if not isinstance(outcome, Outcome):
        raise TypeError(f"Check {spec.id} returned {type(outcome).__name__}; expected None or Outcome.")
    status = CheckStatus.passed if outcome.fraction >= 1.0 - 1e-9 else CheckStatus.failed
    return result_of(
        spec, status, outcome.fraction, message=outcome.message, hint=outcome.hint, details=dict(outcome.details)
    ), True


def student_error_result(spec: CheckSpec, error: StudentError) -> CheckResult:
    """``not_implemented`` and wrong-shape answers are failures; an exception in the student's code is an error."""
    if error.kind == "not_implemented":
        return result_of(
            spec,
            CheckStatus.failed,
            message=f"not implemented yet: {error.message}",
            hint="Replace the `raise NotImplementedError` with your implementation.",
        )
    short = short_traceback(error.traceback)
    message = error.message if not short else f"{error.message}\n{short}"
    if error.kind in FAILED_KINDS:
        hints = {
            "state_dict": "Use the attribute names and shapes of the student API (docs: Student API contract).",
            "missing_name": "Define every name of the student API at the top level of your module.",
            "bad_output": "Return a plain torch.Tensor of the documented shape.",
        }
        return result_of(
            spec, CheckStatus.failed, message=message, hint=hints[error.kind], staff_traceback=error.traceback or None
        )
    return result_of(
        spec,
        CheckStatus.error,
        message=f"your code raised {message}",
        hint="Run this part of your module on a small input to reproduce the error.",
        staff_traceback=error.traceback or None,
    )


def unavailable_result(spec: CheckSpec, message: str, hint: str) -> CheckResult:
    """A module check that cannot run because there is no importable module: a failure, not an error."""
    return result_of(spec, CheckStatus.failed, message=message, hint=hint)


def fault_result(spec: CheckSpec, why: str, staff_traceback: str | None = None) -> CheckResult:
    """A check the grader could not run for a reason that is not the student's: error, with an honest message."""
    return result_of(
        spec,
        CheckStatus.error,
        message=f"The grader failed on this check: {why}. This is not your fault.",
        staff_traceback=staff_traceback,
    )
