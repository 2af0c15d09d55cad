"""When a diagnosis is shown: a variant that matches within tolerance, else one that explains 90 % of the error."""

import pytest
import torch

from grader.checks.compare import Tolerance
from grader.diagnostics import MISTAKES, diagnose_module, hint_from, with_mistakes
from grader.diagnostics.match import EXPLAINED
from reference import MLP, MultiHeadSelfAttention, SelfAttention, ViT

TOL = Tolerance(atol=1e-5, rtol=1e-4)
NEW = {
    "q2.activation_after_output": "Q2",
    "q3.softmax_before_scaling": "Q3",
    "q3.no_projection": "Q3",
    "q4.softmax_before_scaling": "Q4",
    "q4.block_diagonal_projections": "Q4",
    "q4.no_projection": "Q4",
    "q6.mean_pooling": "Q6",
    "q6.probabilities": "Q6",
    "q6.pos_embed_patches_only": "Q6",
    "q6.pos_embed_patches_first_rows": "Q6",
}


def seeded(cls, kwargs, shape, seed=0):
    torch.manual_seed(seed)
    module = cls(**kwargs).eval()
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "norm" in name or name in ("cls_token", "pos_embed"):
                p.add_(0.5 * torch.randn_like(p))
    return module, torch.randn(*shape)


def outputs(mistake_id, seed=0):
    cls, kwargs, shape = {
        "Q2": (MLP, dict(in_features=16, hidden_features=32), (2, 5, 16)),
        "Q3": (SelfAttention, dict(embed_dim=16), (2, 6, 16)),
        "Q4": (MultiHeadSelfAttention, dict(embed_dim=32, num_heads=4), (2, 6, 32)),
        "Q6": (ViT, dict(embed_dim=32, nb_blocks=2, num_heads=4), (2, 1, 28, 28)),
    }[MISTAKES[mistake_id].question]
    reference, x = seeded(cls, kwargs, shape, seed)
    with torch.no_grad():
        return reference, x, reference(x), with_mistakes(reference, [MISTAKES[mistake_id]])(x)


@pytest.mark.parametrize("mistake_id", sorted(NEW))
def test_the_named_mistakes_live_in_their_question(mistake_id):
    assert MISTAKES[mistake_id].question == NEW[mistake_id]


@pytest.mark.parametrize("mistake_id", ["q4.softmax_before_scaling", "q2.activation_after_output", "q6.probabilities"])
def test_a_variant_that_explains_most_of_the_error_is_named_as_closest(mistake_id):
    reference, x, expected, variant = outputs(mistake_id)
    error = (variant - expected).abs().max()
    noise = torch.randn(variant.shape, generator=torch.Generator().manual_seed(1))
    got = variant + 0.03 * error * noise / noise.abs().max()  # 3 % of the error left unexplained
    found = diagnose_module(reference, x, got, TOL)
    assert [d.ids for d in found] == [[mistake_id]]
    assert not found[0].exact and EXPLAINED <= found[0].explained < 1.0
    hint, matched = hint_from(found, "a module", "DEFAULT")
    assert hint.startswith("Your output is closest to") and MISTAKES[mistake_id].name in hint and matched


@pytest.mark.parametrize("mistake_id", ["q4.softmax_before_scaling", "q3.no_projection", "q6.mean_pooling"])
def test_a_variant_that_explains_half_of_the_error_is_not_named(mistake_id):
    reference, x, expected, variant = outputs(mistake_id)
    got = 0.5 * (variant + expected)  # halfway: the mistake explains only half of what is wrong
    found = diagnose_module(reference, x, got, TOL)
    assert found == []
    assert hint_from(found, "a module", "DEFAULT") == ("DEFAULT", [])


def test_an_exact_match_wins_over_close_ones():
    reference, x, _, variant = outputs("q4.no_scaling")
    found = diagnose_module(reference, x, variant, TOL)
    assert [d.ids for d in found] == [["q4.no_scaling"]] and found[0].exact
    assert found[0].describe("a MultiHeadSelfAttention").startswith("Your output matches")


def test_block_diagonal_equals_the_reference_with_one_head():
    """With one head the diagonal block is the whole matrix: nothing to name, as the criterion requires."""
    reference, x = seeded(MultiHeadSelfAttention, dict(embed_dim=16, num_heads=1), (2, 5, 16))
    with torch.no_grad():
        variant = with_mistakes(reference, [MISTAKES["q4.block_diagonal_projections"]])(x)
        assert torch.allclose(variant, reference(x), atol=1e-6)
    assert diagnose_module(reference, x, variant, TOL) == []
