"""Whose fault is a failure: the student's code, or the grader's environment.

A failure is the grader's (the report says ``succeeded=False``, the CLI exits 2, the service retries the
job and then marks it ``error`` with no score) when:

- the sandbox cannot start (no isolation level works, the fork server fails, or the harness does not say
  hello within ``start_timeout_s`` counted from when the fork server is ready): no student code has run;
- an exception from an environment problem (``ImportError``, ``OSError`` and their subclasses) has no
  frame in the student's module: a module the harness or torch imports lazily is missing or unreadable,
  the sandbox's filesystem view is broken (a virtual environment reached through a symlink, say);
- the grader's own work times out (the reference's Q7 baseline, say).

Everything else stays the student's: an exception with a frame in the student's module (their own
``import einops`` included), a ``TypeError`` from calling their class with the contract's keyword
arguments, a ``RuntimeError`` from torch on their shapes, a ``SyntaxError``. Student code runs in the
same process as the harness, so it can fake an environment fault (empty ``sys.modules`` entries, say):
that makes its own grade an ``error`` with no score that staff look at, never points.
"""

import re

ENVIRONMENT_ERRORS = {
    "ImportError",
    "ModuleNotFoundError",
    "OSError",
    "IOError",
    "FileNotFoundError",
    "PermissionError",
    "IsADirectoryError",
    "NotADirectoryError",
    "BlockingIOError",
}
# The harness's tracebacks list only the submission's frames, as 'File "submission.py", line N, in f'.
STUDENT_FRAME = re.compile(r'^\s*File "[^"]*", line \d+', re.MULTILINE)
EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?([A-Za-z_]\w*)(?::|$)")


def exception_type(line: str) -> str:
    """The exception's class name from a line like 'ModuleNotFoundError: ...'; "" when it names none."""
    match = EXCEPTION_LINE.match((line or "").strip())
    return match.group(1) if match else ""


def has_student_frame(traceback: str) -> bool:
    """Whether the (submission-frames-only) traceback shows any frame of the student's module."""
    return bool(STUDENT_FRAME.search(traceback or ""))


def is_environment_fault(message: str, traceback: str) -> bool:
    """An environment error (import, filesystem) raised with no frame of the student's code: the grader's."""
    if has_student_frame(traceback):
        return False
    last = (traceback or "").strip().splitlines()[-1:] or [""]
    return exception_type(message) in ENVIRONMENT_ERRORS or exception_type(last[0]) in ENVIRONMENT_ERRORS
