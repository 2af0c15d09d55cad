"""Right maths in another structure is graded on its maths; a configuration where a mistake vanishes earns
nothing; torch.nn library modules are graded on their maths through their own parameter names."""

import textwrap

import torch
from checks_support import InProcessSandbox, grade
from torch import nn

from grader.checks.contract import fit_state, plan_state
from grader.checks.key_maps import find_sequential, is_flattened
from reference.bundle import bundle_submission
from reference.mlp import MLP
from reference.patch_embedding import PatchEmbedding
from reference.transformer_block import TransformerBlock

SEQUENTIAL_MLP = """
class MLP(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden_features), nn.GELU(), nn.Linear(hidden_features, in_features)
        )

    def forward(self, x):
        return self.net(x)
"""
LINEAR_PATCHES = """
class PatchEmbedding(nn.Module):
    def __init__(self, img_size=28, patch_size=7, in_chans=1, embed_dim=64):
        super().__init__()
        self.img_size, self.patch_size = img_size, patch_size
        self.num_patches = (img_size // patch_size) ** 2
        self.proj = nn.Linear(in_chans * patch_size * patch_size, embed_dim)

    def forward(self, x):
        B, C, H, W = x.shape
        p = self.patch_size
        patches = x.unfold(2, p, p).unfold(3, p, p)  # (B, C, H/p, W/p, p, p)
        return self.proj(patches.permute(0, 2, 3, 1, 4, 5).reshape(B, -1, C * p * p))  # (B, N, C*p*p)
"""
SPLIT_WITHOUT_TRANSPOSE = """
class MultiHeadSelfAttention(MultiHeadSelfAttention):
    def forward(self, x):
        B, N, D = x.shape
        h = self.num_heads
        q, k, v = (f(x).reshape(B, h, N, D // h) for f in (self.q, self.k, self.v))  # (B, h, N, d_h), no transpose
        a = (q @ k.transpose(-2, -1) / math.sqrt(D // h)).softmax(dim=-1)  # (B, h, N, N)
        return self.proj((a @ v).reshape(B, N, D))  # (B, N, D)
"""
LIBRARY_ATTENTION = """
class MultiHeadSelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.mha = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)

    def forward(self, x):
        return self.mha(x, x, x, need_weights=False)[0]
"""
BLOCK_DIAGONAL_ATTENTION = """
class MultiHeadSelfAttention(MultiHeadSelfAttention):
    def __init__(self, embed_dim, num_heads):
        super().__init__(embed_dim, num_heads)
        d_h = embed_dim // num_heads
        self.q, self.k, self.v = (nn.ModuleList(nn.Linear(d_h, d_h) for _ in range(num_heads)) for _ in range(3))

    def forward(self, x):
        d_h = self.embed_dim // self.num_heads
        heads = []
        for i in range(self.num_heads):
            x_i = x[..., i * d_h : (i + 1) * d_h]  # (B, N, d_h): this head's slice only
            a = (self.q[i](x_i) @ self.k[i](x_i).transpose(-2, -1) / math.sqrt(d_h)).softmax(dim=-1)  # (B, N, N)
            heads.append(a @ self.v[i](x_i))
        return self.proj(torch.cat(heads, dim=-1))  # (B, N, D)
"""
RENAMED_NORM_BLOCK = """
class TransformerBlock(TransformerBlock):
    def __init__(self, embed_dim, num_heads, mlp_ratio=4.0):
        super().__init__(embed_dim, num_heads, mlp_ratio)
        self.norm1.weight = nn.Parameter(torch.ones(2, embed_dim))  # (2, D): the block's own, not the contract's

    def forward(self, x):
        normed = nn.functional.layer_norm(x, x.shape[-1:]) * self.norm1.weight[0] + self.norm1.bias  # (B, N, D)
        x = x + self.attn(normed)
        return x + self.mlp(self.norm2(x))
"""


def _grade(check_id: str, *bodies: str):
    source = bundle_submission() + "".join("\n\n" + textwrap.dedent(body) for body in bodies)
    box = InProcessSandbox(source)
    try:
        return grade(check_id, box, source)
    finally:
        box.close()


def test_a_sequential_mlp_maps_in_order_and_only_with_the_contract_shapes():
    student = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 8))
    reference = MLP(8, 16)
    shapes = {f"net.{key}": tuple(value.shape) for key, value in student.state_dict().items()}
    plan = plan_state(reference, shapes, "MLP")
    assert plan.gradable and plan.renamed == {
        "net.0.weight": "fc1.weight",
        "net.0.bias": "fc1.bias",
        "net.2.weight": "fc2.weight",
        "net.2.bias": "fc2.bias",
    }
    assert any("nn.Sequential" in sentence for sentence in plan.differences)
    state = fit_state(reference.state_dict(), plan, {})
    student.load_state_dict({key.removeprefix("net."): value for key, value in state.items()}, strict=True)
    x = torch.randn(2, 3, 8)
    assert torch.allclose(student(x), reference(x))
    expected = {key: tuple(value.shape) for key, value in reference.state_dict().items()}
    wider = {**shapes, "net.2.weight": (8, 32)}  # another hidden width: not the contract's layers
    assert find_sequential(expected, wider) == {}
    assert find_sequential(expected, {**shapes, "net.4.weight": (8, 8)}) == {}  # a third layer


def test_a_flattened_weight_is_only_the_contract_s_with_its_trailing_axes_merged():
    assert is_flattened((64, 3, 7, 7), (64, 147))
    assert not is_flattened((64, 3, 7, 7), (147, 64))
    assert not is_flattened((64, 3, 7, 7), (64, 146))
    assert not is_flattened((64, 49), (64, 49))
    plan = plan_state(PatchEmbedding(28, 7, 3, 64), {"proj.weight": (64, 147), "proj.bias": (64,)}, "PatchEmbedding")
    assert plan.gradable and plan.flattened == {"proj.weight": (64, 147)} and len(plan.differences) == 1
    assert not plan_state(PatchEmbedding(28, 7, 3, 64), {"proj.weight": (64, 146), "proj.bias": (64,)}, "X").gradable


def test_a_sequential_mlp_earns_the_maths_and_loses_the_contract_point():
    assert _grade("q2.equivalence", SEQUENTIAL_MLP).status == "passed"
    contract = _grade("q2.contract", SEQUENTIAL_MLP)
    assert contract.status == "failed" and "nn.Sequential" in contract.message


def test_a_linear_patch_projection_earns_the_maths_and_loses_the_contract_point():
    verdict = _grade("q1.equivalence", LINEAR_PATCHES)
    assert verdict.status == "passed", verdict.message
    contract = _grade("q1.contract", LINEAR_PATCHES)
    assert contract.status == "failed" and "(64, 49)" in contract.message


def test_a_configuration_where_the_mistake_vanishes_earns_nothing():
    """Heads split without a transpose are right with one head only: that configuration earns no share."""
    verdict = _grade("q4.equivalence", SPLIT_WITHOUT_TRANSPOSE)
    assert verdict.status == "failed" and verdict.fraction == 0.0, verdict.message
    vanished = [case for case in verdict.details["cases"] if case.get("vanished_mistakes")]
    assert [case["config"]["num_heads"] for case in vanished] == [1]
    assert "earns nothing" in verdict.message


def test_library_attention_is_graded_on_its_maths_inside_the_block():
    """nn.MultiheadAttention's in_proj_weight and out_proj are the contract's q, k, v and proj."""
    verdict = _grade("q5.end_to_end", LIBRARY_ATTENTION)
    assert verdict.status == "passed", verdict.message


def test_misconfigured_library_attention_is_charged_end_to_end():
    """Without batch_first the library attends over the batch: the block's run with it is wrong."""
    verdict = _grade("q5.end_to_end", LIBRARY_ATTENTION.replace(", batch_first=True", ""))
    assert verdict.status == "failed" and "differs" in verdict.message, verdict.message


def test_a_library_encoder_layer_maps_onto_the_block():
    student = nn.TransformerEncoderLayer(
        16, 4, 32, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
    ).eval()
    reference = TransformerBlock(16, 4, 2.0).eval()
    shapes = {f"layer.{key}": tuple(value.shape) for key, value in student.state_dict().items()}
    plan = plan_state(reference, shapes, "TransformerBlock")
    assert plan.gradable and plan.fused["layer.self_attn.in_proj_weight"] == [
        "attn.q.weight",
        "attn.k.weight",
        "attn.v.weight",
    ]
    assert plan.renamed["layer.linear1.weight"] == "mlp.fc1.weight" and plan.renamed["layer.norm2.bias"] == "norm2.bias"
    state = fit_state(reference.state_dict(), plan, {})
    student.load_state_dict({key.removeprefix("layer."): value for key, value in state.items()}, strict=True)
    x = torch.randn(2, 5, 16)
    assert torch.allclose(student(x), reference(x), atol=1e-5)
    wide = {**shapes, "layer.linear1.weight": (2048, 16), "layer.linear1.bias": (2048,)}  # the default width
    assert not plan_state(reference, wide, "TransformerBlock").gradable


def test_unmappable_attention_is_charged_end_to_end():
    """Nothing shows the attention's maths is right: the block's run with it stays charged."""
    verdict = _grade("q5.end_to_end", BLOCK_DIAGONAL_ATTENTION)
    assert verdict.status == "failed" and "cannot load" in verdict.message


def test_the_block_s_own_unmappable_parameters_still_fail_end_to_end():
    verdict = _grade("q5.end_to_end", RENAMED_NORM_BLOCK)
    assert verdict.status == "failed" and "cannot load" in verdict.message
