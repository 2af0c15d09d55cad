"""Zip archives, read in memory and never extracted: caps on entries and sizes, names checked, links refused."""

import io
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass

from grader.intake import limits
from grader.intake.limits import format_bytes
from grader.intake.models import FileKind, IntakeError
from grader.intake.text import kind_of

_DRIVE = re.compile(r"^[A-Za-z]:")
_IGNORED_DIRS = {"__MACOSX", "__pycache__"}
# What zipfile raises on a damaged archive: bad headers, bad CRC, unsupported methods, odd offsets.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OSError,
)


@dataclass(frozen=True)
class Member:
    """A zip member the grader reads: its path inside the archive, its kind and its bytes."""

    path: str
    kind: FileKind
    data: bytes


def read_zip(name: str, data: bytes) -> tuple[list[Member], list[str]]:
    """The archive's .py, .ipynb and .md members, and warnings for what was skipped.

    Raises ``IntakeError`` for a broken or encrypted archive, too many entries, members too large
    or compressed too well (a zip bomb), absolute paths, ``..`` components and symbolic links.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as error:
        raise IntakeError(f"{name} is not a valid zip archive ({error}). Create it again and submit it.") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.MAX_ZIP_ENTRIES:
            raise IntakeError(
                f"{name} has {len(infos)} entries; the limit is {limits.MAX_ZIP_ENTRIES}. "
                "Zip only your module and answers.md."
            )
        declared = sum(info.file_size for info in infos)
        if declared > limits.MAX_ZIP_TOTAL_BYTES:
            raise IntakeError(
                f"{name} holds {format_bytes(declared)} once uncompressed; the limit is "
                f"{format_bytes(limits.MAX_ZIP_TOTAL_BYTES)}. Zip only your module and answers.md."
            )
        members: list[Member] = []
        warnings: list[str] = []
        for info in infos:
            _check_entry(name, info)
            parts = re.split(r"[\\/]", info.filename.rstrip("/\\"))
            if info.is_dir() or info.filename.endswith("\\"):
                continue
            if parts[0] in _IGNORED_DIRS or any(part in _IGNORED_DIRS or part.startswith(".") for part in parts):
                continue
            kind = kind_of(info.filename)
            if kind is None or kind is FileKind.zip:
                what = (
                    "a zip inside a zip is not opened" if kind is FileKind.zip else "only .py, .ipynb and .md are read"
                )
                warnings.append(f"{name}: {info.filename} ignored ({what}).")
                continue
            members.append(Member("/".join(parts), kind, _read_member(name, archive, info)))
    return members, warnings


def _check_entry(name: str, info: zipfile.ZipInfo) -> None:
    """Refuse entries that could escape a directory, point elsewhere, or expand without bound."""
    path = info.filename
    where = f"{name}: entry {path!r}"
    if len(path) > limits.MAX_NAME_LENGTH:
        raise IntakeError(f"{where[:80]}... has a name longer than {limits.MAX_NAME_LENGTH} characters.")
    if path.startswith(("/", "\\")) or _DRIVE.match(path):
        raise IntakeError(f"{where} has an absolute path; zip entries must be relative (e.g. 'vit.py').")
    if ".." in re.split(r"[\\/]", path):
        raise IntakeError(f"{where} contains '..'; zip entries may not point outside the archive.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise IntakeError(f"{where} is a symbolic link; zip the file itself, not a link to it.")
    if info.flag_bits & 0x1:
        raise IntakeError(f"{where} is encrypted; submit a zip without a password.")
    if info.file_size > limits.MAX_ZIP_ENTRY_BYTES:
        raise IntakeError(
            f"{where} is {format_bytes(info.file_size)} once uncompressed; "
            f"the limit is {format_bytes(limits.MAX_ZIP_ENTRY_BYTES)} per file."
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size >= limits.RATIO_CHECK_MIN_BYTES and ratio > limits.MAX_COMPRESSION_RATIO:
        raise IntakeError(
            f"{where} expands {ratio:.0f} times (limit {limits.MAX_COMPRESSION_RATIO}); "
            "the archive looks like a zip bomb and is refused."
        )


def _read_member(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The member's bytes, read with a hard cap whatever its header claims."""
    try:
        with archive.open(info) as stream:
            data = stream.read(limits.MAX_ZIP_ENTRY_BYTES + 1)
    except _ZIP_ERRORS as error:
        raise IntakeError(f"{name}: entry {info.filename!r} cannot be read ({error}).") from None
    if len(data) > limits.MAX_ZIP_ENTRY_BYTES:
        raise IntakeError(f"{name}: entry {info.filename!r} is larger than {format_bytes(limits.MAX_ZIP_ENTRY_BYTES)}.")
    return data
