"""The points table: one place, the lab out of 100, every registered check priced from it."""

import checks_support  # noqa: F401 - registers the Q1-Q6 checks
import pytest

from grader.checks.points import POINTS, TOTAL, points_for, question_totals
from grader.checks.registry import REGISTRY


def test_lab_total_and_question_totals():
    assert sum(POINTS.values()) == TOTAL == 100
    totals = question_totals()
    assert {q: totals[q] for q in ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6")} == {
        "Q1": 6,
        "Q2": 4,
        "Q3": 8,
        "Q4": 10,
        "Q5": 8,
        "Q6": 14,
    }
    assert (totals["Q7"], totals["Q8"], totals["written"]) == (15, 10, 25)


def test_registered_checks_take_their_points_from_the_table():
    for check_id, spec in REGISTRY.items():
        assert spec.points == points_for(check_id), check_id


def test_every_q1_q6_entry_is_registered():
    q1_q6 = {c for c in POINTS if c.split(".")[0] in {"q1", "q2", "q3", "q4", "q5", "q6", "static"}}
    assert q1_q6 <= set(REGISTRY)


def test_unknown_id_names_the_table():
    with pytest.raises(KeyError, match="questions.py"):
        points_for("q9.nothing")


def test_table_and_registry_agree_for_the_whole_lab():
    import grader.checks  # noqa: F401 - registers every question's checks (Q7, Q8 and written included)

    assert set(POINTS) == set(REGISTRY)
    assert sum(spec.points for spec in REGISTRY.values()) == 100
