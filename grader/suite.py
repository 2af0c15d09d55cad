"""The suite hash: which checks, worth what, with which grader source, graded a submission."""

import hashlib
from collections.abc import Iterable
from pathlib import Path

from grader.checks.registry import CheckSpec

GRADER_DIR = Path(__file__).parent
RUBRIC = GRADER_DIR.parent / "reference" / "rubric.toml"


def grader_source_files() -> list[Path]:
    """Every ``.py`` file of the grader package (the harness included), in a stable order."""
    return sorted(path for path in GRADER_DIR.rglob("*.py") if "__pycache__" not in path.parts)


def suite_sha256(specs: Iterable[CheckSpec]) -> str:
    """SHA-256 over the checks' (id, question, category, points, hidden), the grader's source files and the rubric.

    Two reports with the same ``suite_sha256`` were graded by the same checks with the same weights and
    the same code; a TA changing one weight or one line of a check changes it.
    """
    digest = hashlib.sha256()
    for spec in sorted(specs, key=lambda s: s.id):
        digest.update(f"check {spec.id} {spec.question} {spec.category} {spec.points!r} {spec.hidden}\n".encode())
    for path in grader_source_files():
        digest.update(f"file {path.relative_to(GRADER_DIR).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    if RUBRIC.is_file():
        digest.update(b"file reference/rubric.toml\n" + hashlib.sha256(RUBRIC.read_bytes()).digest())
    return digest.hexdigest()
