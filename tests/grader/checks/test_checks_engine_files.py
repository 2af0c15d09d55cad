"""Whole student files, in the styles real code uses, graded question by question.

``timm_style.py`` is right everywhere, in timm's style (tanh GELU, fused qkv without bias, einsum,
LayerNorm eps=1e-6, a ModuleList of blocks): a TA gives full marks but for the fused qkv, which does not
follow the contract's q, k, v (its small contract check). ``three_mistakes.py`` makes one mistake in each of
Q2, Q5 and Q6: each is charged in its own question and named there, never again in another question.
"""

from pathlib import Path

from checks_support import Q1_Q6_CHECKS, InProcessSandbox, grade

from grader.checks.points import question_totals
from grader.checks.registry import REGISTRY

FIXTURES = Path(__file__).parents[2] / "fixtures" / "engine"
CODE_CHECKS = [c for c in Q1_Q6_CHECKS if not c.startswith("static.")]  # the from-scratch rule is graded apart


def grade_file(name: str) -> tuple[dict[str, float], dict[str, object]]:
    source = (FIXTURES / name).read_text()
    box = InProcessSandbox(source)
    try:
        verdicts = {c: grade(c, box, source) for c in CODE_CHECKS}
    finally:
        box.close()
    scores: dict[str, float] = {}
    for check_id, verdict in verdicts.items():
        question = REGISTRY[check_id].question
        scores[question] = scores.get(question, 0.0) + verdict.fraction * REGISTRY[check_id].points
    return scores, verdicts


def test_a_right_file_in_timm_style_gets_full_marks_but_the_contract():
    scores, verdicts = grade_file("timm_style.py")
    totals = question_totals()
    expected = {q: totals[q] for q in ("Q1", "Q2", "Q3", "Q5", "Q6")}
    expected["Q4"] = totals["Q4"] - REGISTRY["q4.contract"].points - REGISTRY["static.from_scratch"].points
    assert {q: round(s, 6) for q, s in scores.items()} == expected, {
        c: v.message for c, v in verdicts.items() if v.fraction < 1
    }
    assert "packs q, k and v" in verdicts["q4.contract"].message


def test_three_mistakes_are_each_charged_once_in_their_own_question():
    scores, verdicts = grade_file("three_mistakes.py")
    totals = question_totals()
    for question in ("Q1", "Q3"):
        assert scores[question] == totals[question]
    assert scores["Q4"] == totals["Q4"] - REGISTRY["static.from_scratch"].points
    named = {
        c: verdicts[c].details.get("known_mistakes") for c in ("q2.equivalence", "q5.equivalence", "q6.equivalence")
    }
    assert named == {
        "q2.equivalence": [["q2.relu"]],
        "q5.equivalence": [["q5.post_norm"]],
        "q6.equivalence": [["q6.mean_pooling"]],
    }
    for check_id in ("q5.shape", "q6.shape", "q6.sinusoidal", "q6.parameters", "q5.contract", "q2.contract"):
        assert verdicts[check_id].fraction == 1.0, check_id
    assert "ReLU" not in verdicts["q5.equivalence"].hint and "ReLU" not in verdicts["q6.equivalence"].hint
