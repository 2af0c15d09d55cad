"""The report as JSON: the binding schema (version 1), indented for people and diff tools."""

from grader.report import Report


def to_json(report: Report) -> str:
    """The report's JSON, with a final newline."""
    return report.model_dump_json(indent=2) + "\n"
