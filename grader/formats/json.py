"""The report as JSON: the binding schema (version 1), indented for people and diff tools."""

from grader.report import Report
from grader.runner import sanitize


def to_json(report: Report) -> str:
    """The report's JSON, with a final newline; strings UTF-8 cannot encode (lone surrogates) become '?'."""
    return sanitize(report).model_dump_json(indent=2) + "\n"
