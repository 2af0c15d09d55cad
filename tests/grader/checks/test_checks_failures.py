"""Failures explain themselves: shapes with the configuration, errors with the tolerance, state_dict keys."""

import pytest
import torch
from checks_support import InProcessSandbox, grade

from grader.checks.compare import Tolerance, difference, fmt_shape, require_tensor
from grader.checks.registry import CheckFailed
from reference.bundle import bundle_submission

REFERENCE = bundle_submission()


def graded(check_id: str, source: str):
    box = InProcessSandbox(source)
    try:
        return grade(check_id, box, source)
    finally:
        box.close()


def test_shape_failure_names_expected_got_and_config():
    source = (
        REFERENCE
        + """
class PatchEmbedding(PatchEmbedding):
    def forward(self, x):
        return self.proj(x).flatten(2)  # (B, D, N): the transpose forgotten
"""
    )
    verdict = graded("q1.shape", source)
    assert verdict.status == "failed"
    assert "expected shape (3, 16, 64), got (3, 64, 16)" in verdict.message
    assert "patch_size=7" in verdict.message


def test_other_names_are_graded_under_the_contract_names_and_cost_only_the_contract_check():
    source = (
        REFERENCE
        + """
class MLP(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.linear1 = nn.Linear(in_features, hidden_features)
        self.linear2 = nn.Linear(hidden_features, in_features)

    def forward(self, x):
        return self.linear2(torch.nn.functional.gelu(self.linear1(x)))
"""
    )
    for check_id in ("q2.equivalence", "q2.property"):
        verdict = graded(check_id, source)
        assert (verdict.status, verdict.fraction) == ("passed", 1.0), verdict.message
    assert any("rename it to fc1" in note for note in graded("q2.equivalence", source).details["notes"])
    verdict = graded("q2.contract", source)
    assert verdict.status == "failed"
    assert "your self.linear1 is the contract's self.fc1 under another name" in verdict.message
    assert "rename it to fc2" in verdict.message


def test_a_parameter_set_that_cannot_be_mapped_is_explained_in_the_lab_terms():
    source = (
        REFERENCE
        + """
class MultiHeadSelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.h = num_heads
        self.W_q, self.W_k, self.W_v, self.W_o = (nn.Parameter(torch.randn(embed_dim, embed_dim)) for _ in range(4))

    def forward(self, x):
        B, N, D = x.shape
        q, k, v = (t.view(B, N, self.h, -1).transpose(1, 2) for t in (x @ self.W_q, x @ self.W_k, x @ self.W_v))
        a = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(D // self.h), dim=-1)
        return (a @ v).transpose(1, 2).reshape(B, N, D) @ self.W_o
"""
    )
    for check_id in ("q4.equivalence", "q4.property", "q4.contract"):
        verdict = graded(check_id, source)
        assert verdict.status == "failed", check_id
        assert (
            "the contract's parameter q.weight (shape (64, 64), in nn.Linear(64, 64) self.q) is missing"
            in (verdict.message)
            or "self.q) is missing" in verdict.message
        ), verdict.message
        assert "Missing key" not in verdict.message and "Unexpected key" not in verdict.message
    assert graded("q4.equivalence", source).details["expected_keys"]["q.weight"] == [64, 64]


def test_unknown_wrong_output_gets_the_default_hint_and_figures():
    source = (
        REFERENCE
        + """
class SelfAttention(SelfAttention):
    def forward(self, x):
        return 1.01 * super().forward(x)
"""
    )
    verdict = graded("q3.equivalence", source)
    assert verdict.status == "failed"
    assert "max abs error" in verdict.message and "atol=1e-05, rtol=0.0001" in verdict.message
    assert verdict.details["known_mistakes"] == []
    assert verdict.hint.startswith("Q = self.q(x)")


def test_wrong_gradient_is_reported_apart_from_the_output():
    source = (
        REFERENCE
        + """
class MLP(MLP):
    def forward(self, x):
        out = super().forward(x)
        return out.detach() + 0.0 * x  # right values, no gradient through the MLP
"""
    )
    verdict = graded("q2.equivalence", source)
    assert verdict.status == "failed"
    assert "gradient with respect to the input" in verdict.message
    assert ".detach()" in verdict.hint


def test_parameter_count_defends_against_extra_weights():
    source = (
        REFERENCE
        + """
class ViT(ViT):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.secret = nn.Linear(784, 10)  # an embedded classifier
"""
    )
    verdict = graded("q6.parameters", source)
    assert verdict.status == "failed" and "parameters, expected" in verdict.message
    verdict = graded("q6.contract", source)
    assert verdict.status == "failed"
    assert "your ViT has secret.weight (shape (10, 784)), which the contract does not list" in verdict.message


def test_q6_property_gives_partial_credit_with_reasons():
    source = (
        REFERENCE
        + """
class ViT(ViT):
    def forward(self, x):
        x = self.patch_embed(x)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed
        return self.head(self.norm(self.blocks(x)).mean(dim=1))
"""
    )
    verdict = graded("q6.property", source)
    assert verdict.status == "failed" and verdict.fraction == pytest.approx(2 / 3)
    assert "mean pooling" in verdict.message


def test_q3_property_catches_a_causal_mask():
    source = (
        REFERENCE
        + """
class SelfAttention(SelfAttention):
    def attention_weights(self, x):
        scores = self.q(x) @ self.k(x).transpose(-2, -1) / math.sqrt(self.embed_dim)
        mask = torch.ones(x.shape[1], x.shape[1], dtype=torch.bool).tril()
        return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)
"""
    )
    verdict = graded("q3.property", source)
    assert verdict.status == "failed" and "permutation-equivariant" in verdict.hint


def test_compare_helpers():
    tol = Tolerance(atol=1e-5, rtol=1e-4)
    got, expected = torch.zeros(2, 3), torch.zeros(2, 3)
    got[1, 2] = 0.5
    diff = difference(got, expected, tol)
    assert (diff.max_abs_error, diff.index, diff.within) == (0.5, (1, 2), False)
    assert difference(expected, expected, tol).within
    assert str(tol.on("cuda")) == "atol=0.002, rtol=0.002" and tol.on("cpu") is tol
    assert fmt_shape((4,)) == "(4,)"
    with pytest.raises(CheckFailed, match="NaN"):
        require_tensor(torch.tensor([1.0, float("nan")]), "output")
    with pytest.raises(CheckFailed, match="expected a torch.Tensor"):
        require_tensor([1.0], "output")


def test_permute_patches_moves_whole_patches():
    from grader.checks.q6_vit import permute_patches

    x = torch.arange(2 * 28 * 28.0).view(2, 1, 28, 28)
    perm = torch.randperm(16, generator=torch.Generator().manual_seed(0))
    y = permute_patches(x, perm, patch=7)
    for j in range(16):
        (r, c), (pr, pc) = divmod(j, 4), divmod(int(perm[j]), 4)
        moved = y[..., r * 7 : r * 7 + 7, c * 7 : c * 7 + 7]
        assert torch.equal(moved, x[..., pr * 7 : pr * 7 + 7, pc * 7 : pc * 7 + 7])
