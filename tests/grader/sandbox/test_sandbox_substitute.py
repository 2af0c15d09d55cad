"""The forward op's ``substitute`` argument: trusted stand-ins in place of a composite's sub-modules, in a real
child; what the child reports of them (and of LayerNorm eps) is validated before a check sees it."""

import pytest
import torch

from grader.checks import substitution
from grader.sandbox import Sandbox, SandboxLimits, StudentError
from grader.sandbox.replies import check_reply
from reference import TransformerBlock, ViT
from reference.bundle import bundle_submission

LIMITS = SandboxLimits(request_timeout_s=60, start_timeout_s=300, memory_bytes=3 * 2**30)
BROKEN_ATTENTION = """

class MultiHeadSelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        raise NotImplementedError("Q4 is not done")


class TransformerBlock(TransformerBlock):
    def __init__(self, embed_dim, num_heads, mlp_ratio=4.0):
        super().__init__(embed_dim, num_heads, mlp_ratio)
        self.norm1 = nn.LayerNorm(embed_dim, eps=1e-6)
"""


@pytest.fixture(scope="module")
def box():
    with Sandbox(bundle_submission() + BROKEN_ATTENTION, limits=LIMITS) as sandbox:
        yield sandbox


def test_a_block_is_built_and_run_with_stand_ins_although_its_attention_cannot_be_built(box):
    kwargs = {"embed_dim": 16, "num_heads": 4}
    reference = TransformerBlock(**kwargs).eval()
    reference.norm1.eps = 1e-6
    x = torch.randn(2, 5, 16)
    state = {f"state.{k}": v for k, v in reference.state_dict().items()}
    args = {"name": "TransformerBlock", "kwargs": kwargs, "load_state": True, "substitute": substitution.block(kwargs)}
    reply = box.request("forward", args, tensors={**state, "input": x})
    assert reply.values["substituted"] == ["attn", "mlp"] and reply.values["substitution_errors"] == {}
    assert reply.values["layer_norm_eps"] == {"norm1": 1e-6, "norm2": 1e-5}
    with torch.no_grad():
        assert torch.allclose(reply.tensors["output"], reference(x), atol=1e-6)
    with pytest.raises(StudentError):  # without stand-ins, the student's own attention is what is built
        box.request("forward", {"name": "TransformerBlock", "kwargs": kwargs})


def test_a_path_that_names_nothing_is_reported_and_not_replaced(box):
    kwargs = {"embed_dim": 16, "nb_blocks": 2, "num_heads": 4}
    sub = substitution.vit(kwargs)
    sub["paths"].append({"path": "head.*", "kind": "mlp", "kwargs": {"in_features": 16, "hidden_features": 4}})
    sub["paths"].append({"path": "trunk", "kind": "mlp", "kwargs": {"in_features": 16, "hidden_features": 4}})
    reply = box.request("forward", {"name": "ViT", "kwargs": kwargs, "substitute": sub})
    assert reply.values["substituted"] == ["patch_embed", "blocks.0", "blocks.1"]
    errors = reply.values["substitution_errors"]
    assert "not a non-empty nn.Sequential or nn.ModuleList" in errors["head.*"]
    assert "has no sub-module named 'trunk'" in errors["trunk"]
    assert reply.values["state_shapes"].keys() == ViT(**kwargs).state_dict().keys()


@pytest.mark.parametrize(
    ("key", "value"),
    [("layer_norm_eps", {"norm": float("nan")}), ("substituted", "attn"), ("substitution_errors", {"attn": 3})],
)
def test_malformed_substitution_values_are_refused(key, value):
    values = {"num_params": 1, "state_shapes": {}, "attributes": {}, "attribute_errors": {}, key: value}
    with pytest.raises(StudentError, match=key):
        check_reply("forward", {}, {}, values, {})
