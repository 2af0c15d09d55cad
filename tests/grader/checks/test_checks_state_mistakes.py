"""Mistakes that change the parameters are named from the state_dict's shapes, in their own question."""

import textwrap

import pytest
from checks_support import InProcessSandbox, grade

from grader.checks.compare import state_mismatch
from grader.diagnostics.state import diagnose_state
from reference.bundle import bundle_submission

POS_EMBED_N_ROWS = """
class ViT(ViT):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        n, d = self.patch_embed.num_patches, self.cls_token.shape[-1]
        self.pos_embed = nn.Parameter(torch.zeros(1, n, d))  # one position per patch, none for [CLS]

    def forward(self, x):
        x = self.patch_embed(x) + self.pos_embed  # (B, N, D)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)  # (B, N + 1, D)
        return self.head(self.norm(self.blocks(x))[:, 0])
"""
SA_WITHOUT_PROJ = """
class SelfAttention(nn.Module):
    def __init__(self, embed_dim):
        super().__init__()
        self.q, self.k, self.v = (nn.Linear(embed_dim, embed_dim) for _ in range(3))

    def forward(self, x):
        scores = self.q(x) @ self.k(x).transpose(-2, -1) / x.shape[-1] ** 0.5  # (B, N, N)
        return scores.softmax(dim=-1) @ self.v(x)
"""
MHSA_TEMPLATE = """
class MultiHeadSelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.h, self.dh = num_heads, embed_dim // num_heads
        {layers}

    def forward(self, x):
        B, N, D = x.shape
        {forward}
        heads = [(q @ k.transpose(-2, -1) / self.dh**0.5).softmax(-1) @ v for q, k, v in zip(qs, ks, vs)]
        return {out}
"""
MHSA_WITHOUT_PROJ = MHSA_TEMPLATE.format(
    layers="self.q, self.k, self.v = (nn.Linear(embed_dim, embed_dim) for _ in range(3))",
    forward="qs, ks, vs = (t(x).split(self.dh, dim=-1) for t in (self.q, self.k, self.v))",
    out="torch.cat(heads, dim=-1)",
)
MHSA_PER_HEAD_SLICES = MHSA_TEMPLATE.format(
    layers=(
        "self.q, self.k, self.v = (nn.ModuleList(nn.Linear(self.dh, self.dh) for _ in range(num_heads)) "
        "for _ in range(3))\n        self.proj = nn.Linear(embed_dim, embed_dim)"
    ),
    forward=(
        "xs = x.split(self.dh, dim=-1)  # head i sees only its slice\n        "
        "qs, ks, vs = ([f(xi) for f, xi in zip(layers, xs)] for layers in (self.q, self.k, self.v))"
    ),
    out="self.proj(torch.cat(heads, dim=-1))",
)
MHSA_RENAMED_PROJ = MHSA_TEMPLATE.format(
    layers=(
        "self.q, self.k, self.v = (nn.Linear(embed_dim, embed_dim) for _ in range(3))\n"
        "        self.out = nn.Linear(embed_dim, embed_dim)"
    ),
    forward="qs, ks, vs = (t(x).split(self.dh, dim=-1) for t in (self.q, self.k, self.v))",
    out="self.out(torch.cat(heads, dim=-1))",
)
MHSA_PER_HEAD_FULL_INPUT = MHSA_TEMPLATE.format(
    layers=(
        "self.q, self.k, self.v = (nn.ModuleList(nn.Linear(embed_dim, self.dh) for _ in range(num_heads)) "
        "for _ in range(3))\n        self.proj = nn.Linear(embed_dim, embed_dim)"
    ),
    forward="qs, ks, vs = ([f(x) for f in layers] for layers in (self.q, self.k, self.v))",
    out="self.proj(torch.cat(heads, dim=-1))",
)


@pytest.mark.parametrize(
    ("body", "check_id", "expected"),
    [
        (SA_WITHOUT_PROJ, "q3.equivalence", [["q3.no_projection"]]),
        (MHSA_WITHOUT_PROJ, "q4.equivalence", [["q4.no_projection"]]),
        (MHSA_PER_HEAD_SLICES, "q4.equivalence", [["q4.block_diagonal_projections"]]),
        (MHSA_PER_HEAD_FULL_INPUT, "q4.equivalence", []),  # per-head Linear(D, d_h): right maths, other layout
    ],
    ids=["SA no proj", "MHSA no proj", "MHSA per-head slices", "per-head full"],
)
def test_parameter_changing_mistakes_are_named_from_the_state(body, check_id, expected):
    source = bundle_submission() + "\n\n" + textwrap.dedent(body)
    box = InProcessSandbox(source)
    try:
        verdict = grade(check_id, box, source)
    finally:
        box.close()
    assert verdict.status == "failed" and "state_dict" in verdict.message
    assert verdict.details["known_mistakes"] == expected, verdict.hint
    if expected:
        assert verdict.hint.startswith("It looks like")
    else:
        assert "attribute names" in verdict.hint


def test_a_pos_embed_of_n_rows_is_graded_on_the_patches_rows_and_named_from_the_outputs():
    """pos_embed of N rows loads the contract's rows 1..N, so the mistake is named from what the ViT computes."""
    source = bundle_submission() + "\n\n" + textwrap.dedent(POS_EMBED_N_ROWS)
    box = InProcessSandbox(source)
    try:
        verdict = grade("q6.equivalence", box, source)
    finally:
        box.close()
    assert verdict.status == "failed" and "state_dict" not in verdict.message
    assert verdict.details["known_mistakes"] == [["q6.pos_embed_patches_only"]], verdict.hint
    assert verdict.hint.startswith("Your output matches")


def test_a_projection_under_another_name_is_graded_on_its_maths():
    """Not a mistake but a naming difference: the maths earns the equivalence, the contract check the rest."""
    source = bundle_submission() + "\n\n" + textwrap.dedent(MHSA_RENAMED_PROJ)
    box = InProcessSandbox(source)
    try:
        verdict = grade("q4.equivalence", box, source)
    finally:
        box.close()
    assert verdict.status == "passed", verdict.message


def test_rules_read_only_their_own_class():
    expected = {"pos_embed": (1, 17, 64), "cls_token": (1, 1, 64)}
    got = {"pos_embed": (1, 16, 64), "cls_token": (1, 1, 64)}
    assert [m.id for m in diagnose_state("ViT", expected, got, {})] == ["q6.pos_embed_patches_only"]
    assert diagnose_state("TransformerBlock", expected, got, {}) == []
    assert diagnose_state("ViT", expected, {"pos_embed": (1, 15, 64)}, {}) == []
    failure = state_mismatch(expected, got, "ViT", {"embed_dim": 64})
    assert failure is not None and failure.details["known_mistakes"] == [["q6.pos_embed_patches_only"]]
    assert "[CLS]" in failure.hint and "N + 1" in failure.hint
