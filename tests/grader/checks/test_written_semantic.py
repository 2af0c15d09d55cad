"""The semantic signal of the written answers: exemplars, threshold, negations, caps and the regex-only fallback.

The real MiniLM model is used (loaded once per process); only the fallback test names a package that
does not exist, to take the real loading path to its failure.
"""

from pathlib import Path

import pytest
from written_agreement import WRITTEN

from grader.api import grade_files
from grader.checks import written_semantic
from grader.checks.points import POINTS
from grader.checks.written import load_rubric, score_answer
from grader.checks.written_semantic import _NEGATION, SemanticSettings, embedder, semantic_found, units
from grader.checks.written_text import normalise

ON = SemanticSettings(semantic=True)
OFF = SemanticSettings(semantic=False)
KEY = Path(__file__).resolve().parents[3] / "reference" / "answers.md"


def both(question: str, text: str):
    rubric = load_rubric()[question]
    return score_answer(rubric, text, semantic=ON), score_answer(rubric, text, semantic=OFF)


def test_the_model_loads_offline_and_each_exemplar_credits_its_own_concept_only():
    model = embedder()
    assert model.available(), model.error
    for question, rubric in load_rubric().items():
        assert rubric.vague, f"{question} has no vague sentences"
        for concept in rubric.concepts:
            assert len(concept.exemplars) >= 2, f"{question}: {concept.name} has fewer than two exemplars"
            for exemplar in concept.exemplars:
                assert not _NEGATION.search(exemplar), f"{question}: {exemplar!r}: units with a negation are skipped"
                found = semantic_found(rubric, rubric.concepts, [exemplar], ON)
                assert concept.name in found, f"{question}: {exemplar!r} does not credit {concept.name}: {found}"
            if concept.counter_exemplars:
                own, counter = model.encode(concept.exemplars), model.encode(concept.counter_exemplars)  # (n, 384)
                gap = (own @ own.T).max(dim=1).values - (own @ counter.T).max(dim=1).values  # (exemplars,)
                assert float(gap.min()) >= ON.margin, f"{question}: {concept.name}: an exemplar sits on a counter"


@pytest.mark.parametrize(
    "question,text",
    [
        ("Q3", "Self-attention is a very powerful and modern mechanism used in transformers."),
        ("Q4", "In multi-head attention there are several heads that each do something."),
        ("Q5", "The block has normalisation layers, an attention layer and a feed-forward layer."),
        ("Q6a", "The CLS token is an extra special token of the vision transformer."),
        ("Q6b", "The positional embedding is a very important part of the vision transformer."),
        ("Q6c", "Larger networks give better results but they take longer to train."),
        ("Q7", "Our model trained quite well on MNIST and we were happy with it."),
        ("Q8a", "The timm model was designed for ImageNet pictures, not for MNIST digits."),
        ("Q8d", "Transformers usually require very large datasets to work well."),
    ],
)
def test_sentences_on_the_topic_that_state_nothing_earn_nothing_by_meaning(question, text):
    on, _ = both(question, text)
    assert on.details["found_by_meaning"] == {}, on.details["found_by_meaning"]


def test_the_answer_key_scores_every_point_and_a_blank_or_off_topic_answer_none(monkeypatch, tmp_path):
    monkeypatch.setenv("VITGRADE_WRITTEN_SEMANTIC", "1")
    report = grade_files([KEY], device="cpu", select=["written.*"])
    assert {c.id: c.score for c in report.checks} == {k: v for k, v in POINTS.items() if k.startswith("written.")}
    blank = tmp_path / "answers.md"
    blank.write_text("## Q3\nI like risotto with parmesan.\n\n" + "".join(f"## {q}\n\n" for q in WRITTEN if q != "Q3"))
    assert [c.score for c in grade_files([blank], device="cpu", select=["written.*"]).checks] == [0.0] * len(WRITTEN)
    off_topic = "To make a risotto, toast the rice in butter, add the wine and stir until it is absorbed."
    for question in WRITTEN:
        outcome, _ = both(question, off_topic)
        assert outcome.fraction == 0 and not outcome.details["found_by_meaning"], (question, outcome.message)


def test_a_paraphrase_the_patterns_miss_is_credited_in_other_words():
    text = (
        "Because each patch is scored against each other patch, having twice as many patches multiplies the "
        "amount of computation by four."
    )
    on, off = both("Q3", text)
    assert "cost quadratic in the number of tokens, O(N^2)" in on.details["found_by_meaning"], on.details
    assert on.fraction > off.fraction and "(in other words)" in on.message
    assert on.details["semantic"] == "on" and on.details["confidence"] == "medium"


@pytest.mark.parametrize(
    "question,text",
    [
        ("Q6b", "Self-attention does not need positional information because it already knows where each patch is."),
        ("Q6b", "The sinusoidal encoding is not computed by a formula, and the learned one is not trained."),
        ("Q3", "Self-attention does not let a patch use the whole image; it never goes beyond a small window."),
        ("Q5", "There is no LayerNorm before the attention and no skip connection around the MLP."),
        ("Q6a", "The CLS token is not learned and it does not gather information from the patches."),
        ("Q4", "The heads do not get a part of the embedding each, and their outputs are not concatenated."),
        ("Q8d", "Distillation from a CNN teacher doesn't help, and pretraining on a large dataset isn't useful."),
    ],
)
def test_negated_statements_earn_nothing_by_meaning(question, text):
    on, off = both(question, text)
    assert on.details["found_by_meaning"] == {}, on.details["found_by_meaning"]
    assert on.fraction == off.fraction


def test_units_keep_the_clauses_without_negation():
    found = units(["Attention does not care about order, so a position vector is added to every patch."])
    assert "a position vector is added to every patch." in found
    assert all("not" not in unit for unit in found)


def test_misconceptions_close_to_a_counter_exemplar_block_the_credit_by_meaning():
    on, _ = both("Q3", "The cost of attention grows linearly with the number of tokens of the image.")
    assert "cost quadratic in the number of tokens, O(N^2)" not in on.details["found_by_meaning"]
    on, _ = both("Q4", "The outputs of the different heads are simply summed together at the end.")
    assert "the heads' outputs are concatenated" not in on.details["found_by_meaning"]


def test_keyword_soup_stays_capped_with_the_semantic_signal():
    rubric = load_rubric()["Q6a"]
    soup = "CLS token, learnable vector, prepended, attention aggregation, all patches, summary, classification head"
    outcome = score_answer(rubric, soup, semantic=ON)
    assert outcome.details["keyword_soup"] and outcome.fraction <= 1 / 3 + 1e-9, outcome.message


def test_without_the_model_the_grader_scores_with_the_patterns_and_says_so(monkeypatch):
    text = normalise(
        "Because each patch is scored against each other patch, doubling the patches makes the work four times "
        "larger. The N x N matrix of scores is kept in memory."
    )
    expected = score_answer(load_rubric()["Q3"], text, semantic=OFF)
    monkeypatch.setenv("VITGRADE_WRITTEN_SEMANTIC", "1")
    monkeypatch.setattr(written_semantic, "MODEL_PACKAGE", "no_such_model_package")
    written_semantic.embedder.cache_clear()
    try:
        outcome = score_answer(load_rubric()["Q3"], text, semantic=ON)
        report = grade_files([KEY], device="cpu", select=["written.q3"])
    finally:
        written_semantic.embedder.cache_clear()
    assert outcome.fraction == expected.fraction and outcome.details["found_by_meaning"] == {}
    assert outcome.details["semantic"].startswith("unavailable, regex rubric only (ModuleNotFoundError")
    assert report.checks[0].score == POINTS["written.q3"]


def test_the_setting_turns_the_signal_on_and_off(monkeypatch):
    text = "Because each patch is scored against each other patch, twice the patches multiply the work by four."
    monkeypatch.delenv("VITGRADE_WRITTEN_SEMANTIC", raising=False)
    assert score_answer(load_rubric()["Q3"], text).details["semantic"].startswith("off")  # the default
    monkeypatch.setenv("VITGRADE_WRITTEN_SEMANTIC", "1")
    outcome = score_answer(load_rubric()["Q3"], text)
    assert outcome.details["semantic"] == "on" and outcome.details["found_by_meaning"], outcome.details


@pytest.mark.slow
def test_the_marked_corpus_stays_within_its_tolerances_with_the_signal_on(monkeypatch):
    """The calibration corpus (tests/fixtures/written_corpus) with the signal on: its own test's limits."""
    from test_written_corpus import OUTLIERS, OVER_CREDIT, SET_MAD, SETS, TOLERANCE
    from written_agreement import agreement, grade_set, marks_of

    monkeypatch.setenv("VITGRADE_WRITTEN_SEMANTIC", "1")
    figures = agreement({f.name: (grade_set(f), marks_of(f)) for f in SETS}, TOLERANCE)
    assert len(figures["outside_tolerance"]) <= OUTLIERS * figures["answers"], figures["outside_tolerance"]
    assert figures["mean_abs_diff_per_set_summed"] < SET_MAD, figures
    assert max(figures["mean_over_credit_share_by_question"].values()) <= OVER_CREDIT, figures


@pytest.mark.xfail(strict=True, reason="known limit: the patterns credit a negated statement (see docs)")
def test_a_statement_that_only_negates_the_idea_earns_nothing_from_the_patterns():
    rubric = load_rubric()["Q3"]
    text = "Self-attention does not look at the whole image, only at a small window around each patch."
    assert score_answer(rubric, text, semantic=OFF).fraction == 0
