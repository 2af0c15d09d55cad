"""Report writers: the same ``Report`` as JSON, Gradescope ``results.json``, JUnit XML or a text table."""

from collections.abc import Callable

from grader.formats.gradescope import to_gradescope
from grader.formats.json import to_json
from grader.formats.junit import to_junit
from grader.formats.text import to_text
from grader.report import Report

FORMATS: dict[str, Callable[[Report], str]] = {
    "json": to_json,
    "gradescope": to_gradescope,
    "junit": to_junit,
    "text": to_text,
}


def render(report: Report, fmt: str, *, student_view: bool = False) -> str:
    """``report`` in format ``fmt``; ``student_view`` drops staff tracebacks and hidden checks' details.

    Gradescope output is always the student view: Gradescope shows it to the student.
    """
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}; expected one of {sorted(FORMATS)}.")
    if student_view or fmt == "gradescope":
        report = report.student_view()
    return FORMATS[fmt](report)


__all__ = ["FORMATS", "render", "to_gradescope", "to_json", "to_junit", "to_text"]
