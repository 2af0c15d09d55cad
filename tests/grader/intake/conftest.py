"""Fixtures for intake tests: files and notebooks written into a temporary folder."""

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from intake_builders import FIXTURES


@pytest.fixture
def fixture_file(tmp_path: Path) -> Callable[[str, str], Path]:
    """Copy a fixture under the name a student would give it (fixtures that ruff would lint carry a .txt/.json)."""

    def copy(fixture: str, name: str) -> Path:
        path = tmp_path / name
        path.write_bytes((FIXTURES / fixture).read_bytes())
        return path

    return copy


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write text or bytes to ``tmp_path/name`` and return the path."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write


@pytest.fixture
def write_notebook(write_file) -> Callable[..., Path]:
    """A format 4.5 notebook from ("code" | "markdown", source) pairs."""

    def write(cells: list[tuple[str, str]], name: str = "vit_lab.ipynb") -> Path:
        notebook = nbformat.v4.new_notebook()
        for index, (kind, source) in enumerate(cells):
            make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
            notebook.cells.append(make(source=source, id=f"c{index}"))
        return write_file(name, nbformat.writes(notebook))

    return write
