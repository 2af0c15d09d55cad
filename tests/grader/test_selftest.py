"""The two self-tests that matter most: the reference scores full marks, the untouched template zero."""

from grading_support import graded, not_full

from grader.checks.registry import REGISTRY
from grader.report import CheckStatus


def test_reference_gets_full_marks_on_every_check():
    report = graded("reference")
    assert report.succeeded, report.message
    assert report.gradable, report.message
    assert {c.id for c in report.checks} == set(REGISTRY), "every registered check ran"
    assert not not_full(report), "\n".join(not_full(report))
    assert all(c.status is CheckStatus.passed for c in report.checks)
    assert report.score == report.max_score == sum(spec.points for spec in REGISTRY.values())


def test_reference_accuracy_equals_its_cached_baseline():
    accuracy = next(c for c in graded("reference").checks if c.id == "q7.accuracy")
    assert accuracy.details["accuracy"] == accuracy.details["reference_accuracy"], accuracy.details
    assert accuracy.details["accuracy"] > accuracy.details["floor"]


def test_template_scores_zero_without_a_single_error():
    report = graded("template")
    assert report.succeeded, report.message
    assert report.gradable
    assert report.score == 0, [f"{c.id}: {c.score}" for c in report.checks if c.score]
    errors = [f"{c.id}: {c.message}" for c in report.checks if c.status is CheckStatus.error]
    assert not errors, errors
    code = [c for c in report.checks if c.category != "written"]
    assert code and all(c.status is CheckStatus.failed for c in code)
    not_implemented = [c.id for c in code if c.message.startswith("not implemented yet")]
    assert len(not_implemented) >= len(code) - 1, [f"{c.id}: {c.message}" for c in code]


def test_template_written_answers_are_missing_not_errors():
    written = [c for c in graded("template").checks if c.category == "written"]
    assert written and all(c.status is CheckStatus.failed for c in written)
    assert all(c.message.startswith("no answer found under ## Q") for c in written), [c.message for c in written]
