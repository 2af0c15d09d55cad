"""Jupyter notebooks (format 4): code cells give the module, markdown cells the written answers.

Outputs, attachments and execution counts are dropped before anything else looks at the notebook:
they are never shown, rendered or run.
"""

import json
import warnings
from dataclasses import dataclass, field

import nbformat
from nbformat.validator import NotebookValidationError

from grader.intake.models import DroppedLine, IntakeError
from grader.intake.module import CellFilter, parse_quietly

SUPPORTED_NBFORMAT = 4


@dataclass
class NotebookContent:
    """What a notebook gives: its module (code cells), its markdown, and intake notes."""

    module_source: str | None
    markdown: str
    dropped: list[DroppedLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_notebook(name: str, text: str, *, with_code: bool = True) -> NotebookContent:
    """Parse and validate a notebook, then split it into the module (unless not ``with_code``) and the markdown."""
    cells = _validated_cells(name, _load_json(name, text))
    code = CellFilter(name)
    markdown: list[str] = []
    for index, cell in enumerate(cells):
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] == "code" and with_code and source.strip():
            code.add_cell(index, source)
        elif cell["cell_type"] == "markdown":
            markdown.append(source)
    notes = []
    if code.unlisted:
        notes.append(f"{name}: {code.unlisted} more dropped statements are not listed.")
    module_source = code.module_source()
    if module_source is None and with_code:
        notes.append(f"{name} has no code to grade (no imports, functions, classes or constants in its code cells).")
    return NotebookContent(module_source, "\n\n".join(markdown), code.dropped, notes)


def _load_json(name: str, text: str) -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        hint = "Open it in Jupyter, save it, and submit the saved file."
        if _is_python(text):
            hint = "It looks like Python source: submit it as a .py file (e.g. vit.py)."
        raise IntakeError(
            f"{name} is not a valid notebook: its JSON is broken on line {error.lineno}, column {error.colno} "
            f"({error.msg}). {hint}"
        ) from None
    except RecursionError:
        raise IntakeError(f"{name} is not a valid notebook: its JSON is nested too deeply.") from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise IntakeError(f"{name} is JSON but not a Jupyter notebook (it has no 'cells').")
    version = data.get("nbformat")
    if version != SUPPORTED_NBFORMAT:
        raise IntakeError(
            f"{name} is a notebook of format {version!r}; the grader reads format {SUPPORTED_NBFORMAT}. "
            "Open it in a recent Jupyter (or VS Code), save it, and submit the saved file."
        )
    return data


def looks_like_notebook(text: str) -> bool:
    """True for the JSON of a notebook (e.g. a notebook saved under a .py name)."""
    if not text.lstrip().startswith("{"):
        return False
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return False
    return isinstance(data, dict) and "nbformat" in data and ("cells" in data or "worksheets" in data)


def _is_python(text: str) -> bool:
    try:
        parse_quietly(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _validated_cells(name: str, data: dict) -> list[dict]:
    """The notebook's cells, without outputs or attachments, after nbformat's schema validation."""
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise IntakeError(f"{name} is not a valid notebook: 'cells' is not a list.")
    for index, cell in enumerate(cells):
        _check_cell(name, index, cell)
        cell.pop("attachments", None)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbformat warns about missing cell ids; they do not matter here.
        try:
            nbformat.validate(nbformat.from_dict(data))
        except NotebookValidationError as error:
            where = "/".join(str(part) for part in error.absolute_path) or "top level"
            raise IntakeError(
                f"{name} is not a valid Jupyter notebook: {error.message} (at {where}). "
                "Open it in Jupyter, save it, and submit the saved file."
            ) from None
        except RecursionError:
            raise IntakeError(f"{name} is not a valid notebook: its metadata is nested too deeply.") from None
        except Exception as error:  # noqa: BLE001 - nbformat itself trips (TypeError, AssertionError) on odd shapes
            raise IntakeError(
                f"{name} is not a valid Jupyter notebook ({type(error).__name__} in its structure). "
                "Open it in Jupyter, save it, and submit the saved file."
            ) from None
    return cells


def _check_cell(name: str, index: int, cell: object) -> None:
    """The parts of a cell that intake reads: a dict with a known cell_type and a text source."""
    where = f"{name} is not a valid Jupyter notebook: cell {index}"
    if not isinstance(cell, dict):
        raise IntakeError(f"{where} is not an object.")
    if cell.get("cell_type") not in ("code", "markdown", "raw"):
        raise IntakeError(f"{where} has the cell_type {cell.get('cell_type')!r} (expected code, markdown or raw).")
    source = cell.get("source")
    if not (isinstance(source, str) or isinstance(source, list) and all(isinstance(line, str) for line in source)):
        raise IntakeError(f"{where} has a source that is not text.")
