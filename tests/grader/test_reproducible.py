"""Grading the same submission twice gives the same report, timings aside (scores, messages, figures, hash)."""

from typing import Any

import pytest
from grading_support import TEMPLATE, graded, reference_files

from grader.api import grade_files
from grader.report import Report


def without_timings(value: Any) -> Any:
    """The report's data with every wall-clock figure removed (keys ending in seconds / duration_s)."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if not k.endswith(("seconds", "duration_s"))}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def same(first: Report, second: Report) -> None:
    a, b = without_timings(first.model_dump(mode="json")), without_timings(second.model_dump(mode="json"))
    differing = [c1["id"] for c1, c2 in zip(a["checks"], b["checks"], strict=True) if c1 != c2]
    assert not differing, f"checks differ between two gradings: {differing}"
    assert a == b


def test_template_twice_gives_identical_reports():
    first, second = (grade_files(list(TEMPLATE), device="cpu", data_profile="bundled", seed=0) for _ in range(2))
    same(first, second)


def test_reference_code_and_written_checks_twice_give_identical_reports():
    select = ("q[1-6].*", "q8.*", "static.*", "written.*")
    first = graded("reference", select)
    second = grade_files(list(reference_files()), device="cpu", data_profile="bundled", seed=0, select=list(select))
    same(first, second)


def test_another_seed_changes_the_inputs_not_the_verdicts():
    select = ["q[1-3].*"]
    other = grade_files(list(reference_files()), device="cpu", seed=1, select=select)
    assert other.score == other.max_score and other.environment.seed == 1


@pytest.mark.slow
def test_full_reference_grade_twice_accuracy_included():
    second = grade_files(list(reference_files()), device="cpu", data_profile="bundled", seed=0)
    same(graded("reference"), second)
