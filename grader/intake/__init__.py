"""Submission intake: ``.py``, ``.ipynb``, ``.md`` and ``.zip`` files -> one ``Submission`` (module + answers)."""

from grader.intake.models import DroppedLine, FileKind, FileNote
from grader.intake.submission import IntakeError, Submission, load_submission

__all__ = ["DroppedLine", "FileKind", "FileNote", "IntakeError", "Submission", "load_submission"]
