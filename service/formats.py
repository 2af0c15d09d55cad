"""Reports as students see them: JSON (``Report.student_view``), Gradescope and JUnit (``grader.formats``)."""

from typing import Any

from grader.formats import render
from grader.report import Report


def render_report(report: Report, fmt: str) -> Any:
    """The student view of ``report``: a JSON-able dict for ``json``, text for ``gradescope`` and ``junit``."""
    view = report.student_view()
    if fmt == "json":
        return view.model_dump(mode="json")
    return render(view, fmt, student_view=True)
