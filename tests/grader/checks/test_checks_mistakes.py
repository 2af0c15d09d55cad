"""Every known mistake, written into a student module, is caught by its question's check and named in the hint;
a sub-module's mistake costs nothing in the Q5 and Q6 checks that contain it (they run trusted stand-ins)
and is traced to its sub-question by their end-to-end check."""

import pytest
from checks_support import InProcessSandbox, check_for, grade, mistake_source

from grader.diagnostics import MISTAKES

COMPOSED = [
    (mistake_id, prefix)
    for mistake_id, mistake in MISTAKES.items()
    for prefix, questions in (("q5", {"Q2", "Q4"}), ("q6", {"Q1", "Q2", "Q4", "Q5"}))
    if mistake.question in questions
]


@pytest.fixture(scope="module")
def boxes():
    opened: dict[str, InProcessSandbox] = {}

    def box_for(mistake_id: str) -> tuple[InProcessSandbox, str]:
        source = mistake_source(MISTAKES[mistake_id])
        if mistake_id not in opened:
            opened[mistake_id] = InProcessSandbox(source)
        return opened[mistake_id], source

    yield box_for
    for box in opened.values():
        box.close()


def test_the_catalogue_is_large_enough():
    assert len(MISTAKES) >= 12
    assert {m.question for m in MISTAKES.values()} == {"Q1", "Q2", "Q3", "Q4", "Q5", "Q6"}


@pytest.mark.parametrize("mistake_id", sorted(MISTAKES))
def test_mistake_is_caught_and_named(mistake_id, boxes):
    mistake = MISTAKES[mistake_id]
    box, source = boxes(mistake_id)
    verdict = grade(check_for(mistake), box, source)
    assert verdict.status == "failed"
    assert "max abs error" in verdict.message and "tolerance" in verdict.message
    assert verdict.details["known_mistakes"] == [[mistake_id]]
    assert verdict.hint.startswith("Your output matches") and mistake.name in verdict.hint


@pytest.mark.parametrize(("mistake_id", "prefix"), COMPOSED)
def test_sub_module_mistake_is_charged_once_and_traced_end_to_end(mistake_id, prefix, boxes):
    box, source = boxes(mistake_id)
    mistake = MISTAKES[mistake_id]
    for check_id in (f"{prefix}.equivalence", f"{prefix}.property", f"{prefix}.shape"):
        verdict = grade(check_id, box, source)
        assert (verdict.status, verdict.fraction) == ("passed", 1.0), (check_id, verdict.message)
    verdict = grade(f"{prefix}.end_to_end", box, source)
    assert verdict.status == "failed"
    assert [mistake_id] in verdict.details["known_mistakes"], verdict.hint
    assert mistake.name in verdict.hint
    assert "is right; the difference comes from your" in verdict.message
    assert f"({mistake.question})" in verdict.message


@pytest.mark.parametrize(
    ("mistake_id", "check_id"),
    [
        ("q1.reshape_without_transpose", "q1.property"),
        ("q1.column_major", "q1.property"),
        ("q2.relu", "q2.property"),
        ("q2.no_activation", "q2.property"),
        ("q4.split_without_transpose", "q4.property"),
        ("q4.merge_without_transpose", "q4.property"),
        ("q4.softmax_over_heads", "q4.property"),
        ("q5.post_norm", "q5.property"),
        ("q5.no_attention_residual", "q5.property"),
        ("q5.no_mlp_residual", "q5.property"),
        ("q5.residual_from_normalized", "q5.property"),
        ("q6.cls_last", "q6.property"),
        ("q6.last_token", "q6.property"),
        ("q6.mean_pooling", "q6.property"),
        ("q6.no_pos_embed", "q6.property"),
        ("q6.no_final_norm", "q6.property"),
    ],
)
def test_property_checks_catch_structural_mistakes(mistake_id, check_id, boxes):
    box, source = boxes(mistake_id)
    verdict = grade(check_id, box, source)
    assert verdict.status == "failed" and verdict.fraction < 1.0
    assert verdict.message


@pytest.mark.parametrize("mistake_id", ["q3.no_scaling", "q3.scale_by_d", "q4.no_scaling", "q6.pe_sin_cos_swapped"])
def test_property_checks_do_not_blame_unrelated_mistakes(mistake_id, boxes):
    """Scaling mistakes keep attention permutation-equivariant and mixing; the PE is loaded, not recomputed."""
    box, source = boxes(mistake_id)
    for check_id in ("q3.property", "q4.property", "q5.property", "q6.property", "q6.parameters"):
        assert grade(check_id, box, source).status == "passed", check_id
