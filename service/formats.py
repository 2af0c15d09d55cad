"""Reports as students see them: JSON (``Report.student_view``), Gradescope and JUnit (``grader.formats``)."""

import importlib
import json
from typing import Any

from grader.report import Report


class FormatUnavailable(Exception):
    """The grader does not offer this format."""


def render_report(report: dict[str, Any], fmt: str) -> Any:
    """The student view of ``report`` as a JSON-able dict (``json``) or a string (``gradescope``, ``junit``)."""
    view = Report.model_validate(report).student_view()
    if fmt == "json":
        return view.model_dump(mode="json")
    try:
        module = importlib.import_module(f"grader.formats.{fmt}")
    except ImportError as missing:
        raise FormatUnavailable(f"The grader has no {fmt} writer yet (grader.formats.{fmt}).") from missing
    for name in ("render", "dumps", "to_string", f"to_{fmt}", "format_report"):
        writer = getattr(module, name, None)
        if callable(writer):
            out = writer(view)
            return out if isinstance(out, str) else json.dumps(out)
    raise FormatUnavailable(f"grader.formats.{fmt} has no render function.")
