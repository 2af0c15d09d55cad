"""The written-answer scorer: ideas over words (contradictions, paraphrases), keyword caps, confidence, limits."""

import time

import pytest

from grader.checks.written import WrittenTimeout, load_rubric, same_text_as, score_answer
from grader.intake.answers import parse_answers
from grader.intake.limits import MAX_ANSWER_CHARS
from grader.intake.submission import Submission
from grader.report import CheckStatus
from grader.runner import grade_submission
from grader.sandbox.limits import SandboxLimits
from grader.settings import GraderSettings

PRE_NORM = "LayerNorm before each sub-layer (pre-norm)"


def score(question: str, text: str, **kwargs):
    return score_answer(load_rubric()[question], text, **kwargs)


def test_post_norm_block_is_not_credited_as_pre_norm_and_the_message_says_why():
    text = (
        "The block normalises after adding the residual: x = LayerNorm(x + MHSA(x)), then "
        "x = LayerNorm(x + MLP(x)). The residual connections keep the gradient flowing."
    )
    outcome = score("Q5", text)
    assert PRE_NORM in outcome.details["contradicted"]
    assert PRE_NORM not in outcome.details["found"]
    assert "post-norm" in outcome.message and "contradicted" in outcome.message
    assert "a residual (skip) connection around each sub-layer" in outcome.details["found"]
    assert outcome.details["confidence"] == "medium" and outcome.details["needs_review"] is True


def test_a_post_norm_formula_given_as_a_contrast_does_not_cancel_pre_norm():
    text = (
        "z' = z + MHSA(LN(z)) and z'' = z' + MLP(LN(z')): the norm comes before each sub-layer, unlike the "
        "original Transformer where LN(z + MHSA(z)) normalises after the residual sum."
    )
    outcome = score("Q5", text)
    assert PRE_NORM in outcome.details["found"] and not outcome.details["contradicted"]
    assert outcome.fraction == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("question", "text", "concept"),
    [
        ("Q6a", "The class token is averaged over all the patch tokens and given to the classifier.", "head reads"),
        ("Q6b", "The positional embedding is not needed because attention already knows the order.", "position"),
        ("Q6c", "A smaller patch size gives fewer tokens, so the model is faster to train.", "patch_size"),
        ("Q4", "Each head computes softmax(QK^T/sqrt(d))V and the outputs of the heads are averaged.", "concatenated"),
        ("Q3", "Self-attention only looks at the neighbouring patches, and its cost is linear in N.", "global"),
    ],
)
def test_contradictions_earn_nothing(question, text, concept):
    outcome = score(question, text)
    denied = outcome.details["contradicted"]
    assert any(concept in name for name in denied), (denied, outcome.message)
    assert not any(concept in name for name in outcome.details["found"])


@pytest.mark.parametrize(
    ("question", "text", "concept"),
    [
        ("Q3", "Each element determines the importance of other elements, wherever they are in the image.", "global"),
        ("Q6a", "During the blocks the information of the patches accumulates in the token.", "gathers"),
        ("Q6b", "The sine and cosine codes are computed by a formula and need no training at all.", "sinusoidal"),
        ("Q4", "Every head gets its own slice of the features and the results are put side by side.", "split"),
        ("Q7", "Lowering the learning rate to 1e-4 gave a smoother but slower convergence.", "affected"),
        ("Q8a", "A CNN can take images of other sizes because it ends with a global pooling layer.", "any size"),
    ],
)
def test_paraphrases_are_credited(question, text, concept):
    outcome = score(question, text)
    assert any(concept in name for name in outcome.details["found"]), outcome.message


def test_every_part_of_q7_is_a_concept():
    names = " | ".join(c.name for c in load_rubric()["Q7"].concepts)
    for part in ("hyperparameters used", "affected performance", "accuracy", "improve", "quadratic", "reduce"):
        assert part in names, f"Q7 has no concept for {part!r}: {names}"


def test_keyword_list_is_capped_at_a_third_and_flagged_low():
    outcome = score("Q3", "- global receptive field\n- long range\n- quadratic complexity O(N^2)\n- memory")
    assert outcome.details["uncapped_fraction"] > 1 / 3
    assert outcome.fraction == pytest.approx(1 / 3)
    assert outcome.details["keyword_soup"] and outcome.details["confidence"] == "low"
    assert "keywords without sentences" in outcome.message


def test_terse_sentences_are_not_keyword_soup():
    text = (
        "Every patch attends to all the other patches, so the receptive field is global. The weights depend on "
        "the input. The N x N attention matrix makes compute and memory quadratic in the number of tokens."
    )
    outcome = score("Q3", text)
    assert not outcome.details["keyword_soup"] and outcome.fraction == pytest.approx(1.0)
    assert outcome.details["confidence"] == "high" and outcome.details["needs_review"] is False


def test_a_copied_question_earns_nothing():
    prompt = load_rubric()["Q6c"].prompt
    outcome = score("Q6c", prompt)
    assert outcome.fraction == 0 and outcome.details["copied_question_words"] > 0
    assert outcome.details["confidence"] == "low"


def test_the_same_text_under_several_headings_is_capped_and_flagged():
    paragraph = (
        "Every patch attends to all the other patches, which gives a global view of the image, while a learned "
        "class token is prepended for the classifier and a positional embedding tells where each patch is; the "
        "cost is quadratic in the number of tokens and the blocks use LayerNorm and residual connections."
    )
    answers = {"Q3": paragraph, "Q5": paragraph, "Q6a": paragraph, "Q7": "We reached 97% test accuracy."}
    assert same_text_as("Q3", answers) == ["Q5", "Q6a"]
    assert same_text_as("Q7", answers) == []
    outcome = score("Q3", paragraph, duplicated=same_text_as("Q3", answers))
    assert outcome.fraction <= 1 / 3 + 1e-9 and outcome.details["duplicated_in"] == ["Q5", "Q6a"]
    assert outcome.details["confidence"] == "low" and "same text" in outcome.message


def test_scoring_past_its_deadline_raises():
    with pytest.raises(WrittenTimeout):
        score("Q3", "Self-attention is global.", deadline=0.0)


def test_written_check_runs_under_the_check_time_limit():
    settings = GraderSettings(limits=SandboxLimits(request_timeout_s=1e-9))
    submission = Submission(module_source=None, answers={"Q3": "Self-attention has a global receptive field."})
    report = grade_submission(submission, select=["written.q3"], settings=settings)
    (result,) = report.checks
    assert result.status is CheckStatus.error and not report.succeeded
    assert "not your fault" in result.message


def test_intake_caps_each_answer_and_grades_the_rest():
    long = "Self-attention relates every token to every other token. " * 400
    text = f"## Q3\n\n{long}\n\n## Q4\n\nThe embedding is split into h heads of size D/h.\n"
    answers, warnings = parse_answers(text, "answers.md")
    assert len(answers["Q3"]) <= MAX_ANSWER_CHARS and answers["Q4"].startswith("The embedding")
    (warning,) = warnings
    assert "Q3" in warning and f"{len(long.strip()):,}" in warning and f"{MAX_ANSWER_CHARS:,}" in warning


@pytest.mark.parametrize("unit", ["a. ", "- x\n", "softmax. ", "embed_dim ", "\\frac{", "N^ "])
def test_worst_case_answers_of_the_size_cap_score_in_bounded_time(unit):
    text = (unit * (MAX_ANSWER_CHARS // len(unit) + 1))[:MAX_ANSWER_CHARS]
    answers = dict.fromkeys(load_rubric(), text)
    start = time.perf_counter()
    for question, rubric in load_rubric().items():
        score_answer(rubric, text, duplicated=same_text_as(question, answers))
    assert time.perf_counter() - start < 5.0


def test_an_answer_in_french_is_sentences_not_keywords():
    text = "Chaque patch regarde tous les autres patchs: le champ est global, mais le coût est quadratique en N."
    outcome = score("Q3", text)
    assert not outcome.details["keyword_soup"]
    assert any("global" in name for name in outcome.details["found"]), outcome.message
