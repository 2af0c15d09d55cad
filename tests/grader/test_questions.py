"""The one table of questions: registry, runner, report and service read id, title, order and points from it."""

import pytest

import grader.checks  # noqa: F401 - registers every check
from grader import questions
from grader.checks import outcome, registry
from grader.report import CheckCategory, CheckResult, CheckStatus
from grader.runner import select_checks, totals


def test_the_table_is_the_lab_out_of_100_in_order():
    assert questions.ORDER == ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8", "written")
    assert sum(questions.POINTS.values()) == questions.TOTAL == 100
    assert questions.question_totals() == {
        "Q1": 6,
        "Q2": 4,
        "Q3": 8,
        "Q4": 10,
        "Q5": 8,
        "Q6": 14,
        "Q7": 15,
        "Q8": 10,
        "written": 25,
    }
    assert all(q.title for q in questions.QUESTIONS)


def test_every_registered_check_takes_question_and_points_from_the_table():
    assert set(registry.REGISTRY) == set(questions.POINTS)
    for check_id, spec in registry.REGISTRY.items():
        assert (spec.question, spec.points) == (questions.question_of(check_id), questions.points_for(check_id))
    assert registry.REGISTRY["static.from_scratch"].question == "Q4"


def test_a_check_declared_for_another_question_is_refused():
    with pytest.raises(ValueError, match="questions.py puts it in 'Q3'"):
        registry.check("q3.equivalence", question="Q5", category="equivalence")
    with pytest.raises(ValueError, match="names no question"):
        registry.check("q9.new", category="equivalence", points=1.0)


def test_the_runner_orders_checks_and_questions_by_the_table_and_reports_titles():
    ids = [spec.id for spec in select_checks()]
    assert ids == list(questions.POINTS)
    results = [
        CheckResult(
            id=i,
            question=questions.question_of(i),
            category=CheckCategory.static,
            status=CheckStatus.passed,
            score=1.0,
            max_score=1.0,
        )
        for i in ("written.q3", "static.from_scratch", "q1.shape")
    ]
    scores = totals(results)
    assert [(q.id, q.title) for q in scores] == [
        ("Q1", "Patch embedding"),
        ("Q4", "Multi-head self-attention"),
        ("written", "Written answers"),
    ]


def test_the_service_lists_the_assignment_in_the_tables_order_with_titles():
    from service.assignment import _questions

    listed = _questions()
    assert [q.id for q in listed] == list(questions.ORDER)
    assert [q.title for q in listed] == [q.title for q in questions.QUESTIONS]
    assert [q.points for q in listed] == [q.total for q in questions.QUESTIONS]


def test_outcome_types_live_in_their_own_module():
    assert registry.CheckFailed is outcome.CheckFailed
    assert registry.Skip is outcome.Skip and registry.Outcome is outcome.Outcome
    assert outcome.Outcome().fraction == 1.0


def test_every_written_check_of_the_table_has_a_rubric_question():
    from grader.checks.written import load_rubric

    rubric = load_rubric()
    for check_id in questions.BY_ID["written"].points:
        heading = "Q" + check_id.split(".", 1)[1][1:]
        assert heading in rubric, check_id
        assert registry.REGISTRY[check_id].question == "written"
