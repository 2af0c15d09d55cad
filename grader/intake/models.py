"""What intake makes of a submission: the module to grade, the written answers, and notes on every file."""

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class IntakeError(Exception):
    """The submission cannot be graded at all; ``message`` tells the student why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class FileKind(StrEnum):
    py = "py"
    ipynb = "ipynb"
    md = "md"
    zip = "zip"


class FileNote(BaseModel):
    """One file that intake read: an upload, or a member of an uploaded zip (named ``archive.zip/member``)."""

    name: str = Field(description="File name as uploaded; zip members as 'archive.zip/path/in/zip'.")
    kind: FileKind = Field(description="py, ipynb, md or zip.")
    size: int = Field(description="Size in bytes (uncompressed for zip members).")
    sha256: str = Field(description="Hex SHA-256 of the file's bytes.")


class DroppedLine(BaseModel):
    """A notebook statement that is not part of the graded module (a magic, a training loop, a print...)."""

    cell: int = Field(description="0-based index of the cell among all the notebook's cells.")
    line: int = Field(description="1-based line number inside the cell.")
    text: str = Field(description="The first line of the dropped statement.")
    reason: str = Field(description="Why it was dropped, e.g. 'IPython magic', 'top-level statement'.")


class Submission(BaseModel):
    """A gradable submission: the student's module (if any) and written answers, with intake notes."""

    module_source: str | None = Field(description="The student's module; None when only answers were given.")
    module_file: str | None = Field(default=None, description="The file the module came from.")
    answers: dict[str, str] = Field(
        default_factory=dict, description="'Q3' -> answer text, in question order; only non-empty sections."
    )
    files: list[FileNote] = Field(default_factory=list, description="Every file read, with its size and hash.")
    dropped: list[DroppedLine] = Field(
        default_factory=list, description="Notebook statements left out of the module (never run by the grader)."
    )
    warnings: list[str] = Field(default_factory=list, description="Things the student should know, none fatal.")

    def report_notes(self) -> dict[str, Any]:
        """The intake notes for ``Report.submission``: files, module, answers found, dropped lines, warnings."""
        return {
            "files": [note.model_dump(mode="json") for note in self.files],
            "module_file": self.module_file,
            "answers_found": list(self.answers),
            "dropped": [item.model_dump(mode="json") for item in self.dropped],
            "warnings": list(self.warnings),
        }
