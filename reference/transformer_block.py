"""Q5: the pre-norm transformer block."""

import torch
from torch import nn

from reference.mlp import MLP
from reference.multi_head_attention import MultiHeadSelfAttention


class TransformerBlock(nn.Module):
    """Q5: x' = x + MHSA(LN_1(x)), then y = x' + MLP(LN_2(x')) (pre-norm, two residuals)."""

    def __init__(self, embed_dim: int, num_heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(embed_dim)
        self.attn = MultiHeadSelfAttention(embed_dim, num_heads)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.mlp = MLP(embed_dim, int(embed_dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))  # (B, N, D)
        return x + self.mlp(self.norm2(x))  # (B, N, D)
