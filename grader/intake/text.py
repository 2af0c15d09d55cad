"""Turning a file's bytes into text, with messages a student understands when that is not possible."""

from pathlib import PurePosixPath

from grader.intake.models import FileKind, IntakeError

_BOM = b"\xef\xbb\xbf"


def kind_of(name: str) -> FileKind | None:
    """The kind of a file from its extension (case-insensitive), or None for anything else."""
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    return FileKind(suffix) if suffix in FileKind.__members__ else None


def decode_text(name: str, data: bytes) -> str:
    """UTF-8 text of a .py, .ipynb or .md file (a leading BOM is dropped); newlines normalised to '\\n'."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if not data.strip():
        raise IntakeError(f"{name} is empty. Save your work into it and submit it again.")
    if b"\x00" in data:
        raise IntakeError(
            f"{name} is a binary file (it contains NUL bytes), not text. "
            f"Submit the {kind_of(name) or 'text'} file itself, saved as UTF-8 text."
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise IntakeError(
            f"{name} is not UTF-8 text: byte 0x{data[error.start]:02x} on line {line} cannot be decoded. "
            "Save the file with the UTF-8 encoding (most editors offer 'Save with encoding') and submit it again."
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")
