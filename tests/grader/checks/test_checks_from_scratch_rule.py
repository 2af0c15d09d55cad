"""The from-scratch rule with teeth: each shortcut is charged to the question whose own code uses it, and
that question keeps at most the configured share of its equivalence and property points."""

import textwrap

import pytest
from checks_support import InProcessSandbox, grade

from grader.checks import forbidden
from grader.checks.scratch_cap import apply_from_scratch_rule
from grader.checks.shortcuts import by_question
from grader.checks.static import built_shortcuts
from grader.intake import Submission
from grader.questions import points_for
from grader.report import CheckCategory, CheckResult, CheckStatus
from grader.runner import grade_submission
from reference.bundle import bundle_submission

REFERENCE = bundle_submission()
SDPA_MHSA = '''
from torch.nn.functional import scaled_dot_product_attention as sdpa


def _attend(q, k, v):
    """Unlike F.scaled_dot_product_attention, this ... no: it is the very same."""
    return sdpa(q, k, v)


class MultiHeadSelfAttention(nn.Module):
    """Q4 with its attention from torch (the projections are its own)."""

    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.q = nn.Linear(embed_dim, embed_dim)
        self.k = nn.Linear(embed_dim, embed_dim)
        self.v = nn.Linear(embed_dim, embed_dim)
        self.proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x):
        B, N, D = x.shape
        h = self.num_heads
        q, k, v = (t.view(B, N, h, D // h).transpose(1, 2) for t in (self.q(x), self.k(x), self.v(x)))  # (B, h, N, d_h)
        return self.proj(_attend(q, k, v).transpose(1, 2).reshape(B, N, D))  # (B, N, D)
'''


def source(body: str) -> str:
    return REFERENCE + "\n\n" + textwrap.dedent(body)


def charged(body: str) -> dict[str, list[tuple[str, str]]]:
    return {q: [(v.where, v.what) for v in vs] for q, vs in by_question(source(body)).items()}


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_reference_is_charged_nothing():
    assert by_question(REFERENCE) == {}


FORMS = {
    "sdpa in a helper of Q4": (SDPA_MHSA, {"Q4": [("_attend", "torch.nn.functional.scaled_dot_product_attention")]}),
    "F. alias in Q3": (
        """
        import torch.nn.functional as F
        class SelfAttention(nn.Module):
            def forward(self, x):
                return F.scaled_dot_product_attention(x, x, x)
        """,
        {"Q3": [("SelfAttention", "torch.nn.functional.scaled_dot_product_attention")]},
    ),
    "getattr with a constant string": (
        """
        import torch.nn.functional as F
        class SelfAttention(nn.Module):
            def forward(self, x):
                return getattr(F, "scaled_dot_product_attention")(x, x, x)
        """,
        {"Q3": [("SelfAttention", "the string 'scaled_dot_product_attention'")]},
    ),
    "full module path": (
        """
        import torch
        class MultiHeadSelfAttention(torch.nn.Module):
            def __init__(self, embed_dim, num_heads):
                super().__init__()
                self.mha = torch.nn.modules.activation.MultiheadAttention(embed_dim, num_heads)
        """,
        {"Q4": [("MultiHeadSelfAttention", "torch.nn.modules.activation.MultiheadAttention")]},
    ),
    "subclass": (
        """
        class MultiHeadSelfAttention(nn.MultiheadAttention):
            pass
        """,
        {"Q4": [("MultiHeadSelfAttention", "torch.nn.MultiheadAttention")]},
    ),
    "encoder layer in Q5, encoder in Q6": (
        """
        from torch.nn import TransformerEncoder
        class TransformerBlock(nn.Module):
            def __init__(self, embed_dim, num_heads, mlp_ratio=4.0):
                super().__init__()
                self.layer = nn.TransformerEncoderLayer(embed_dim, num_heads, norm_first=True)
        class ViT(nn.Module):
            def __init__(self, **kwargs):
                super().__init__()
                self.blocks = TransformerEncoder(None, 2)
        """,
        {
            "Q5": [("TransformerBlock", "torch.nn.TransformerEncoderLayer")],
            "Q6": [("ViT", "torch.nn.TransformerEncoder")],
        },
    ),
    "timm attention and mlp": (
        """
        from timm.layers import Mlp
        import timm.models.vision_transformer as tv
        class MLP(Mlp):
            pass
        class MultiHeadSelfAttention(tv.Attention):
            pass
        """,
        {
            "Q2": [("MLP", "timm.layers.Mlp")],
            "Q4": [("MultiHeadSelfAttention", "timm.models.vision_transformer.Attention")],
        },
    ),
    "renamed at module level": (
        """
        import torch.nn.functional as F
        attend = F.scaled_dot_product_attention
        class SelfAttention(nn.Module):
            def forward(self, x):
                return attend(x, x, x)
        """,
        {
            "Q3": [
                ("attend", "torch.nn.functional.scaled_dot_product_attention"),
                ("SelfAttention", "torch.nn.functional.scaled_dot_product_attention"),
            ]
        },
    ),
    "renamed inside forward": (
        """
        import torch
        class SelfAttention(nn.Module):
            def forward(self, x):
                functional = torch.nn.functional
                return functional.scaled_dot_product_attention(x, x, x)
        """,
        {"Q3": [("SelfAttention", "torch.nn.functional.scaled_dot_product_attention")]},
    ),
    "monkeypatched forward": (
        """
        import torch.nn.functional as F
        def _fast(self, x):
            return F.scaled_dot_product_attention(x, x, x)
        setattr(SelfAttention, "forward", _fast)
        """,
        {"Q3": [("_fast", "torch.nn.functional.scaled_dot_product_attention")]},
    ),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_form_is_charged_to_its_own_question_only(form):
    body, expected = FORMS[form]
    assert charged(body) == expected


def test_an_inherited_forward_counts_for_the_subclass_an_overridden_one_does_not():
    base = """
    import torch.nn.functional as F
    class SelfAttention(nn.Module):
        def forward(self, x):
            return F.scaled_dot_product_attention(x, x, x)
    class MultiHeadSelfAttention(SelfAttention):
        def __init__(self, embed_dim, num_heads):
            super().__init__()
    """
    assert set(charged(base)) == {"Q3", "Q4"}
    overriding = base + "\n        def forward(self, x):\n            return x\n"
    assert set(charged(overriding)) == {"Q3"}


def test_a_block_that_builds_the_students_own_attention_is_not_charged_for_it():
    # The bundle's TransformerBlock builds MultiHeadSelfAttention: Q4's shortcut is Q4's alone.
    assert set(charged(SDPA_MHSA)) == {"Q4"}


NOT_USES = {
    "comments, docstrings, strings": """
        import torch.nn.functional as F
        class SelfAttention(nn.Module):
            '''Written by hand: no nn.MultiheadAttention, no F.scaled_dot_product_attention.'''
            def forward(self, x):  # F.scaled_dot_product_attention(x, x, x) would be faster
                name = "scaled_dot_product_attention"
                print("timm", "nn.MultiheadAttention", name)
                return x
        """,
    "own method with a forbidden name": """
        class SelfAttention(nn.Module):
            def scaled_dot_product_attention(self, q, k, v):
                return (q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5).softmax(dim=-1) @ v  # (B, N, D)
            def forward(self, x):
                return self.scaled_dot_product_attention(x, x, x) + getattr(self, "MultiheadAttention", 0)
        """,
    "a notebook cell's global of the same name as a local": """
        import torch.nn.functional as F
        out = F.scaled_dot_product_attention(*(torch.randn(1, 2, 4),) * 3)  # comparing with torch
        class SelfAttention(nn.Module):
            def forward(self, x):
                out = x * 2
                return out
        """,
    "an earlier draft replaced by a later definition": "class MultiHeadSelfAttention(nn.MultiheadAttention):\n"
    "    pass\n\n"
    + REFERENCE[REFERENCE.index("class MultiHeadSelfAttention(") : REFERENCE.index("class TransformerBlock(")],
    "a Q8 helper and an unused one": """
        import timm
        def vit_small_for_mnist(pretrained=False, weights_file=None, **kwargs):
            return timm.create_model("vit_small_patch16_224", num_classes=10, img_size=28, in_chans=1)
        def compare_with_torch(x):
            return torch.nn.MultiheadAttention(8, 2)(x, x, x)
        """,
}


@pytest.mark.parametrize("case", sorted(NOT_USES))
def test_what_is_not_a_use_is_not_charged(case):
    assert charged(NOT_USES[case]) == {}


def result(check_id: str, question: str, category: str, score: float, max_score: float = 3.0) -> CheckResult:
    status = CheckStatus.passed if score >= max_score else CheckStatus.failed
    return CheckResult(
        id=check_id,
        question=question,
        category=CheckCategory(category),
        status=status,
        score=score,
        max_score=max_score,
        message="",
        hint="",
        hidden=False,
        details={},
    )


def test_the_share_caps_only_the_offending_questions_equivalence_and_property():
    results = [
        result("q3.equivalence", "Q3", "equivalence", 4.0, 4.0),
        result("q4.shape", "Q4", "shape", 1.0, 1.0),
        result("q4.equivalence", "Q4", "equivalence", 3.0),
        result("q4.property", "Q4", "property", 2.0, 2.0),
        result("q4.extra", "Q4", "equivalence", 1.0, 2.0),
    ]
    text = source(SDPA_MHSA)
    line = line_of(text, "return sdpa(q, k, v)")
    capped = {r.id: r for r in apply_from_scratch_rule(results, text)}
    assert (capped["q3.equivalence"].score, capped["q4.shape"].score) == (4.0, 1.0)
    assert [capped[c].score for c in ("q4.equivalence", "q4.property", "q4.extra")] == [0.0, 0.0, 0.0]
    eq = capped["q4.equivalence"]
    assert (
        eq.status is CheckStatus.failed and f"line {line} in _attend" in eq.message and "Capped at 0 of 3" in eq.message
    )
    assert eq.details["from_scratch"]["uncapped_score"] == 3.0 and "vit_small_for_mnist" in eq.hint
    half = {r.id: r.score for r in apply_from_scratch_rule(results, text, share=0.5)}
    assert (half["q4.equivalence"], half["q4.property"], half["q4.extra"]) == (1.5, 1.0, 1.0)
    assert apply_from_scratch_rule(results, REFERENCE) == results


def test_default_share_is_none_and_lives_with_the_forbidden_list():
    assert forbidden.SHARE_WHEN_FORBIDDEN == 0.0
    assert set(forbidden.CAPPED_CATEGORIES) == {"equivalence", "property"}


def test_built_modules_reveal_a_hidden_shortcut_for_their_own_question():
    # The name is assembled at run time: no source scan can see it, the built module's types do.
    hidden = source(
        """
        class MultiHeadSelfAttention(nn.Module):
            def __init__(self, embed_dim, num_heads):
                super().__init__()
                self.inner = getattr(nn, "Multihead" + "Attention")(embed_dim, num_heads, batch_first=True)
            def forward(self, x):
                return self.inner(x, x, x)[0]
        """
    )
    assert by_question(hidden) == {}
    box = InProcessSandbox(hidden)
    try:
        verdict = grade("static.from_scratch", box, hidden)
    finally:
        box.close()
    assert verdict.status == "failed"
    grouped = verdict.details["by_question"]
    assert set(grouped) == {"Q4"}, grouped  # the block (Q5) and ViT (Q6) hold it only inside Q4's module
    assert grouped["Q4"][0]["what"] == "torch.nn.modules.activation.MultiheadAttention"
    assert "MultiHeadSelfAttention.inner" in verdict.message


def test_a_renamed_hidden_attention_is_charged_to_q4_alongside_a_visible_q3_shortcut():
    hidden = source(
        """
        import torch.nn.functional as F
        class MyAttention(nn.Module):
            def __init__(self, embed_dim, num_heads):
                super().__init__()
                self.inner = getattr(nn, "Multihead" + "Attention")(embed_dim, num_heads, batch_first=True)
            def forward(self, x):
                return self.inner(x, x, x)[0]
        MultiHeadSelfAttention = MyAttention
        class SelfAttention(SelfAttention):
            def forward(self, x):
                return self.proj(F.scaled_dot_product_attention(self.q(x), self.k(x), self.v(x)))
        """
    )
    assert set(by_question(hidden)) == {"Q3"}
    box = InProcessSandbox(hidden)
    try:
        verdict = grade("static.from_scratch", box, hidden)
    finally:
        box.close()
    grouped = verdict.details["by_question"]
    assert set(grouped) == {"Q3", "Q4"}, grouped  # not Q5/Q6: they hold it only inside Q4's module
    assert grouped["Q4"][0]["where"].startswith("MultiHeadSelfAttention.inner")
    results = [
        result("q4.equivalence", "Q4", "equivalence", 3.0),
        result("q5.equivalence", "Q5", "equivalence", 4.0, 4.0),
    ]
    capped = {r.id: r.score for r in apply_from_scratch_rule(results, hidden, static_details=verdict.details)}
    assert capped == {"q4.equivalence": 0.0, "q5.equivalence": 4.0}


def test_built_shortcuts_skip_another_questions_module():
    types = {
        "": ["submission.TransformerBlock", "torch.nn.modules.module.Module"],
        "attn": ["submission.MultiHeadSelfAttention", "torch.nn.modules.module.Module"],
        "attn.inner": ["torch.nn.modules.activation.MultiheadAttention", "torch.nn.modules.module.Module"],
        "extra": ["student.Wrapper", "torch.nn.modules.transformer.TransformerEncoderLayer"],
    }
    found = built_shortcuts("TransformerBlock", types)
    assert [(v.where, v.what, v.question) for v in found] == [
        (
            "TransformerBlock.extra (built in the sandbox)",
            "torch.nn.modules.transformer.TransformerEncoderLayer",
            "Q5",
        )
    ]


def test_the_runner_caps_a_passing_sdpa_attention():
    text = source(SDPA_MHSA)
    report = grade_submission(
        Submission(module_source=text, answers={}), device="cpu", select=["q3.equivalence", "q4.equivalence"]
    )
    by_id = {c.id: c for c in report.checks}
    assert by_id["q3.equivalence"].score == points_for("q3.equivalence"), by_id["q3.equivalence"].message
    q4 = by_id["q4.equivalence"]
    assert q4.details["from_scratch"]["uncapped_score"] == q4.max_score == points_for("q4.equivalence")
    assert q4.score == 0.0 and q4.status is CheckStatus.failed
    assert f"line {line_of(text, 'return sdpa(q, k, v)')}" in q4.message


def test_a_malformed_module_types_value_is_a_bad_output():
    from grader.sandbox.errors import StudentError
    from grader.sandbox.replies import check_reply

    values = {"num_params": 1, "state_shapes": {}, "attributes": {}, "attribute_errors": {}}
    assert check_reply("forward", {}, {}, {**values, "module_types": {"": ["a.B"]}}, {})[0]["module_types"]
    with pytest.raises(StudentError, match="module_types"):
        check_reply("forward", {}, {}, {**values, "module_types": {"": [3]}}, {})


def test_a_source_too_deep_to_parse_is_neither_capped_nor_a_grader_fault():
    deep = "class SelfAttention:\n    def forward(self, x):\n        return " + "+".join(["x"] * 20000) + "\n"
    results = [result("q3.equivalence", "Q3", "equivalence", 0.0, 4.0)]
    assert apply_from_scratch_rule(results, deep) == results
    verdict = grade("static.from_scratch", None, deep)
    assert verdict.status == "failed" and "cannot be analysed" in verdict.message


ENCODER_VIT = """
class ViT(ViT):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        d = self.cls_token.shape[-1]
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, 4, 2 * d, batch_first=True), 1)
"""
SDPA_IN_TABLE = """
import torch.nn.functional as F


def sinusoidal_positional_encoding(num_tokens, embed_dim):
    table = torch.zeros(num_tokens, embed_dim)
    F.scaled_dot_product_attention(table[None], table[None], table[None])  # a shortcut in the table's own code
    return table
"""


def test_the_sinusoidal_table_is_capped_only_by_a_shortcut_it_can_run():
    """The ViT's nn.TransformerEncoder does not run in sinusoidal_positional_encoding: its 2 points stay; a
    shortcut in the function itself (or in module-level code or a shared helper) still caps it."""
    results = [
        result("q6.sinusoidal", "Q6", "equivalence", 2.0, 2.0),
        result("q6.equivalence", "Q6", "equivalence", 3.0, 3.0),
    ]
    capped = {r.id: r.score for r in apply_from_scratch_rule(results, source(ENCODER_VIT))}
    assert capped == {"q6.sinusoidal": 2.0, "q6.equivalence": 0.0}
    capped = {r.id: r.score for r in apply_from_scratch_rule(results, source(SDPA_IN_TABLE))}
    assert capped == {"q6.sinusoidal": 0.0, "q6.equivalence": 0.0}
