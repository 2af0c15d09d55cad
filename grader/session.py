"""The sandboxes of one grade: one child for every visible check, then a fresh one for the hidden checks.

The hidden checks run after every visible check, in a child no visible check ever uses: whatever the
submission learns there (the hidden configurations it is built with) cannot reach a visible message,
and their output goes only to the instructor's log. A module that is missing or does not import makes
every module check fail with that reason, and the hidden child is then never started (its import would
fail or hang the same way). A sandbox that cannot start at all is a grader fault, never the student's.
"""

import time
from typing import Any

from grader import faults
from grader.guard import GuardedSandbox, GuardState
from grader.intake.models import Submission
from grader.sandbox.errors import SandboxCrashed, SandboxTimeout, SandboxUnavailable, StudentError
from grader.settings import GraderSettings

IMPORT_HINT = "Run `python vit.py` (or restart your notebook and run all cells) and fix the first error."


def describe_import_error(error: Any) -> str:
    """The sandbox's import error (a string or an exception) as one student-readable text."""
    from grader.outcomes import short_traceback

    if error is None:
        return ""
    message = getattr(error, "message", None) or str(error)
    trace = short_traceback(getattr(error, "traceback", "") or "")
    return f"{message}\n{trace}" if trace else message


class SandboxSession:
    """Starts the children lazily, keeps their logs for the instructor, and closes them all."""

    def __init__(self, submission: Submission, device: str, seed: int, settings: GraderSettings, state: GuardState):
        self.submission, self.device, self.seed, self.settings = submission, device, seed, settings
        self.state = state
        self.unavailable: tuple[str, str] | None = None  # (message, hint): the student's module cannot run
        self.fault: str | None = None  # the grader could not start a sandbox: not the student's fault
        self.isolation: list[str] = []
        self._logs: list[str] = []
        self._boxes: dict[bool, GuardedSandbox] = {}
        self._open: list[Any] = []

    def sandbox(self, hidden: bool, budget_s: float) -> GuardedSandbox | None:
        """The child for visible (``hidden=False``) or hidden checks, started on first use; None when
        ``unavailable`` or ``fault`` says why the module checks cannot run."""
        if hidden and False in self._boxes:
            self._retire(self._boxes[False])  # no visible check runs after a hidden one
        if hidden in self._boxes:
            return self._boxes[hidden]
        if self.unavailable is not None or self.fault is not None:
            return None
        box = self._start(budget_s)
        if box is None:
            return None
        guarded = GuardedSandbox(box, self.state)
        self._boxes[hidden] = guarded
        return guarded

    def _start(self, budget_s: float) -> Any:
        from grader.sandbox import Sandbox  # imported late: the written-only path never needs it

        if self.submission.module_source is None:
            self.unavailable = (
                "no Python module was found in the submission, so the code checks could not run",
                "Submit your vit.py (or the notebook) together with answers.md.",
            )
            return None
        limits = self.settings.limits
        limits = limits.model_copy(update={"total_timeout_s": min(limits.total_timeout_s, budget_s)})
        box = Sandbox(
            self.submission.module_source,
            device=self.device,
            limits=limits,
            seed=self.seed,
            **self.settings.sandbox_placement(),
        )
        self._open.append(box)
        began = time.monotonic()
        try:
            box.start()
        except SandboxUnavailable as error:
            self.fault = f"it could not start the sandbox that runs your code: {error}"
            return None
        except StudentError as error:
            self.unavailable = (f"your module failed to import: {describe_import_error(error)}", IMPORT_HINT)
        except SandboxTimeout as error:
            took = f"importing your module took longer than {error.seconds:g}s and was stopped"
            self.unavailable = (took, IMPORT_HINT)
        except SandboxCrashed as error:
            self.unavailable = (f"your process died while importing your module: {error}", IMPORT_HINT)
        finally:
            self.state.charge(box.timings.get("import_s", time.monotonic() - began))
        if self.unavailable is None and box.import_error:
            why = box.import_error
            if faults.is_environment_fault(why, why):
                self.fault = f"the sandbox could not load your module for a reason that is not yours: {why}"
            else:
                self.unavailable = (f"your module failed to import: {describe_import_error(why)}", IMPORT_HINT)
        if self.unavailable is not None or self.fault is not None:
            return None
        # "uid:60446" -> "uid": which pooled uid ran the child is not part of a reproducible report
        self.isolation = self.isolation or [str(item).split(":", 1)[0] for item in (box.isolation or [])]
        return box

    def _retire(self, guarded: GuardedSandbox) -> None:
        box = guarded._box
        if box in self._open:
            self._collect(box)
            self._open.remove(box)

    def _collect(self, box: Any) -> None:
        box.close()
        text = str(getattr(box, "log", "") or "")
        if text:
            self._logs.append(text)

    def close(self) -> None:
        """Close every child; their output stays in ``log``."""
        while self._open:
            self._collect(self._open.pop(0))

    @property
    def log(self) -> str:
        """What the children printed (the visible checks' child first): for the instructor only."""
        return "".join(self._logs)
