"""What a sandbox request can raise: the student's fault, a timeout, or a dead child.

None of these is a grader bug: the check runner turns them into failed / error outcomes.
"""

STUDENT_ERROR_KINDS = ("not_implemented", "state_dict", "exception", "missing_name", "bad_output")


class SandboxError(Exception):
    """Base class of everything the sandbox raises about the submission's behaviour."""


class StudentError(SandboxError):
    """The student's code raised, or returned something the protocol refuses.

    ``kind`` is one of ``STUDENT_ERROR_KINDS``; ``traceback`` is short and student-readable
    (only the submission's own frames).
    """

    def __init__(self, kind: str, message: str, traceback: str = ""):
        if kind not in STUDENT_ERROR_KINDS:
            kind = "exception"
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.traceback = traceback


class SandboxTimeout(SandboxError):
    """The child did not answer within the wall-clock limit (per request or per submission); it was killed."""

    def __init__(self, message: str, seconds: float):
        super().__init__(message)
        self.message = message
        self.seconds = seconds


class SandboxCrashed(SandboxError):
    """The child died (exit, signal, memory or CPU limit) or broke the protocol; it was killed.

    ``status`` is the exit code (>= 0) or minus the signal number (< 0), None when unknown.
    """

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message if status is None else f"{message} (exit status {status})")
        self.message = message
        self.status = status


class SandboxUnavailable(RuntimeError):
    """The sandbox could not start before any student code ran (no isolation level works, the fork server
    failed, or the harness did not say hello in time): a grader fault, never the student's.

    Deliberately not a ``SandboxError``: those are about the submission's behaviour.
    """
