"""Q1-Q6: shapes of every reference module, sinusoidal values by hand, attention against PyTorch's SDPA."""

import math

import pytest
import torch
import torch.nn.functional as F

from reference import (
    MLP,
    MultiHeadSelfAttention,
    PatchEmbedding,
    SelfAttention,
    TransformerBlock,
    ViT,
    sinusoidal_positional_encoding,
)

BATCHES = (1, 3, 5)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize(("img_size", "patch_size", "in_chans"), [(28, 7, 1), (28, 4, 1), (28, 4, 3), (32, 4, 3)])
def test_patch_embedding_shape(batch, img_size, patch_size, in_chans):
    module = PatchEmbedding(img_size, patch_size, in_chans, embed_dim=24)
    out = module(torch.randn(batch, in_chans, img_size, img_size))
    n = (img_size // patch_size) ** 2
    assert module.num_patches == n
    assert out.shape == (batch, n, 24)


def test_patch_embedding_is_the_conv_per_patch():
    module = PatchEmbedding(28, 7, 1, 8)
    x = torch.randn(2, 1, 28, 28)
    patch = x[:, :, 7:14, 14:21]  # row 1, column 2 of the 4x4 grid -> token 1 * 4 + 2
    expected = patch.flatten(1) @ module.proj.weight.flatten(1).T + module.proj.bias  # (2, 8)
    torch.testing.assert_close(module(x)[:, 6], expected, rtol=1e-5, atol=1e-5)


def test_patch_embedding_rejects_wrong_size():
    with pytest.raises(ValueError, match="27x27"):
        PatchEmbedding(28, 7)(torch.randn(1, 1, 27, 27))


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("tokens", [1, 17, 50])
def test_mlp_self_attention_mhsa_block_shapes(batch, tokens):
    x = torch.randn(batch, tokens, 32)
    assert MLP(32, 128)(x).shape == x.shape
    assert SelfAttention(32)(x).shape == x.shape
    assert MultiHeadSelfAttention(32, 4)(x).shape == x.shape
    assert MultiHeadSelfAttention(32, 4).attention_weights(x).shape == (batch, 4, tokens, tokens)
    assert TransformerBlock(32, 8, mlp_ratio=2.0)(x).shape == x.shape


def test_mhsa_rejects_indivisible_heads():
    with pytest.raises(ValueError, match=r"\(30\).*\(4\)"):
        MultiHeadSelfAttention(30, 4)


def test_mlp_uses_gelu_and_hidden_size():
    mlp = MLP(16, 48)
    assert isinstance(mlp.act, torch.nn.GELU)
    assert mlp.fc1.out_features == 48 and mlp.fc2.out_features == 16


def test_sinusoidal_values_by_hand():
    pe = sinusoidal_positional_encoding(50, 64)
    assert pe.shape == (50, 64) and pe.dtype == torch.float32
    assert pe[0, 0].item() == 0.0 and pe[0, 1].item() == 1.0
    assert pe[1, 0].item() == pytest.approx(math.sin(1.0), abs=1e-7)
    assert pe[1, 1].item() == pytest.approx(math.cos(1.0), abs=1e-7)
    # PE(3, 2i) and PE(3, 2i+1) with i = 5, d = 64: angle 3 / 10000^(10/64)
    angle = 3 / 10000 ** (10 / 64)
    assert pe[3, 10].item() == pytest.approx(math.sin(angle), abs=1e-6)
    assert pe[3, 11].item() == pytest.approx(math.cos(angle), abs=1e-6)
    assert pe[49, 63].item() == pytest.approx(math.cos(49 / 10000 ** (62 / 64)), abs=1e-6)


@pytest.mark.parametrize("embed_dim", [1, 7, 33])
def test_sinusoidal_odd_embed_dim(embed_dim):
    pe = sinusoidal_positional_encoding(10, embed_dim)
    assert pe.shape == (10, embed_dim)
    last = embed_dim - 1  # an even index: a sine with 2i = d - 1
    assert pe[4, last].item() == pytest.approx(math.sin(4 / 10000 ** (last / embed_dim)), abs=1e-6)


def sdpa_reference(module, x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """The same attention through torch's scaled_dot_product_attention, with the module's weights."""
    B, N, D = x.shape

    def heads(t: torch.Tensor) -> torch.Tensor:
        return t.view(B, N, num_heads, D // num_heads).transpose(1, 2)  # (B, h, N, d_h)

    out = F.scaled_dot_product_attention(heads(module.q(x)), heads(module.k(x)), heads(module.v(x)))
    return module.proj(out.transpose(1, 2).reshape(B, N, D))  # (B, N, D)


@pytest.mark.parametrize("batch", BATCHES)
def test_self_attention_matches_sdpa(batch):
    torch.manual_seed(0)
    module = SelfAttention(24)
    x = torch.randn(batch, 9, 24)
    got, expected = module(x), sdpa_reference(module, x, num_heads=1)
    diff = (got - expected).abs().max().item()
    assert torch.allclose(got, expected, atol=1e-5, rtol=1e-5), f"max abs diff {diff:.3e} > 1e-5"


@pytest.mark.parametrize(("embed_dim", "num_heads"), [(24, 1), (24, 3), (64, 4), (64, 8)])
def test_multi_head_attention_matches_sdpa(embed_dim, num_heads):
    torch.manual_seed(1)
    module = MultiHeadSelfAttention(embed_dim, num_heads)
    x = torch.randn(3, 17, embed_dim)
    got, expected = module(x), sdpa_reference(module, x, num_heads)
    diff = (got - expected).abs().max().item()
    assert torch.allclose(got, expected, atol=1e-5, rtol=1e-5), f"max abs diff {diff:.3e} > 1e-5"
    weights = module.attention_weights(x)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, num_heads, 17))


def test_block_is_pre_norm_with_residuals():
    torch.manual_seed(2)
    block = TransformerBlock(16, 2)
    x = torch.randn(2, 5, 16)
    h = x + block.attn(block.norm1(x))
    torch.testing.assert_close(block(x), h + block.mlp(block.norm2(h)))


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(patch_size=4, embed_dim=32, nb_blocks=1, num_heads=2),
        dict(patch_size=7, in_chans=3, num_classes=5, pos_embedding="sinusoidal"),
        dict(img_size=32, patch_size=4, in_chans=3, embed_dim=48, num_heads=3, mlp_ratio=2.0),
    ],
)
def test_vit_shapes(batch, kwargs):
    model = ViT(**kwargs)
    img, chans = kwargs.get("img_size", 28), kwargs.get("in_chans", 1)
    tokens = (img // kwargs.get("patch_size", 7)) ** 2 + 1
    assert model.pos_embed.shape == (1, tokens, kwargs.get("embed_dim", 64))
    assert model(torch.randn(batch, chans, img, img)).shape == (batch, kwargs.get("num_classes", 10))


def test_vit_sinusoidal_pos_embed_is_a_fixed_buffer():
    model = ViT(pos_embedding="sinusoidal")
    assert "pos_embed" not in dict(model.named_parameters())
    torch.testing.assert_close(model.pos_embed[0], sinusoidal_positional_encoding(17, 64))
    with pytest.raises(ValueError, match="rotary"):
        ViT(pos_embedding="rotary")


def test_vit_backward_reaches_cls_pos_and_patch_embedding():
    torch.manual_seed(3)
    model = ViT(patch_size=4, embed_dim=32, nb_blocks=2, num_heads=2)
    loss = F.cross_entropy(model(torch.randn(3, 1, 28, 28)), torch.tensor([0, 1, 2]))
    loss.backward()
    for name in ("cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.0.attn.q.weight", "head.weight"):
        grad = model.get_parameter(name).grad
        assert grad is not None and grad.abs().sum() > 0, f"no gradient reached {name}"


def test_vit_classifies_from_cls_token():
    torch.manual_seed(4)
    model = ViT(embed_dim=32, nb_blocks=1, num_heads=2).eval()
    x = torch.randn(2, 1, 28, 28)
    captured = {}
    model.norm.register_forward_hook(lambda m, i, o: captured.setdefault("tokens", o))
    logits = model(x)
    torch.testing.assert_close(logits, model.head(captured["tokens"][:, 0]))
