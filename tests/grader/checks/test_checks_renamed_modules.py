"""Public ViT code names its sub-modules its own way (``self.attention`` holding a fused ``qkv`` and an ``fc``
projection, ``self.transformer_blocks``, a ``linear_mapper`` patch projection): graded on its maths, with the
renaming charged to the contract check only, and Q5/Q6 stand-ins put in place under the student's names."""

import textwrap

import torch
from checks_support import InProcessSandbox, grade
from torch import nn

from grader.checks.contract import fit_state, plan_state
from grader.checks.module_renames import find_module_renames
from reference.bundle import bundle_submission
from reference.mlp import MLP
from reference.multi_head_attention import MultiHeadSelfAttention
from reference.patch_embedding import PatchEmbedding
from reference.transformer_block import TransformerBlock
from reference.vit import ViT

FUSED_WITH_FC = """
class MultiHeadSelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.num_heads, self.head_dim = num_heads, embed_dim // num_heads
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim)
        self.fc = nn.Linear(embed_dim, embed_dim)

    def forward(self, x):
        B, N, D = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)  # (3, B, h, N, d_h)
        a = (qkv[0] @ qkv[1].transpose(-2, -1) * self.head_dim**-0.5).softmax(dim=-1)  # (B, h, N, N)
        return self.fc((a @ qkv[2]).transpose(1, 2).reshape(B, N, D))  # (B, N, D)
"""
RENAMED_BLOCK = """
class TransformerBlock(nn.Module):
    def __init__(self, embed_dim, num_heads, mlp_ratio=4.0):
        super().__init__()
        self.ln_a = nn.LayerNorm(embed_dim)
        self.attention = MultiHeadSelfAttention(embed_dim, num_heads)
        self.ln_b = nn.LayerNorm(embed_dim)
        self.feed_forward = MLP(embed_dim, int(embed_dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attention(self.ln_a(x))
        return x + self.feed_forward(self.ln_b(x))
"""
UNSCALED_ATTENTION = """
class MultiHeadSelfAttention(MultiHeadSelfAttention):
    def forward(self, x):
        B, N, D = x.shape
        h = self.num_heads
        q, k, v = (f(x).reshape(B, N, h, D // h).transpose(1, 2) for f in (self.q, self.k, self.v))  # (B, h, N, d_h)
        return self.proj(((q @ k.transpose(-2, -1)).softmax(dim=-1) @ v).transpose(1, 2).reshape(B, N, D))
"""


def _grade(check_id: str, *bodies: str):
    source = bundle_submission() + "".join("\n\n" + textwrap.dedent(body) for body in bodies)
    box = InProcessSandbox(source)
    try:
        return grade(check_id, box, source)
    finally:
        box.close()


def _shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {key: tuple(value.shape) for key, value in module.state_dict().items()}


class _FusedWithFc(nn.Module):
    def __init__(self, d: int, h: int):
        super().__init__()
        self.h = h
        self.qkv, self.fc = nn.Linear(d, 3 * d), nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.h, D // self.h).permute(2, 0, 3, 1, 4)  # (B, h, N, d_h) each
        a = (q @ k.transpose(-2, -1) * (D // self.h) ** -0.5).softmax(dim=-1)  # (B, h, N, N)
        return self.fc((a @ v).transpose(1, 2).reshape(B, N, D))  # (B, N, D)


def test_a_projection_renamed_beside_a_fused_qkv_maps_once_q_k_v_are_taken():
    student, reference = _FusedWithFc(16, 4), MultiHeadSelfAttention(16, 4)
    plan = plan_state(reference, _shapes(student), "MultiHeadSelfAttention")
    assert plan.gradable, plan.unresolved
    assert plan.renamed == {"fc.weight": "proj.weight", "fc.bias": "proj.bias"}
    student.load_state_dict(fit_state(reference.state_dict(), plan, {}), strict=True)
    x = torch.randn(2, 5, 16)
    assert torch.allclose(student(x), reference(x), atol=1e-6)


def test_a_renamed_module_with_another_layout_inside_maps_whole():
    """``attention`` holds a fused qkv and ``fc``: no single key lands on the contract's, the module does."""
    reference = TransformerBlock(16, 4, 2.0)
    student = {**{k: v for k, v in _shapes(reference).items() if not k.startswith("attn.")}}
    student.update({f"attention.{k}": v for k, v in _shapes(_FusedWithFc(16, 4)).items()})
    assert find_module_renames(_shapes(reference), student)["attention.qkv.weight"] == "attn.qkv.weight"
    plan = plan_state(reference, student, "TransformerBlock")
    assert plan.gradable, plan.unresolved
    state = fit_state(reference.state_dict(), plan, {})
    assert set(state) == set(student) and state["attention.fc.weight"].shape == (16, 16)
    assert torch.equal(state["attention.qkv.weight"][:16], reference.attn.q.weight)
    assert any("self.attention" in sentence for sentence in plan.differences)


def test_module_renames_need_the_same_weight_size_and_never_touch_the_probe_s_shapes():
    reference = TransformerBlock(16, 4, 2.0)
    wider = {k.replace("mlp.", "ffn."): v for k, v in _shapes(reference).items()}
    wider["ffn.fc1.weight"], wider["ffn.fc1.bias"] = (48, 16), (48,)  # another hidden width: not the contract's
    before = dict(wider)
    assert not any(key.startswith("ffn") for key in find_module_renames(_shapes(reference), wider))
    assert not plan_state(reference, wider, "TransformerBlock").gradable
    assert wider == before


def test_a_linear_patch_projection_under_another_name_is_the_flattened_conv():
    student = nn.Linear(3 * 7 * 7, 32)
    reference = PatchEmbedding(28, 7, 3, 32)
    plan = plan_state(reference, {f"linear_mapper.{k}": v for k, v in _shapes(student).items()}, "PatchEmbedding")
    assert plan.gradable and plan.flattened == {"proj.weight": (32, 147)}
    state = fit_state(reference.state_dict(), plan, {})
    assert set(state) == {"linear_mapper.weight", "linear_mapper.bias"}
    assert torch.equal(state["linear_mapper.weight"], reference.proj.weight.reshape(32, 147))


def test_a_vit_with_its_own_names_throughout_maps_to_the_contract():
    reference = ViT(embed_dim=16, nb_blocks=2, num_heads=4)
    rename = {"patch_embed.proj": "patch_embedding.patcher", "blocks": "transformer_encoder", "cls_token": "cls"}
    student = {}
    for key, shape in _shapes(reference).items():
        for old, new in rename.items():
            key = key.replace(old, new, 1) if key.startswith(old) else key
        key = key.replace("norm.", "classifier.0.").replace("head.", "classifier.1.") if "." in key else key
        student[key] = shape
    plan = plan_state(reference, student, "ViT")
    assert plan.gradable, plan.unresolved
    assert plan.renamed["classifier.1.weight"] == "head.weight" and plan.renamed["cls"] == "cls_token"
    assert set(fit_state(reference.state_dict(), plan, {})) == set(student)


def test_the_block_s_stand_ins_go_in_under_the_student_s_names():
    """Q5 grades the wiring with trusted sub-modules even where the block calls them attention/feed_forward:
    the student's unscaled attention is Q4's mistake, not the block's."""
    verdict = _grade("q5.equivalence", UNSCALED_ATTENTION, RENAMED_BLOCK)
    assert verdict.status == "passed", verdict.message
    assert not verdict.details.get("substitution_fallback"), verdict.details
    end_to_end = _grade("q5.end_to_end", UNSCALED_ATTENTION, RENAMED_BLOCK)
    assert end_to_end.status == "failed" and "(Q4)" in end_to_end.message, end_to_end.message


def test_fused_qkv_with_a_renamed_projection_earns_the_maths_and_loses_the_contract_point():
    assert _grade("q4.equivalence", FUSED_WITH_FC).status == "passed"
    assert _grade("q4.property", FUSED_WITH_FC).status == "passed"
    contract = _grade("q4.contract", FUSED_WITH_FC)
    assert contract.status == "failed" and "self.fc" in contract.message


PER_HEAD_SLICES = """
class MultiHeadSelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.n_heads, self.d_head = num_heads, embed_dim // num_heads
        self.q_mappings = nn.ModuleList([nn.Linear(self.d_head, self.d_head) for _ in range(num_heads)])
        self.k_mappings = nn.ModuleList([nn.Linear(self.d_head, self.d_head) for _ in range(num_heads)])
        self.v_mappings = nn.ModuleList([nn.Linear(self.d_head, self.d_head) for _ in range(num_heads)])

    def forward(self, x):
        out = []
        for h in range(self.n_heads):
            s = x[..., h * self.d_head : (h + 1) * self.d_head]  # (B, N, d_h): this head's slice only
            q, k, v = self.q_mappings[h](s), self.k_mappings[h](s), self.v_mappings[h](s)
            out.append((q @ k.transpose(-2, -1) / self.d_head**0.5).softmax(dim=-1) @ v)
        return torch.cat(out, dim=-1)  # (B, N, D), no output projection
"""
PRE_NORM_INSIDE = """
class MultiHeadSelfAttention(MultiHeadSelfAttention):
    def __init__(self, embed_dim, num_heads):
        super().__init__(embed_dim, num_heads)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x):
        return super().forward(self.norm(x))


class MLP(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(in_features), nn.Linear(in_features, hidden_features), nn.GELU(),
            nn.Linear(hidden_features, in_features),
        )

    def forward(self, x):
        return self.net(x)


class TransformerBlock(nn.Module):
    def __init__(self, embed_dim, num_heads, mlp_ratio=4.0):
        super().__init__()
        self.attn = MultiHeadSelfAttention(embed_dim, num_heads)
        self.ff = MLP(embed_dim, int(embed_dim * mlp_ratio))

    def forward(self, x):
        x = self.attn(x) + x
        return self.ff(x) + x
"""
NO_NORMS_AT_ALL = """
class TransformerBlock(TransformerBlock):
    def forward(self, x):
        x = x + self.attn(x)
        return x + self.mlp(x)
"""


def test_unmappable_attention_keeps_the_properties_it_shows_with_its_own_weights():
    """Per-head layers on slices of x (the popular MNIST tutorial): equivariant and mixing with any weights;
    the heads' independence needs the contract's rows, so Q4 keeps half of its property points."""
    q4 = _grade("q4.property", PER_HEAD_SLICES)
    assert q4.fraction == 0.5 and "own initial weights" in q4.message, q4.message
    assert _grade("q4.equivalence", PER_HEAD_SLICES).fraction == 0.0


def test_unit_axes_and_sequential_runs_map_onto_the_contract():
    reference = ViT(embed_dim=16, nb_blocks=1, num_heads=4)
    student = {k: v for k, v in _shapes(reference).items() if not k.startswith(("cls_token", "pos_embed", "head"))}
    student.update({"class_token": (1, 16), "positions": (17, 16), "mlp.0.weight": (10, 16), "mlp.0.bias": (10,)})
    plan = plan_state(reference, student, "ViT")
    assert plan.gradable, plan.unresolved
    assert plan.flattened == {"cls_token": (1, 16), "pos_embed": (17, 16)}
    assert plan.renamed["mlp.0.weight"] == "head.weight"  # a Sequential(Linear, Softmax) head
    state = fit_state(reference.state_dict(), plan, {})
    assert state["positions"].shape == (17, 16) and torch.equal(state["positions"], reference.pos_embed[0])
    mlp = {"net.0.weight": (16,), "net.0.bias": (16,), "net.1.weight": (32, 16), "net.1.bias": (32,)}
    mlp.update({"net.3.weight": (16, 32), "net.3.bias": (16,)})
    plan = plan_state(MLP(16, 32), mlp, "MLP")
    assert plan.gradable and plan.extra == ["net.0.bias", "net.0.weight"]  # the leading LayerNorm stays its own
    third = {**mlp, "net.5.weight": (16, 16), "net.5.bias": (16,)}  # another Linear is not the contract's MLP
    assert not plan_state(MLP(16, 32), third, "MLP").gradable


def test_a_pre_norm_written_inside_the_sub_modules_is_the_block_s_wiring():
    """lucidrains' PreNorm: the block has no norm1/norm2, its attention and MLP normalise their input. Q5 grades
    the block with its own sub-modules (the stand-ins would drop the norms), and its MLP loses Q2's maths."""
    verdict = _grade("q5.equivalence", PRE_NORM_INSIDE)
    assert verdict.status == "passed", verdict.message
    assert any("LayerNorms" in note for case in verdict.details["cases"] for note in case.get("notes", []))
    assert _grade("q5.property", PRE_NORM_INSIDE).status == "passed"
    assert _grade("q5.contract", PRE_NORM_INSIDE).status == "failed"
    assert _grade("q2.equivalence", PRE_NORM_INSIDE).status == "failed"
    assert _grade("q5.equivalence", NO_NORMS_AT_ALL).status == "failed"  # no norm anywhere: still the block's


EINOPS_PATCHES = """
from einops.layers.torch import Rearrange


class PatchEmbedding(nn.Module):
    def __init__(self, img_size=28, patch_size=7, in_chans=1, embed_dim=64):
        super().__init__()
        self.num_patches = (img_size // patch_size) ** 2
        self.to_patch_embedding = nn.Sequential(
            Rearrange("b c (h p1) (w p2) -> b (h w) (c p1 p2)", p1=patch_size, p2=patch_size),  # (B, N, C*p*p)
            nn.Linear(in_chans * patch_size * patch_size, embed_dim),
        )

    def forward(self, x):
        return self.to_patch_embedding(x)
"""


def test_an_einops_patch_embedding_in_a_sequential_is_the_flattened_conv():
    """einops ships with the grader (students use rearrange/Rearrange): graded on its maths like any reshape."""
    verdict = _grade("q1.equivalence", EINOPS_PATCHES)
    assert verdict.status == "passed", verdict.message
    assert _grade("q1.property", EINOPS_PATCHES).status == "passed"
    assert _grade("q1.contract", EINOPS_PATCHES).status == "failed"


INLINE_MLP_BLOCK = """
class TransformerBlock(nn.Module):
    def __init__(self, embed_dim, num_heads, mlp_ratio=4.0):
        super().__init__()
        hidden = int(embed_dim * mlp_ratio)
        self.norm1, self.attn = nn.LayerNorm(embed_dim), MultiHeadSelfAttention(embed_dim, num_heads)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.fc1, self.fc2 = nn.Linear(embed_dim, hidden), nn.Linear(hidden, embed_dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(nn.functional.gelu(self.fc1(self.norm2(x))))
"""


def test_an_mlp_written_inline_in_the_block_is_the_block_s_mlp():
    reference = TransformerBlock(16, 4, 2.0)
    student = {k.removeprefix("mlp."): v for k, v in _shapes(reference).items()}
    plan = plan_state(reference, student, "TransformerBlock")
    assert plan.gradable and plan.renamed["fc1.weight"] == "mlp.fc1.weight", plan.unresolved
    assert any("inline" in sentence for sentence in plan.differences)
    for check_id in ("q5.equivalence", "q5.property", "q5.end_to_end"):
        verdict = _grade(check_id, INLINE_MLP_BLOCK)
        assert verdict.status == "passed", (check_id, verdict.message)
    assert _grade("q5.contract", INLINE_MLP_BLOCK).status == "failed"


PATCH_ROWS_ONLY = """
class ViT(ViT):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rows = self.patch_embed.num_patches
        if isinstance(self.pos_embed, nn.Parameter):
            self.pos_embedding = nn.Parameter(torch.randn(1, rows, self.cls_token.shape[-1]) * 0.02)
        else:
            self.register_buffer("pos_embedding", self.pos_embed[:, 1:].clone())
        del self.pos_embed

    def forward(self, x):
        x = self.patch_embed(x) + self.pos_embedding  # (B, N, D): the patches' positions only
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        return self.head(self.norm(self.blocks(x))[:, 0])
"""


def test_a_positional_table_without_the_cls_row_is_the_known_mistake_with_its_facts():
    """pos of N rows added to the patches (a popular layout): [CLS] gets no position; Q6 loses its maths and
    keeps facts (a) and (b), as the policy's table says."""
    reference = ViT(embed_dim=16, nb_blocks=1, num_heads=4)
    student = {k: v for k, v in _shapes(reference).items() if k != "pos_embed"} | {"pos_embedding": (1, 16, 16)}
    plan = plan_state(reference, student, "ViT")
    assert plan.gradable and plan.without_cls_row == {"pos_embed": (1, 16, 16)}, plan.unresolved
    state = fit_state(reference.state_dict(), plan, {})
    assert torch.equal(state["pos_embedding"], reference.pos_embed[:, 1:])
    equivalence = _grade("q6.equivalence", PATCH_ROWS_ONLY)
    assert equivalence.fraction == 0.0 and "position" in (equivalence.hint + equivalence.message)
    facts = _grade("q6.property", PATCH_ROWS_ONLY)  # (c) fails: the logits are not head(norm(cls + pos_embed[0]))
    assert abs(facts.fraction - 2 / 3) < 1e-9, facts.message


RESIDUAL_WRAPPERS = """
class ResidualAdd(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x, **kwargs):
        return x + self.fn(x, **kwargs)


class TransformerBlock(nn.Sequential):
    def __init__(self, embed_dim, num_heads, mlp_ratio=4.0):
        super().__init__(
            ResidualAdd(nn.Sequential(nn.LayerNorm(embed_dim), MultiHeadSelfAttention(embed_dim, num_heads))),
            ResidualAdd(nn.Sequential(nn.LayerNorm(embed_dim), MLP(embed_dim, int(embed_dim * mlp_ratio)))),
        )
"""
POST_NORM_WRAPPER = """
class ResidualAdd(ResidualAdd):
    def forward(self, x):
        norm, sub = self.fn
        return norm(x + sub(x))  # post-norm: the same parameters, another block
"""
NO_RESIDUAL_WRAPPER = """
class ResidualAdd(ResidualAdd):
    def forward(self, x):
        return self.fn(x)  # the input is never added back
"""


class _Residual(nn.Module):
    def __init__(self, holder: str, inner: nn.Module):
        super().__init__()
        self.holder = holder
        setattr(self, holder, inner)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + getattr(self, self.holder)(x)


class _PreNorm(nn.Module):
    def __init__(self, d: int, fn: nn.Module):
        super().__init__()
        self.norm, self.fn = nn.LayerNorm(d), fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.norm(x))


def _wrapped_block(d: int, h: int, ratio: float, holder: str, prenorm: bool, mlp_first: bool = False) -> nn.Module:
    def pair(sub: nn.Module) -> nn.Module:
        return _PreNorm(d, sub) if prenorm else nn.Sequential(nn.LayerNorm(d), sub)

    wrappers = [_Residual(holder, pair(MultiHeadSelfAttention(d, h))), _Residual(holder, pair(MLP(d, int(d * ratio))))]
    return nn.Sequential(*(wrappers[::-1] if mlp_first else wrappers))


def test_residual_wrappers_map_onto_the_block_s_norms_and_sub_modules():
    """ResidualAdd(Sequential(LN, sub)) and Residual(PreNorm(LN, sub)) under any holder's name, also where the
    attention and the MLP hold as many weights (mlp_ratio=2), in a block and in every block of a ViT."""
    for holder, prenorm, ratio in (
        ("fn", False, 4.0),
        ("module", True, 2.0),
        ("layer", False, 2.0),
        ("block", True, 4.0),
    ):
        reference, student = TransformerBlock(16, 4, ratio), _wrapped_block(16, 4, ratio, holder, prenorm)
        plan = plan_state(reference, _shapes(student), "TransformerBlock")
        assert plan.gradable and not plan.extra, (holder, plan.unresolved, plan.extra)
        inner = "norm" if prenorm else "0"
        assert plan.renamed[f"0.{holder}.{inner}.weight"] == "norm1.weight", plan.renamed
        assert any("residual wrappers" in sentence for sentence in plan.differences)
        student.load_state_dict(fit_state(reference.state_dict(), plan, {}), strict=True)
        x = torch.randn(2, 5, 16)
        assert torch.allclose(student(x), reference(x), atol=1e-5), holder
    vit, blocks = ViT(embed_dim=16, nb_blocks=2, num_heads=4), _wrapped_block(16, 4, 4.0, "fn", False)
    student = {k: v for k, v in _shapes(vit).items() if not k.startswith("blocks.")}
    student.update({f"blocks.{i}.{k}": v for i in range(2) for k, v in _shapes(blocks).items()})
    plan = plan_state(vit, student, "ViT")
    assert plan.gradable and plan.renamed["blocks.1.1.fn.1.fc2.bias"] == "blocks.1.mlp.fc2.bias", plan.unresolved


def test_residual_wrappers_map_only_what_the_shapes_settle():
    """The MLP wrapped first maps with its own norm, by weight size or by its layers' names (the maths then
    decides); a norm of another width or a third layer in the wrapper leave the block unloadable, as before."""
    reference = TransformerBlock(16, 4, 4.0)
    swapped = plan_state(
        reference, _shapes(_wrapped_block(16, 4, 4.0, "fn", False, mlp_first=True)), "TransformerBlock"
    )
    assert swapped.gradable and swapped.renamed["0.fn.1.fc1.weight"] == "mlp.fc1.weight"
    wider = {
        k: ((24,) if k.startswith("0.fn.0.") else v)
        for k, v in _shapes(_wrapped_block(16, 4, 4.0, "fn", False)).items()
    }
    assert not plan_state(reference, wider, "TransformerBlock").gradable
    third = {**_shapes(_wrapped_block(16, 4, 4.0, "fn", False)), "0.fn.2.weight": (16, 16)}
    assert not plan_state(reference, third, "TransformerBlock").gradable
    same_sizes = _shapes(_wrapped_block(16, 4, 2.0, "fn", False, mlp_first=True))  # the sub-modules' names settle it
    plan = plan_state(TransformerBlock(16, 4, 2.0), same_sizes, "TransformerBlock")
    assert plan.renamed["0.fn.0.weight"] == "norm2.weight" and plan.renamed["0.fn.1.fc1.weight"] == "mlp.fc1.weight"


def test_a_block_of_residual_wrappers_is_graded_on_its_maths_and_loses_the_contract_point():
    for check_id in ("q5.equivalence", "q5.property", "q5.end_to_end"):
        verdict = _grade(check_id, RESIDUAL_WRAPPERS)
        assert verdict.status == "passed", (check_id, verdict.message)
    contract = _grade("q5.contract", RESIDUAL_WRAPPERS)
    assert contract.status == "failed" and "residual wrappers" in contract.message, contract.message
    assert _grade("q6.end_to_end", RESIDUAL_WRAPPERS).status == "passed"


def test_a_wrapper_with_a_post_norm_or_no_residual_loses_the_block_s_maths():
    """The mapping only names the layers: a post-norm or a missing residual, with the same parameters, is
    graded with the reference's weights loaded (not refused as unloadable) and fails."""
    for wrong in (POST_NORM_WRAPPER, NO_RESIDUAL_WRAPPER):
        for check_id in ("q5.equivalence", "q5.end_to_end"):
            verdict = _grade(check_id, RESIDUAL_WRAPPERS, wrong)
            assert verdict.fraction == 0.0, (check_id, verdict.message)
            assert "cannot load" not in verdict.message and "differs" in verdict.message, verdict.message
