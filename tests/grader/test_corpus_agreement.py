"""The grader's Q1-Q6 points agree with a careful TA's verdicts on a corpus of realistic student files.

Each file of tests/fixtures/corpus/ has a TA verdict (``.toml``, written by reading the code before the
grader ran on it, following docs/grading-policy.md). A question agrees when the grader's points are
within 10 % of the question's points of the TA's. The mean absolute difference (Q1-Q6 points per
file, averaged over files) is printed by the slow test and by ``benchmarks/corpus_agreement.py``.
Two files are graded in the default suite; the whole corpus (about 4 s a file, quiet) is ``slow``.
"""

import pytest

from benchmarks.corpus_agreement import (
    CORPUS,
    QUESTIONS,
    compare,
    corpus_stems,
    load_verdict,
    mean_absolute_difference,
    table,
)
from grader.checks.points import question_totals

# The one place corpus cases are marked: files today's grader disagrees with (question: TA vs grader, why).
# Empty it as the per-question grading lands; a file that agrees again passes (xfail is not strict).
KNOWN_DISAGREEMENTS: dict[str, str] = {
    "c04_timm_eps_tanh": "Q2 TA 4 / grader 1: tanh GELU fails q2.equivalence and q2.property (error 1e-4 > 1e-5); "
    "Q5 TA 8 / grader 1: the tanh GELU (and eps=1e-6) inside the block fail q5.equivalence and q5.property",
    "c05_fused_qkv": "Q4 TA 9 / grader 3, Q5 TA 8 / grader 1, Q6 TA 14 / grader 3: the fused qkv has no q/k/v keys, "
    "so no reference weights load anywhere (raw 'Missing key(s)' messages in Q4-Q6 property checks)",
    "c06_post_norm": "Q6 TA 13 / grader 7: the post-norm block (Q5) is charged again in q6.equivalence, q6.extra and "
    "q6.property (identity-block fact)",
    "c08_relu_mhsa_no_scale": "Q5 TA 7 / grader 1, Q6 TA 13 / grader 8: the ReLU MLP (Q2) and unscaled attention "
    "(Q4) are charged again in q5.equivalence, q5.property, q6.equivalence and q6.extra",
    "c09_sdpa_in_mhsa": "Q4 TA 1 / grader 8: F.scaled_dot_product_attention in Q4 only loses static.from_scratch; "
    "the equivalence, property and extra points are still earned",
    "c10_nn_multihead_attention": "Q5 TA 8 / grader 1, Q6 TA 14 / grader 3: the nn.MultiheadAttention wrappers' "
    "keys stop the reference weights loading into the (correctly wired) block and ViT",
    "c12_heads_without_transpose": "Q5 TA 7 / grader 4, Q6 TA 13 / grader 7: the Q4 mistake is charged again in "
    "q5.equivalence, q6.equivalence, q6.extra and q6.property (pos_embed[1:] fact)",
    "c13_qkv_without_bias": "Q3 TA 7.5 / grader 1, Q4 TA 9.5 / grader 3, Q5 TA 8 / grader 1, Q6 TA 14 / grader 3: "
    "bias-less q/k/v stop every strict load (raw 'Unexpected key(s)' messages) instead of a small contract deduction",
    "c14_patch_reshape_dropout": "Q6 TA 13 / grader 7: the Q1 reshape without transpose is charged again in "
    "q6.equivalence, q6.extra and q6.property (pos_embed[1:] fact)",
    "c15_sequential_mlp_probabilities": "Q2 TA 3 / grader 1: nn.Sequential MLP keys stop the load (maths right); "
    "Q5 TA 8 / grader 1: same keys stop the block's load; Q6 TA 7 / grader 3: property and parameters lost to the keys",
    "c16_per_head_modulelist": "Q4 TA 9 / grader 3, Q5 TA 8 / grader 1, Q6 TA 14 / grader 3: per-head ModuleList "
    "keys stop every load although the maths is right",
    "c17_several_mistakes": "Q6 TA 11 / grader 5: the missing MLP residual (Q5) is charged again in q6.equivalence, "
    "q6.extra and q6.property (identity-block fact)",
    "c18_encoder_layer_block": "Q6 TA 14 / grader 3: nn.TransformerEncoderLayer's keys stop the ViT's load although "
    "Q6's own code is right (Q5 and the rule agree)",
    "c19_cls_without_position": "Q4 TA 9.5 / grader 3, Q5 TA 8 / grader 1: the extra 'scale' buffer stops every "
    "load; Q6 TA 7 / grader 3: property and parameters lost to the same buffer",
    "c21_softmax_then_scale_extra_gelu": "Q5 TA 7 / grader 1, Q6 TA 13 / grader 8: the extra activation after fc2 "
    "(Q2) is charged again in q5.equivalence, q5.property, q6.equivalence and q6.extra",
    "c22_no_out_proj_no_final_norm": "Q5 TA 7 / grader 1: the missing output projection (Q4) is charged again in "
    "q5.equivalence and q5.property",
    "c23_block_diagonal_heads": "Q5 TA 7 / grader 1, Q6 TA 13 / grader 3: the per-head ModuleList keys stop the "
    "block's and the ViT's loads (raw 'Missing key(s)' messages) on top of the Q4 mistake",
    "c24_residual_from_normalized_manual_gelu": "Q2 TA 4 / grader 1: the hand-written tanh GELU fails q2.equivalence "
    "and q2.property (error 1e-4 > 1e-5); Q6 TA 13 / grader 7: the Q5 mistake is charged again in q6.equivalence, "
    "q6.extra and q6.property (identity-block fact)",
    "c25_linear_patches_wrong_scale": "Q1 TA 5 / grader 1: the Linear patch projection's weight shape stops the load "
    "(maths right); Q5 TA 7 / grader 4: the Q4 scale is charged again in q5.equivalence; Q6 TA 13 / grader 3: the "
    "patch projection's shape stops every ViT load",
}
FAST = ("c01_einsum_correct", "c07_mean_pool")  # graded in the default suite: one correct, one Q6 mistake
MIN_FILES = 16
TARGET_MAD = 2.0  # points of Q1-Q6 per file
PARTS = {"maths", "extra", "property", "shape", "sinusoidal", "end-to-end", "contract", "rule", "parameters"}


def _cases(stems: list[str], slow: bool) -> list:
    cases = []
    for stem in stems:
        marks = [pytest.mark.slow] if slow else []
        if stem in KNOWN_DISAGREEMENTS:
            marks.append(pytest.mark.xfail(strict=False, reason=KNOWN_DISAGREEMENTS[stem]))
        cases.append(pytest.param(stem, marks=marks, id=stem))
    return cases


def _assert_agrees(stem: str) -> None:
    comparison = compare(stem)
    disagreements = comparison.disagreements()
    assert not disagreements, (
        f"{stem}: the grader disagrees with the TA beyond 10 % of a question: {'; '.join(disagreements)}. "
        f"TA rationale: {load_verdict(stem).deductions}. Checks that lost points: {comparison.lost_checks}"
    )


def test_the_corpus_is_large_and_every_file_has_a_verdict():
    modules = sorted(p.stem for p in CORPUS.glob("*.py"))
    assert len(modules) >= MIN_FILES, modules
    assert modules == corpus_stems(), "every corpus file needs a .toml verdict and every verdict a file"
    assert set(KNOWN_DISAGREEMENTS) <= set(modules), sorted(set(KNOWN_DISAGREEMENTS) - set(modules))
    assert set(FAST) <= set(modules) and not set(FAST) & set(KNOWN_DISAGREEMENTS)


@pytest.mark.parametrize("stem", corpus_stems())
def test_a_verdict_adds_up(stem):
    """Each question's points are its total minus the listed deductions, each with a part and a reason."""
    verdict = load_verdict(stem)
    totals = question_totals()
    for question in QUESTIONS:
        deductions = verdict.deductions[question]
        lost = sum(float(d["points"]) for d in deductions)
        assert verdict.points[question] == totals[question] - lost, (stem, question, verdict.points[question], lost)
        assert 0 <= verdict.points[question] <= totals[question]
        assert (2 * verdict.points[question]).is_integer(), "points are given to 0.5"
        for deduction in deductions:
            assert deduction["part"] in PARTS and len(deduction["why"]) > 10, (stem, question, deduction)


@pytest.mark.parametrize("stem", _cases(list(FAST), slow=False))
def test_fast_subset_agrees_with_the_ta(stem):
    _assert_agrees(stem)


@pytest.mark.parametrize("stem", _cases([s for s in corpus_stems() if s not in FAST], slow=True))
def test_corpus_file_agrees_with_the_ta(stem):
    _assert_agrees(stem)


@pytest.mark.slow
@pytest.mark.xfail(
    bool(KNOWN_DISAGREEMENTS), strict=False, reason="the corpus still has known disagreements (KNOWN_DISAGREEMENTS)"
)
def test_mean_absolute_difference_is_under_target(capsys):
    comparisons = [compare(stem) for stem in corpus_stems()]
    mad = mean_absolute_difference(comparisons)
    with capsys.disabled():
        print("\n" + table(comparisons))  # the per-file table and the MAD in the test's output
    assert mad < TARGET_MAD, f"mean absolute difference {mad:.2f} points of Q1-Q6 per file (target < {TARGET_MAD})"
