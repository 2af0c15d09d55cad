"""``load_submission``: the files a student hands in -> one ``Submission`` (module + answers), or an ``IntakeError``.

A submission is one or more of: a module (``.py``, or the code cells of an ``.ipynb``), written
answers (``.md``, or the markdown cells of the notebook), and ``.zip`` archives whose members are
taken as if uploaded. One module is graded: ``vit.py`` when there are several, else the only one.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.intake import limits
from grader.intake.answers import ANSWER_KEYS, parse_answers
from grader.intake.archive import read_zip
from grader.intake.limits import format_bytes
from grader.intake.models import DroppedLine, FileKind, FileNote, IntakeError, Submission
from grader.intake.module import module_warnings, parse_source
from grader.intake.notebook import looks_like_notebook, read_notebook
from grader.intake.text import decode_text, kind_of

__all__ = ["IntakeError", "Submission", "load_submission"]

PREFERRED_MODULE = "vit.py"
PREFERRED_ANSWERS = "answers.md"


@dataclass(frozen=True)
class _Item:
    """One file to read: an upload or a zip member, by the name the student will recognise."""

    name: str
    kind: FileKind
    data: bytes

    @property
    def basename(self) -> str:
        return PurePosixPath(self.name).name.lower()


def load_submission(paths: Sequence[Path]) -> Submission:
    """Read the submitted files into a ``Submission``; raise ``IntakeError`` when nothing can be graded."""
    items, files, warnings = _collect(paths)
    module_item = _choose_module(items, warnings)
    module_source, dropped = None, []
    if module_item is not None:
        module_source, dropped = _read_module(module_item, warnings)
    answers = _read_answers(items, module_item, warnings)
    if module_source is None and not answers:
        raise IntakeError(
            "Nothing to grade: no module (vit.py or a notebook with code) and no written answers "
            f"(sections headed {', '.join('## ' + key for key in ANSWER_KEYS[:2])}, ...) were found."
        )
    return Submission(
        module_source=module_source,
        module_file=module_item.name if module_item is not None else None,
        answers=answers,
        files=files,
        dropped=dropped,
        warnings=warnings,
    )


def _collect(paths: Sequence[Path]) -> tuple[list[_Item], list[FileNote], list[str]]:
    """Every readable file of the submission, zip members included, with notes and warnings."""
    if not paths:
        raise IntakeError("No file was submitted. Submit vit.py or vit_lab.ipynb, and answers.md.")
    if len(paths) > limits.MAX_FILES:
        raise IntakeError(f"{len(paths)} files were submitted; the limit is {limits.MAX_FILES}.")
    items: list[_Item] = []
    files: list[FileNote] = []
    warnings: list[str] = []
    unknown: list[str] = []
    total = 0
    for path in paths:
        path = Path(path)
        data = _read_upload(path)
        total += len(data)
        if total > limits.MAX_TOTAL_BYTES:
            raise IntakeError(f"The submitted files exceed {format_bytes(limits.MAX_TOTAL_BYTES)} together.")
        kind = kind_of(path.name)
        if kind is None:
            unknown.append(path.name)
            continue
        files.append(_note(path.name, kind, data))
        if kind is not FileKind.zip:
            items.append(_as_read(_Item(path.name, kind, data), warnings))
            continue
        members, zip_warnings = read_zip(path.name, data)
        warnings.extend(zip_warnings)
        for member in members:
            item = _as_read(_Item(f"{path.name}/{member.path}", member.kind, member.data), warnings)
            items.append(item)
            files.append(_note(item.name, item.kind, item.data))
        if not members:
            warnings.append(f"{path.name} holds no .py, .ipynb or .md file.")
    for name in unknown:
        suffix = PurePosixPath(name).suffix or "files without an extension"
        message = f"{name}: the grader reads .py, .ipynb, .md and .zip files, not {suffix}."
        if not items:
            raise IntakeError(message + " Submit vit.py or vit_lab.ipynb, and answers.md.")
        warnings.append(message + " The file was ignored.")
    return items, files, warnings


def _as_read(item: _Item, warnings: list[str]) -> _Item:
    """A notebook saved under a .py name is read as the notebook it is."""
    if item.kind is FileKind.py and item.data.lstrip()[:1] == b"{":
        try:
            is_notebook = looks_like_notebook(item.data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return item
        if is_notebook:
            warnings.append(f"{item.name} holds a Jupyter notebook, not Python source: it was read as a notebook.")
            return _Item(item.name, FileKind.ipynb, item.data)
    return item


def _read_upload(path: Path) -> bytes:
    if not path.is_file():
        raise IntakeError(f"{path.name} is not a file that can be read.")
    with path.open("rb") as stream:
        data = stream.read(limits.MAX_FILE_BYTES + 1)
    if len(data) > limits.MAX_FILE_BYTES:
        raise IntakeError(_too_large(path.name, max(path.stat().st_size, len(data)), limits.MAX_FILE_BYTES))
    if not data:
        raise IntakeError(f"{path.name} is empty. Save your work into it and submit it again.")
    return data


def _too_large(name: str, size: int, limit: int) -> str:
    hint = (
        " Clear its outputs (Edit > Clear All Outputs), save, and submit it again." if name.endswith(".ipynb") else ""
    )
    return f"{name} is {format_bytes(size)}; the limit is {format_bytes(limit)} per file.{hint}"


def _note(name: str, kind: FileKind, data: bytes) -> FileNote:
    return FileNote(name=name, kind=kind, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def _choose_module(items: list[_Item], warnings: list[str]) -> _Item | None:
    """The one module to grade: the only .py/.ipynb, else the only file named vit.py (empty files do not count)."""
    candidates = [item for item in items if item.kind in (FileKind.py, FileKind.ipynb)]
    if any(item.data.strip() for item in candidates):
        candidates = [item for item in candidates if item.data.strip()]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    names = ", ".join(item.name for item in candidates)
    preferred = [item for item in candidates if item.basename == PREFERRED_MODULE]
    if len(preferred) != 1:
        raise IntakeError(
            f"{len(candidates)} modules were given ({names}) and the grader cannot tell which to grade. "
            f"Submit one module, or name the one to grade {PREFERRED_MODULE}."
        )
    warnings.append(f"{len(candidates)} modules given ({names}): used {preferred[0].name}.")
    return preferred[0]


def _read_module(item: _Item, warnings: list[str]) -> tuple[str | None, list[DroppedLine]]:
    text = decode_text(item.name, item.data)
    if item.kind is FileKind.py:
        tree = parse_source(text, item.name)
        warnings.extend(module_warnings(tree, item.name, text.splitlines()))
        return text, []
    content = read_notebook(item.name, text)
    warnings.extend(content.warnings)
    return content.module_source, content.dropped


def _read_answers(items: list[_Item], module_item: _Item | None, warnings: list[str]) -> dict[str, str]:
    """Answers from the .md files (answers.md first), then from notebooks' markdown; the first source wins."""
    markdown = sorted(
        (item for item in items if item.kind is FileKind.md),
        key=lambda item: (item.basename != PREFERRED_ANSWERS, item.name),
    )
    notebooks = [item for item in items if item.kind is FileKind.ipynb]
    notebooks.sort(key=lambda item: item is not module_item)
    found: dict[str, tuple[str, str]] = {}
    for item in [*markdown, *notebooks]:
        text = decode_text(item.name, item.data)
        if item.kind is FileKind.ipynb:
            text = read_notebook(item.name, text, with_code=False).markdown
        answers, parse_warnings = parse_answers(text, item.name)
        warnings.extend(parse_warnings)
        if item.kind is FileKind.md and not answers and not parse_warnings:
            warnings.append(f"{item.name} has no answered sections (headings ## Q3, ## Q6a, ... with text below).")
        for key, answer in answers.items():
            if key in found:
                warnings.append(f"{key} is answered in {found[key][0]} and in {item.name}: used {found[key][0]}.")
            else:
                found[key] = (item.name, answer)
    return {key: found[key][1] for key in ANSWER_KEYS if key in found}
