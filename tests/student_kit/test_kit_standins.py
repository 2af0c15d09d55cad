"""Q5 and Q6 locally: the kit's stand-ins take the place of your attention and MLP (or patch embedding and
blocks) as the grader's do, compute only where the kit placed them, and a module that ignores its input
fails q5.property as graded."""

import re

from kit_support import Pair

from reference.bundle import bundle_submission
from vitgrade_student import standins
from vitgrade_student.runtime import StudentCodeError, run

BROKEN_ATTENTION = re.compile(
    r"(class MultiHeadSelfAttention\(nn\.Module\):.*?def forward\(self, x[^)]*\)[^:]*:\n)", re.S
)


def _with_wrong_attention(source: str) -> str:
    """The reference with Q4's forward returning 1.5 x: Q4 fails; Q5's own wiring is still right."""
    changed, count = BROKEN_ATTENTION.subn(r"\1        return 1.5 * x\n", source, count=1)
    assert count == 1
    return changed


def test_a_wrong_attention_fails_q4_but_not_q5s_own_checks_as_graded(kit_fixtures, tmp_path):
    pair = Pair(_with_wrong_attention(bundle_submission()), tmp_path, kit_fixtures)
    try:
        for check_id in ("q4.equivalence", "q5.equivalence", "q5.property", "q6.equivalence"):
            local, verdict = pair.local(check_id), pair.grader_verdict(check_id)
            assert local.status == verdict.status, (check_id, local.message, verdict.message)
            assert local.status == ("failed" if check_id == "q4.equivalence" else "passed"), (check_id, local.message)
    finally:
        pair.close()


def test_a_stand_in_taken_as_your_own_class_is_refused(kit_fixtures):
    names = {"MultiHeadSelfAttention": standins.stand_in_classes()["attention"]}
    request = kit_fixtures.checks["q4.equivalence"].runs[0]
    try:
        run(names, request.op, request.args, request.inputs)
    except StudentCodeError as error:
        assert error.kind == "bad_output" and "stand-in" in error.message, error.message
    else:
        raise AssertionError("a stand-in used as the submission's own attention computed an output")


def test_a_stand_in_computes_nothing_outside_a_request():
    attention = standins.stand_in_classes()["attention"](8, 2)
    try:
        attention(__import__("torch").zeros(1, 3, 8))
    except RuntimeError as error:
        assert "stand-in" in str(error)
    else:
        raise AssertionError("an unplaced stand-in computed an output")


def test_a_block_that_ignores_its_input_fails_q5_property_as_graded(kit_fixtures, tmp_path):
    source = bundle_submission() + (
        "\n\nclass TransformerBlock(TransformerBlock):\n"
        "    def forward(self, x):\n"
        "        return super().forward(torch.zeros_like(x))\n"
    )
    pair = Pair(source, tmp_path, kit_fixtures)
    try:
        local, verdict = pair.local("q5.property"), pair.grader_verdict("q5.property")
        assert (local.status, verdict.status) == ("failed", "failed"), (local.message, verdict.message)
        assert local.message == verdict.message and "same output for two different inputs" in local.message
    finally:
        pair.close()


def test_the_checks_left_to_submission_are_named_and_never_run_locally(kit_fixtures):
    from vitgrade_student import check
    from vitgrade_student.checks import SUBMIT_ONLY

    results = check("q5", {}, fixtures=kit_fixtures)
    assert [r.id for r in results] == ["q5.shape", "q5.equivalence", "q5.property"]
    assert set(results.submit_only) == {"q5.end_to_end", "q5.contract"} <= set(SUBMIT_ONLY)
    assert f"{', '.join(results.submit_only)}: checked when you submit." in str(results)
    try:
        check("q6.end_to_end", {}, fixtures=kit_fixtures)
    except ValueError as error:
        assert "checked when you submit" in str(error)
    else:
        raise AssertionError("a check left to submission ran locally")
