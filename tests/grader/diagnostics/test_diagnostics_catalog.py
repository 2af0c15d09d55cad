"""The known-mistake variants: same weights as the reference, a different output, recognised by matching."""

import pytest
import torch

from grader.checks.compare import Tolerance, is_close
from grader.diagnostics import MISTAKES, applicable, diagnose_function, diagnose_module, with_mistakes
from grader.diagnostics.catalog import Mistake, register
from reference import MLP, MultiHeadSelfAttention, PatchEmbedding, SelfAttention, TransformerBlock, ViT
from reference.positional_encoding import sinusoidal_positional_encoding

TOL = Tolerance(atol=1e-5, rtol=1e-4)
MODULES = {
    PatchEmbedding: (dict(img_size=28, patch_size=7, in_chans=1, embed_dim=32), (2, 1, 28, 28)),
    MLP: (dict(in_features=16, hidden_features=32), (2, 5, 16)),
    SelfAttention: (dict(embed_dim=16), (2, 6, 16)),
    MultiHeadSelfAttention: (dict(embed_dim=32, num_heads=4), (2, 6, 32)),
    TransformerBlock: (dict(embed_dim=32, num_heads=4), (2, 6, 32)),
    ViT: (dict(embed_dim=32, nb_blocks=2, num_heads=4), (2, 1, 28, 28)),
}
MODULE_MISTAKES = sorted(m.id for m in MISTAKES.values() if m.target is not None)
FUNCTION_MISTAKES = sorted(m.id for m in MISTAKES.values() if m.function is not None)


def seeded(cls, seed=0):
    """A reference module with every parameter random (LayerNorm and [CLS] included), as the checks build them."""
    kwargs, shape = MODULES[cls]
    torch.manual_seed(seed)
    module = cls(**kwargs).eval()
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "norm" in name or name in ("cls_token", "pos_embed"):
                p.add_(0.5 * torch.randn_like(p))
    return module, torch.randn(*shape)


@pytest.mark.parametrize("mistake_id", MODULE_MISTAKES)
def test_variant_loads_the_reference_state_strictly_and_changes_the_output(mistake_id):
    mistake = MISTAKES[mistake_id]
    reference, x = seeded(mistake.target)
    kwargs, _ = MODULES[mistake.target]
    variant = mistake.variant(**kwargs).eval()
    variant.load_state_dict(reference.state_dict(), strict=True)
    assert set(variant.state_dict()) == set(reference.state_dict())
    with torch.no_grad():
        out, expected = variant(x), reference(x)
    assert out.shape == expected.shape
    assert not is_close(out, expected, TOL)
    assert is_close(out, with_mistakes(reference, [mistake])(x).detach(), TOL)


@pytest.mark.parametrize("mistake_id", MODULE_MISTAKES)
def test_diagnosis_names_exactly_the_mistake_made(mistake_id):
    mistake = MISTAKES[mistake_id]
    reference, x = seeded(mistake.target, seed=3)
    with torch.no_grad():
        got = with_mistakes(reference, [mistake])(x)
    found = diagnose_module(reference, x, got, TOL)
    assert [d.ids for d in found] == [[mistake_id]]


def test_with_mistakes_leaves_the_reference_untouched():
    reference, x = seeded(ViT)
    before = reference(x).detach()
    with_mistakes(reference, [MISTAKES["q4.no_scaling"], MISTAKES["q5.post_norm"]])
    diagnose_module(reference, x, before * 2, TOL)  # tries every single mistake and pair in place
    assert type(reference.blocks[0].attn) is MultiHeadSelfAttention
    assert {type(m) for m in reference.modules()} == {type(m) for m in seeded(ViT)[0].modules()}
    assert torch.equal(reference(x).detach(), before)


def test_mistakes_compose_and_a_pair_is_named():
    reference, x = seeded(ViT, seed=5)
    pair = [MISTAKES["q4.no_scaling"], MISTAKES["q6.no_final_norm"]]
    with torch.no_grad():
        got = with_mistakes(reference, pair)(x)
    found = diagnose_module(reference, x, got, Tolerance(atol=1e-4, rtol=1e-3))
    assert [sorted(d.ids) for d in found] == [["q4.no_scaling", "q6.no_final_norm"]]
    assert "and" in found[0].describe("a ViT")


def test_unknown_mistakes_are_not_named():
    reference, x = seeded(MultiHeadSelfAttention)
    with torch.no_grad():
        got = reference(x) * 1.5  # wrong, but like no known mistake
    assert diagnose_module(reference, x, got, TOL) == []


def test_applicable_mistakes_follow_the_module_tree():
    vit_questions = {m.question for m in applicable(seeded(ViT)[0])}
    assert vit_questions == {"Q1", "Q2", "Q4", "Q5", "Q6"}  # a ViT has no single-head SelfAttention (Q3)
    assert {m.question for m in applicable(seeded(SelfAttention)[0])} == {"Q3"}
    assert {m.question for m in applicable(seeded(TransformerBlock)[0])} == {"Q2", "Q4", "Q5"}


CONFIGS = [(17, 64), (10, 7), (65, 33)]


@pytest.mark.parametrize("mistake_id", FUNCTION_MISTAKES)
def test_positional_variants_differ_and_are_named(mistake_id):
    mistake = MISTAKES[mistake_id]
    tables = [mistake.function(n, d) for n, d in CONFIGS]
    pairs = list(zip(tables, CONFIGS, strict=True))
    assert all(t.shape == (n, d) and t.dtype == torch.float32 for t, (n, d) in pairs)
    assert any(not is_close(t, sinusoidal_positional_encoding(n, d), TOL) for t, (n, d) in pairs)
    found = diagnose_function(CONFIGS, tables, sinusoidal_positional_encoding, TOL)
    assert [d.ids for d in found] == [[mistake_id]]


def test_register_refuses_duplicates_and_foreign_variants():
    with pytest.raises(ValueError, match="Duplicate"):
        register(MISTAKES["q5.post_norm"])
    with pytest.raises(TypeError, match="subclass"):
        register(Mistake(id="x.bad", question="Q5", name="n", hint="h", target=TransformerBlock, variant=MLP))


def test_diagnostics_import_first_without_a_cycle():
    """grader.checks imports every check module, which import grader.diagnostics: no cycle back."""
    import subprocess
    import sys

    code = "import grader.diagnostics; import grader.checks"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
