"""Terse notes, lists and negations in written answers: what a TA credits without full sentences, and what not."""

import pytest

from grader.checks.written import load_rubric, score_answer
from grader.checks.written_profile import describe, is_note
from grader.checks.written_text import normalise, words


def score(question: str, text: str):
    return score_answer(load_rubric()[question], text)


def found(outcome, part: str) -> bool:
    return any(part in name for name in outcome.details["found"])


@pytest.mark.parametrize(
    "note",
    ["every token sees the others", "scores depend on content", "cost = N^2", "more heads -> slower", "params linear"],
)
def test_short_clauses_that_relate_their_terms_are_notes(note):
    assert is_note(words(normalise(note)))


@pytest.mark.parametrize(
    "term", ["quadratic cost", "attention maps", "learned positional embedding", "number of tokens", "global pooling"]
)
def test_noun_phrases_are_not_notes(term):
    assert not is_note(words(term))


def test_terse_notes_earn_full_credit_without_a_cap():
    text = (
        "- SA: any token ↔ any token in one layer, conv = local window\n- scores depend on content\n- N^2 cost, memory"
    )
    outcome = score("Q3", text)
    assert not outcome.details["keyword_soup"], outcome.details
    assert outcome.fraction == pytest.approx(1.0), outcome.message


def test_runs_of_terms_stay_keyword_soup():
    text = "embed_dim width capacity parameters cost; patch_size tokens detail; nb_blocks depth deeper more layers"
    outcome = score("Q6c", text)
    assert outcome.details["keyword_soup"] and outcome.fraction <= 1 / 3 + 1e-9


def test_a_labelled_list_answers_what_q7_asks_but_a_bare_list_does_not():
    labelled = "Settings: D 32, patch 4, lr 3e-4. Result: 96.8% test accuracy.\nTo improve: mixup, longer schedule."
    bare = "AdamW, lr 3e-4, 96.8%, mixup, cosine, O(N^2), Performer, ToMe"
    assert not describe(normalise(labelled), lists="labelled").keyword_soup
    outcome = score("Q7", bare)
    assert outcome.details["keyword_soup"] and outcome.fraction <= 1 / 3 + 1e-9


def test_a_short_list_of_distinct_ideas_answers_q8d():
    outcome = score("Q8d", "Knowledge distillation, a convolutional stem, RandAugment, self-supervised pretraining")
    assert not outcome.details["keyword_soup"] and outcome.fraction == pytest.approx(1.0), outcome.message
    assert outcome.details["confidence"] != "high" and outcome.details["needs_review"], outcome.details
    longer = "- distillation (DeiT)\n- conv stem / hybrid\n- heavy aug + reg (mixup)\n- MAE pretraining + fine-tuning"
    reasons = score("Q8d", longer).details["confidence_reasons"]
    assert "answered mostly by a list of names" in reasons, reasons


def test_a_list_longer_than_the_ideas_asked_for_is_capped():
    items = "DeiT, distillation, teacher, CCT, conv stem, hybrid, mixup, CutMix, dropout, MAE, DINO, BEiT"
    outcome = score("Q8d", items)
    assert outcome.details["keyword_soup"] and outcome.fraction <= 1 / 3 + 1e-9
    bullets = "\n".join(f"- {item.strip()}" for item in items.split(","))
    assert score("Q8d", bullets).fraction <= 1 / 3 + 1e-9


@pytest.mark.parametrize(
    ("question", "text", "concept"),
    [
        ("Q3", "The compute is not linear in the length; it grows with the square of the token count.", "quadratic"),
        ("Q3", "Attention is not local at all: a patch can use any location of the image.", "global"),
        ("Q5", "We do the normalisation first and after that the attention, then we add the input back.", "LayerNorm"),
    ],
)
def test_a_misconception_stated_in_the_negative_is_not_a_contradiction(question, text, concept):
    outcome = score(question, text)
    assert found(outcome, concept), outcome.message
    assert not outcome.details["contradicted"], outcome.message


@pytest.mark.parametrize(
    ("question", "text", "concept"),
    [
        ("Q5", "Each sub-layer has a skip connection, but with pre-norm the residuals are not needed.", "residual"),
        (
            "Q6a",
            "It collects the patches' information, but the classifier never uses it: it averages the tokens.",
            "head",
        ),
        ("Q6c", "The embedding dimension has no effect on the parameter count, only on the accuracy.", "embed_dim"),
        ("Q8a", "ViT needs 224 px; a CNN accepts any number of input channels since its kernels slide.", "channel"),
        ("Q8d", "Distillation helps, but pretraining does not help when the data set is small.", "pretraining"),
        ("Q7", "It is O(N^2 d); to reduce it, use smaller patches, which lowers the cost of each token.", "reduce"),
    ],
)
def test_the_right_terms_with_the_wrong_conclusion_earn_nothing(question, text, concept):
    outcome = score(question, text)
    assert any(concept in name for name in outcome.details["contradicted"]), outcome.message
    assert not found(outcome, concept)


@pytest.mark.parametrize(
    ("question", "text", "concept"),
    [
        ("Q3", "The self-attention let each patch regard all the other patchs.", "global"),
        ("Q3", "Its weights depends of the picture itself.", "content"),
        ("Q3", "If the number of tokens doubles, the work becomes four times bigger.", "quadratic"),
        ("Q4", "At the end the heads are glued together into one long vector.", "concatenated"),
        ("Q4", "Then the result goes through one more linear layer.", "output projection"),
        ("Q5", "norm -> attention -> add the input; norm -> MLP -> add the input", "LayerNorm"),
        ("Q5", "norm -> attention -> add the input; norm -> MLP -> add the input", "residual"),
        ("Q6a", "So the classification only needs to use this token.", "head reads"),
        ("Q6b", "The model dont know the order of the patches.", "no notion of order"),
        ("Q6b", "Learned = trainable params.", "learned"),
        ("Q6b", "The sine one is computed from a fixed function, so there is nothing to train.", "sinusoidal"),
        ("Q7", "Increasing the blocks improved the accuracy a little.", "affected"),
        ("Q7", "The cost is N square because of attention.", "quadratic"),
        ("Q8a", "For a CNN the size is fine thanks to the pooling, but the channels are still a problem.", "channel"),
        ("Q8a", "A ResNet pools globally, so any size works, but its stem conv fixes C_in = 3 as well.", "channel"),
        ("Q7", "When we tried a batch of 512 the training became unstable.", "affected"),
        ("Q6a", "At the end only this token is given to the linear classifier.", "head reads"),
        ("Q6b", "Attention on its own is not able to know the order of the tokens.", "no notion of order"),
        ("Q6b", "A position vector is added to each patch token.", "injects"),
    ],
)
def test_paraphrases_typos_and_non_native_forms_are_credited(question, text, concept):
    outcome = score(question, text)
    assert found(outcome, concept), outcome.message


def test_a_misconception_about_the_neighbouring_idea_only_voids_its_own_sentence():
    right = "The learned embedding is a table of weights trained with the model. "
    outcome = score("Q6b", right + "The sinusoidal one is learned too.")
    assert found(outcome, "learned") and not found(outcome, "sinusoidal"), outcome.message
    alone = score("Q6b", "The sinusoidal encoding is learned during training, like the other weights.")
    assert not found(alone, "learned"), alone.message


def test_restating_the_question_earns_nothing():
    outcome = score("Q4", "How is the embedding split among the heads? It is split among the heads.")
    assert outcome.fraction == 0 and outcome.details["copied_question_words"] > 0, outcome.message
    assert found(score("Q4", "It is split equally among the heads, D/h each."), "split")


def test_glosses_and_joined_alternatives_are_one_list_item():
    text = "- DeiT distillation\n- conv stem / hybrid\n- heavy aug + reg (mixup, cutmix, stochastic depth)\n- MAE"
    assert score("Q8d", text).fraction == pytest.approx(1.0)


def test_words_of_other_alphabets_and_informal_relations_are_read():
    assert words("pré-entraînement Größe") == ["pré", "entraînement", "größe"]
    outcome = score(
        "Q6c", "bigger embed dim = more parameter and more slow. smaller patch size = more token so more compute."
    )
    assert not outcome.details["keyword_soup"] and found(outcome, "embed_dim") and found(outcome, "patch_size")


def test_a_labelled_note_answers_q8a_but_a_list_of_terms_with_a_colon_does_not():
    terse = "Fixed 224 grid (pos emb 197) and 3 input channels.\nCNN + GAP: any size; still 3 channels."
    assert not score("Q8a", terse).details["keyword_soup"]
    assert score("Q8a", "224x224, 3 channels, pos_embed 197, CNN: global pooling").details["keyword_soup"]
