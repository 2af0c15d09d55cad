"""The Q1-Q6 checks through the real Sandbox: the reference scores full marks, and known mistakes are named."""

import pytest
from checks_support import Q1_Q6_CHECKS, check_for, grade, mistake_source

from grader.diagnostics import MISTAKES
from grader.sandbox import Sandbox


@pytest.fixture(scope="module")
def real_reference_box(reference_source):
    with Sandbox(reference_source, device="cpu", seed=0) as box:
        yield box


def test_reference_scores_full_marks_in_the_real_sandbox(real_reference_box, reference_source):
    verdicts = {c: grade(c, real_reference_box, reference_source) for c in Q1_Q6_CHECKS}
    assert {c: v.message for c, v in verdicts.items() if (v.status, v.fraction) != ("passed", 1.0)} == {}


def test_a_composed_mistake_is_named_in_the_real_sandbox():
    mistake = MISTAKES["q4.scale_by_embed_dim"]
    source = mistake_source(mistake)
    with Sandbox(source, device="cpu", seed=0) as box:
        own = grade("q4.equivalence", box, source)
        vit = grade("q6.end_to_end", box, source)
        checks = ("q1.equivalence", "q2.equivalence", "q6.sinusoidal", "q5.equivalence", "q6.equivalence")
        others = {c: grade(c, box, source).status for c in checks}
    assert own.status == vit.status == "failed"
    assert own.details["known_mistakes"] == [[mistake.id]] and mistake.name in own.hint
    assert [mistake.id] in vit.details["known_mistakes"] and "multi-head attention (Q4)" in vit.message
    assert others == dict.fromkeys(checks, "passed"), "the attention's mistake is charged in Q4 only"


@pytest.mark.slow
@pytest.mark.parametrize("mistake_id", sorted(MISTAKES))
def test_every_mistake_is_caught_and_named_in_the_real_sandbox(mistake_id):
    mistake = MISTAKES[mistake_id]
    source = mistake_source(mistake)
    with Sandbox(source, device="cpu", seed=0) as box:
        verdict = grade(check_for(mistake), box, source)
    assert verdict.status == "failed"
    assert verdict.details["known_mistakes"] == [[mistake_id]]
    assert mistake.name in verdict.hint
