"""Q8: the adapted timm ViT-S, its pretrained loader against a checkpoint written here, and the Q8a demo."""

import pytest
import safetensors.torch
import timm
import torch
from timm.layers import resample_abs_pos_embed, resample_patch_embed
from timm.models import adapt_input_conv

from reference.timm_vit import TIMM_VIT_SMALL, demonstrate_input_mismatch, vit_small_for_mnist


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> tuple[str, dict[str, torch.Tensor]]:
    """A randomly initialised ViT-S/16 (224, RGB, 1000 classes) saved as safetensors."""
    torch.manual_seed(0)
    state = timm.create_model(TIMM_VIT_SMALL).state_dict()
    path = tmp_path_factory.mktemp("weights") / "vit_small_patch16_224.safetensors"
    safetensors.torch.save_file(state, str(path))
    return str(path), state


def test_adapted_model_shapes():
    model = vit_small_for_mnist().eval()
    assert model.pos_embed.shape == (1, 50, 384)  # 7 x 7 patches of 4 pixels + [CLS]
    assert model.patch_embed.proj.weight.shape == (384, 1, 4, 4)
    with torch.no_grad():
        assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)


def test_pretrained_loader_resamples_like_timm(checkpoint):
    path, state = checkpoint
    model = vit_small_for_mnist(pretrained=True, weights_file=path)
    expected_pos = resample_abs_pos_embed(state["pos_embed"], new_size=[7, 7], num_prefix_tokens=1)
    expected_patch = adapt_input_conv(1, resample_patch_embed(state["patch_embed.proj.weight"], [4, 4]))
    pos_diff = (model.pos_embed.detach() - expected_pos).abs().max().item()
    patch_diff = (model.patch_embed.proj.weight.detach() - expected_patch).abs().max().item()
    assert torch.allclose(model.pos_embed.detach(), expected_pos, atol=1e-6), f"pos_embed max diff {pos_diff:.3e}"
    assert torch.allclose(model.patch_embed.proj.weight.detach(), expected_patch, atol=1e-6), (
        f"patch_embed max diff {patch_diff:.3e}"
    )
    # the [CLS] slot of the position embedding and the transformer weights come through unchanged
    torch.testing.assert_close(model.pos_embed.detach()[:, :1], state["pos_embed"][:, :1])
    torch.testing.assert_close(model.blocks[3].attn.qkv.weight.detach(), state["blocks.3.attn.qkv.weight"])
    assert model.head.weight.shape == (10, 384)


def test_pretrained_single_channel_kernel_is_the_rgb_sum(checkpoint):
    path, state = checkpoint
    model = vit_small_for_mnist(pretrained=True, weights_file=path, patch_size=16, img_size=32)
    expected = state["patch_embed.proj.weight"].sum(dim=1, keepdim=True)  # (384, 1, 16, 16)
    torch.testing.assert_close(model.patch_embed.proj.weight.detach(), expected)


def test_demonstrate_input_mismatch():
    outcomes = demonstrate_input_mismatch()
    assert set(outcomes) == {"(2, 1, 28, 28)", "(2, 3, 28, 28)", "(2, 1, 224, 224)"}
    for outcome in outcomes.values():
        assert outcome != "ran"
    assert "28" in outcomes["(2, 3, 28, 28)"] and "224" in outcomes["(2, 3, 28, 28)"]
    assert "3 channels" in outcomes["(2, 1, 224, 224)"]  # the right size still fails on the channels
