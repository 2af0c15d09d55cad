"""The grader's report as a column: stored as the JSON of ``Report.model_dump(mode="json")`` (the column stays
plain JSON, so no migration), read back as a ``grader.report.Report``.

The report enters the service once, in the worker, as a validated ``Report``; from there on every reader uses
its attributes. Rows written before a field existed still load: fields added to the model since carry defaults,
and a stored report that lacks one of the model's required top-level fields (a hand-made or very old row) is
read with a neutral value for it (zero scores, ``False`` flags, an ``unknown`` environment).
"""

from typing import Any

from sqlalchemy import JSON, TypeDecorator

from grader.report import Environment, Report

UNKNOWN = "unknown"
_LEGACY_DEFAULTS: dict[str, Any] = {
    "score": 0.0,
    "max_score": 0.0,
    "gradable": False,
    "succeeded": False,
    "duration_s": 0.0,
    "environment": Environment(
        grader_version=UNKNOWN, python=UNKNOWN, torch=UNKNOWN, timm=UNKNOWN, device=UNKNOWN, seed=0,
        data_profile=UNKNOWN, suite_sha256=UNKNOWN,
    ).model_dump(mode="json"),
}  # fmt: skip


def load(stored: dict[str, Any]) -> Report:
    """A stored report as a ``Report``; required top-level fields it lacks get the neutral values above."""
    missing = {name: value for name, value in _LEGACY_DEFAULTS.items() if name not in stored}
    return Report.model_validate({**missing, **stored} if missing else stored)


class ReportJSON(TypeDecorator):
    """A ``Report`` in a JSON column: written as ``model_dump(mode="json")``, read back with ``load``."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001, ANN201
        if value is None:
            return None
        if not isinstance(value, Report):
            raise TypeError(f"Result.report takes a grader.report.Report, got {type(value).__name__}")
        return value.model_dump(mode="json")

    def process_result_value(self, value, dialect):  # noqa: ANN001, ANN201
        return None if value is None else load(value)
