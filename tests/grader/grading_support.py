"""Graded reports shared by the grader-level tests: each submission is graded at most once per session.

Grading the reference end to end (accuracy included) takes tens of seconds, so the tests that need
its report share one, cached here (pytest fixtures in test modules would be per module).
"""

from functools import lru_cache
from pathlib import Path

from grader.api import grade_files
from grader.report import Report

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = (ROOT / "student_template" / "vit.py", ROOT / "student_template" / "answers.md")


@lru_cache(maxsize=1)
def reference_files() -> tuple[Path, ...]:
    """The reference as a student hands it in: the bundled module and reference/answers.md."""
    import tempfile

    from reference.bundle import bundle_submission

    folder = Path(tempfile.mkdtemp(prefix="vitgrade-reference-"))
    module = folder / "vit.py"
    module.write_text(bundle_submission())
    return module, ROOT / "reference" / "answers.md"


@lru_cache(maxsize=8)
def graded(which: str, select: tuple[str, ...] = ()) -> Report:
    """The report of ``reference`` or ``template`` on the bundled profile, on the CPU, seed 0."""
    files = reference_files() if which == "reference" else TEMPLATE
    return grade_files(list(files), device="cpu", data_profile="bundled", seed=0, select=list(select))


def not_full(report: Report) -> list[str]:
    """The checks that did not get full marks, with their status and message, for assertion messages."""
    return [
        f"{c.id}: {c.status} {c.score}/{c.max_score} {c.message[:300]}" for c in report.checks if c.score < c.max_score
    ]
