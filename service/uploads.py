"""Upload checks that are cheap at upload time: count, sizes, extension, empty files, zip names and caps.

The caps and the zip rules are the grader's (``grader.intake.limits``, ``grader.intake.archive``), so
the service and the grader refuse the same things; deeper checks (decoding, notebooks, finding the
module) are left to the grader, which reports them in the grade.
"""

from dataclasses import dataclass
from pathlib import PurePosixPath

from grader.intake import limits
from grader.intake.archive import read_zip
from grader.intake.models import FileKind, IntakeError
from grader.intake.text import kind_of

ALLOWED_SUFFIXES = tuple(f".{kind.value}" for kind in FileKind)
MAX_NAME_BYTES = 200
"""A file name in UTF-8 bytes: well under NAME_MAX (255 bytes on ext4, xfs and tmpfs), where the worker writes it."""


class UploadRejected(Exception):
    """An upload the service refuses; ``status_code`` is the HTTP answer (413, 415, 422)."""

    def __init__(self, status_code: int, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True)
class UploadedFile:
    name: str
    data: bytes


def safe_name(name: str | None) -> str:
    """The base name of an uploaded file (never a path), checked for length and control characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base or base in (".", ".."):
        raise UploadRejected(422, f"A file has no usable name ({name!r}).")
    if len(base) > limits.MAX_NAME_LENGTH:
        raise UploadRejected(422, f"File name too long: {len(base)} characters (max {limits.MAX_NAME_LENGTH}).")
    try:
        size = len(base.encode("utf-8"))
    except UnicodeEncodeError:
        raise UploadRejected(422, f"File name {base!r} is not valid Unicode text.") from None
    if size > MAX_NAME_BYTES:
        raise UploadRejected(
            422,
            f"File name too long: {size} bytes in UTF-8 ({len(base)} characters; max {MAX_NAME_BYTES} bytes). "
            "Rename the file, e.g. vit.py or answers.md, and submit it again.",
        )
    if any(ord(c) < 32 or c == "\x7f" for c in base):
        raise UploadRejected(422, f"File name {base!r} contains control characters.")
    return base


def work_name(name: str, index: int) -> str:
    """The name a stored file gets in the grader's work folder: the uploaded name when it passes ``safe_name``
    unchanged, else a generated ``upload-<index><suffix>`` (rows stored before a rule existed still grade)."""
    try:
        if safe_name(name) == name:
            return name
    except UploadRejected:
        pass
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    return f"upload-{index}{suffix if suffix in ALLOWED_SUFFIXES else ''}"


def check_count(count: int, max_files: int) -> None:
    if count == 0:
        raise UploadRejected(422, "No files: send one or more .py, .ipynb, .md or .zip files in the field 'files'.")
    if count > max_files:
        raise UploadRejected(413, f"Too many files: {count} (max {max_files} per submission).")


def check_file(upload: UploadedFile, *, max_file_bytes: int) -> None:
    """Raise ``UploadRejected`` when one file breaks a rule (type 415, size 413, empty or bad zip 422)."""
    kind = kind_of(upload.name)
    if kind is None:
        suffix = upload.name.rsplit(".", 1)[-1] if "." in upload.name else "(none)"
        raise UploadRejected(
            415, f"{upload.name}: unsupported file type {suffix!r}; send {', '.join(ALLOWED_SUFFIXES)} files."
        )
    if len(upload.data) > max_file_bytes:
        raise UploadRejected(
            413,
            f"{upload.name} is too large: {limits.format_bytes(len(upload.data))} "
            f"(max {limits.format_bytes(max_file_bytes)} per file).",
        )
    if not upload.data.strip():
        raise UploadRejected(422, f"{upload.name} is empty. Save your work into it and submit it again.")
    if kind is FileKind.zip:
        try:
            read_zip(upload.name, upload.data)
        except IntakeError as error:
            raise UploadRejected(422, error.message) from None
    elif b"\x00" in upload.data:
        raise UploadRejected(415, f"{upload.name} is a binary file (it contains NUL bytes); send a text file.")


def check_total(total: int, max_request_bytes: int) -> None:
    if total > max_request_bytes:
        raise UploadRejected(
            413,
            f"Upload too large: {limits.format_bytes(total)} in all "
            f"(max {limits.format_bytes(max_request_bytes)} per submission).",
        )
