"""static.from_scratch: library shortcuts inside Q1-Q6 are found by reading the source (never running it)."""

import pytest
from checks_support import grade

from grader.checks.static import scan, unimplemented
from reference.bundle import bundle_submission

REFERENCE = bundle_submission()

MHA_IN_CLASS = """
import torch
from torch import nn

class MultiHeadSelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.mha = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)

    def forward(self, x):
        return self.mha(x, x, x)[0]
"""
SDPA_ALIASED = """
import torch
import torch.nn.functional as functional
from torch.nn.functional import scaled_dot_product_attention as sdpa

class SelfAttention(torch.nn.Module):
    def forward(self, x):
        return functional.scaled_dot_product_attention(x, x, x)

class MultiHeadSelfAttention(torch.nn.Module):
    def forward(self, x):
        return sdpa(x, x, x)
"""
TIMM_HELPER = """
import timm
from timm.models.vision_transformer import Block

def _make_block(dim):
    return Block(dim, 4)

class TransformerBlock:
    def __init__(self, embed_dim, num_heads, mlp_ratio=4.0):
        self.block = _make_block(embed_dim)

def vit_small_for_mnist(pretrained=False):
    return timm.create_model("vit_small_patch16_224", img_size=28, in_chans=1)

model = timm.create_model("vit_small_patch16_224")  # a Q8 experiment cell: allowed
"""
MONKEYPATCH = """
import torch
from torch import nn

class ViT(nn.Module):
    pass

ViT.encoder = nn.TransformerEncoder
layer = getattr(nn, "TransformerEncoderLayer")
"""


def test_reference_is_clean():
    assert scan(REFERENCE) == []
    assert unimplemented(REFERENCE) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (MHA_IN_CLASS, [("MultiHeadSelfAttention", "torch.nn.MultiheadAttention")]),
        (
            SDPA_ALIASED,
            [
                ("SelfAttention", "torch.nn.functional.scaled_dot_product_attention"),
                ("MultiHeadSelfAttention", "torch.nn.functional.scaled_dot_product_attention"),
            ],
        ),
        (TIMM_HELPER, [("_make_block", "timm.models.vision_transformer.Block")]),
        (MONKEYPATCH, [("ViT", "torch.nn.TransformerEncoder")]),
    ],
)
def test_shortcuts_are_found_with_their_place(source, expected):
    found = [(v.where, v.what) for v in scan(source)]
    assert found == expected


def test_timm_is_allowed_in_q8_and_in_unrelated_code():
    assert scan(REFERENCE + TIMM_HELPER.replace("Block(dim, 4)", "None")) == []


def test_check_fails_with_the_lines_and_passes_the_reference(reference_box):
    source = REFERENCE + MHA_IN_CLASS
    verdict = grade("static.from_scratch", reference_box, source)
    assert verdict.status == "failed"
    assert "torch.nn.MultiheadAttention" in verdict.message and "line" in verdict.message
    assert "vit_small_for_mnist" in verdict.hint
    assert grade("static.from_scratch", reference_box, REFERENCE).status == "passed"


def test_partial_credit_for_partly_implemented_work(reference_box, repo_root):
    template = (repo_root / "student_template" / "vit.py").read_text()
    assert set(unimplemented(template)) >= {"PatchEmbedding", "ViT", "sinusoidal_positional_encoding"}
    assert grade("static.from_scratch", reference_box, template).fraction == 0.0
    # The template with the reference's MLP pasted over its stub: one definition of seven is done.
    partly = template + "\n\n" + REFERENCE[REFERENCE.index("class MLP(") : REFERENCE.index("class SelfAttention(")]
    verdict = grade("static.from_scratch", reference_box, partly)
    assert verdict.fraction == pytest.approx(1 / 7)
    assert "MLP" in verdict.details["implemented"]


def test_unparsable_source_fails_cleanly(reference_box):
    verdict = grade("static.from_scratch", reference_box, "def broken(:\n")
    assert verdict.status == "failed" and "parse" in verdict.message
