"""ViT lab, student template: fill in every body that raises ``NotImplementedError``.

Keep the names, signatures and attribute names exactly as they are: the grader builds your modules
with the same arguments as its reference, loads the reference weights into them with
``load_state_dict(strict=True)`` and compares the outputs. The constructors are written for you.
"""

import math  # noqa: F401 - Q3 and Q4 need math.sqrt
from pathlib import Path

import timm  # noqa: F401 - Q8 builds its model with timm
import torch
from torch import nn


class PatchEmbedding(nn.Module):
    """Q1: split an image into non-overlapping patches and project each to ``embed_dim``.

    A Conv2d with kernel = stride = patch size applies one linear map to every patch:
    z_n = W vec(x_n) + b, for patches n = 1..N with N = (img_size / patch_size)^2.
    """

    def __init__(self, img_size: int = 28, patch_size: int = 7, in_chans: int = 1, embed_dim: int = 64):
        super().__init__()
        if img_size % patch_size != 0:
            raise ValueError(f"img_size ({img_size}) must be divisible by patch_size ({patch_size}).")
        self.img_size = img_size
        self.patch_size = patch_size
        self.num_patches = (img_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, N, D)."""
        # TODO: self.proj(x) is (B, D, H/p, W/p); flatten the grid to (B, D, N), then swap to (B, N, D).
        raise NotImplementedError(
            "Q1: PatchEmbedding.forward: apply self.proj, then reshape (B, D, H/p, W/p) -> (B, N, D)."
        )


class MLP(nn.Module):
    """Q2: MLP(x) = fc2(GELU(fc1(x))), one hidden layer, same input and output dimension."""

    def __init__(self, in_features: int, hidden_features: int):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, D) -> (B, N, D)."""
        # TODO: fc1 (B, N, D) -> (B, N, H), GELU, fc2 back to (B, N, D).
        raise NotImplementedError("Q2: MLP.forward: return fc2(act(fc1(x))), shape (B, N, D) -> (B, N, D).")


class SelfAttention(nn.Module):
    """Q3: one head, SA(X) = softmax(Q K^T / sqrt(d)) V W_o with Q = X W_q, K = X W_k, V = X W_v."""

    def __init__(self, embed_dim: int):
        super().__init__()
        self.embed_dim = embed_dim
        self.q = nn.Linear(embed_dim, embed_dim)
        self.k = nn.Linear(embed_dim, embed_dim)
        self.v = nn.Linear(embed_dim, embed_dim)
        self.proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, D) -> (B, N, D)."""
        # TODO: scores = Q K^T / sqrt(D) is (B, N, N); softmax over the last axis (the keys);
        # multiply by V to get (B, N, D); finish with self.proj.
        raise NotImplementedError("Q3: SelfAttention.forward: softmax(Q K^T / sqrt(D)) V, then self.proj; (B, N, D).")


class MultiHeadSelfAttention(nn.Module):
    """Q4: MHSA(X) = concat(head_1, ..., head_h) W_o, head_i = softmax(Q_i K_i^T / sqrt(d_h)) V_i.

    The D columns of Q, K and V are split equally among the h heads: d_h = D / h.
    """

    def __init__(self, embed_dim: int, num_heads: int):
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads}).")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.q = nn.Linear(embed_dim, embed_dim)
        self.k = nn.Linear(embed_dim, embed_dim)
        self.v = nn.Linear(embed_dim, embed_dim)
        self.proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, D) -> (B, N, D)."""
        # TODO: split Q, K, V into heads: (B, N, D) -> (B, N, h, d_h) -> transpose to (B, h, N, d_h);
        # attend in every head with sqrt(d_h); merge back (B, h, N, d_h) -> (B, N, h * d_h); self.proj.
        raise NotImplementedError(
            "Q4: MultiHeadSelfAttention.forward: split into heads (B, h, N, d_h), attend per head, "
            "merge back to (B, N, D), then self.proj."
        )


class TransformerBlock(nn.Module):
    """Q5: x' = x + MHSA(LN_1(x)), then y = x' + MLP(LN_2(x')) (pre-norm, two residuals)."""

    def __init__(self, embed_dim: int, num_heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(embed_dim)
        self.attn = MultiHeadSelfAttention(embed_dim, num_heads)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.mlp = MLP(embed_dim, int(embed_dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, D) -> (B, N, D)."""
        # TODO: normalise before each sub-layer (pre-norm) and add its input back (residual).
        raise NotImplementedError("Q5: TransformerBlock.forward: x + attn(norm1(x)), then + mlp(norm2(.)); (B, N, D).")


def sinusoidal_positional_encoding(num_tokens: int, embed_dim: int) -> torch.Tensor:
    """Q6: PE(k, 2i) = sin(k / 10000^(2i/d)), PE(k, 2i+1) = cos(k / 10000^(2i/d)); shape (num_tokens, d).

    k = 0 .. num_tokens - 1 is the token's position and d = embed_dim.
    """
    # TODO: positions k as (N, 1), exponents 2i/d as (ceil(d/2),), angles (N, ceil(d/2));
    # sin fills the even columns, cos the odd ones (mind an odd embed_dim).
    raise NotImplementedError(
        "Q6: sinusoidal_positional_encoding: return a (num_tokens, embed_dim) float32 table, "
        "sin(k / 10000^(2i/d)) in column 2i and cos(...) in column 2i+1."
    )


class ViT(nn.Module):
    """Q6: z_0 = [x_cls; x_1 E; ...; x_N E] + E_pos, z_l = Block(z_{l-1}), y = head(LN(z_L^0)).

    The [CLS] token sits at index 0; the classifier reads only that token after the final norm.
    ``pos_embed`` is learned, or the fixed sinusoidal table of ``sinusoidal_positional_encoding``.
    """

    def __init__(
        self,
        img_size: int = 28,
        patch_size: int = 7,
        in_chans: int = 1,
        num_classes: int = 10,
        embed_dim: int = 64,
        nb_blocks: int = 4,
        num_heads: int = 4,
        mlp_ratio: float = 4.0,
        pos_embedding: str = "learned",
    ):
        super().__init__()
        self.patch_embed = PatchEmbedding(img_size, patch_size, in_chans, embed_dim)
        num_tokens = self.patch_embed.num_patches + 1
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        if pos_embedding == "learned":
            self.pos_embed = nn.Parameter(torch.zeros(1, num_tokens, embed_dim))
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        elif pos_embedding == "sinusoidal":
            table = sinusoidal_positional_encoding(num_tokens, embed_dim)  # (N + 1, D)
            self.register_buffer("pos_embed", table.unsqueeze(0))  # (1, N + 1, D)
        else:
            raise ValueError(f"pos_embedding must be 'learned' or 'sinusoidal', got {pos_embedding!r}.")
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.blocks = nn.Sequential(*[TransformerBlock(embed_dim, num_heads, mlp_ratio) for _ in range(nb_blocks)])
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, num_classes) logits."""
        # TODO: patch_embed -> (B, N, D); prepend cls_token expanded to (B, 1, D) -> (B, N + 1, D);
        # add pos_embed; blocks; norm; head on the [CLS] token (index 0).
        raise NotImplementedError(
            "Q6: ViT.forward: patches (B, N, D), [CLS] first (B, N + 1, D), + pos_embed, blocks, norm, "
            "head on token 0 -> (B, num_classes)."
        )


def vit_small_for_mnist(
    pretrained: bool = False,
    weights_file: str | Path | None = None,
    *,
    img_size: int = 28,
    in_chans: int = 1,
    num_classes: int = 10,
    patch_size: int = 4,
) -> nn.Module:
    """Q8b: timm's ViT-S/16 (``vit_small_patch16_224``) rebuilt for (B, in_chans, img_size, img_size) inputs.

    With ``pretrained=True`` timm loads the weights (from ``weights_file`` when given, a local
    .safetensors/.pth file) and adapts them to the new image size, patch size, channels and classes.
    """
    # TODO: timm.create_model takes img_size, in_chans, num_classes and patch_size; for a local weights
    # file, look up pretrained_cfg_overlay (file=..., custom_load=False) in timm's documentation.
    raise NotImplementedError(
        "Q8: vit_small_for_mnist: create 'vit_small_patch16_224' with timm for this image size, patch size, "
        "channel count and class count (pretrained weights from weights_file when given)."
    )
