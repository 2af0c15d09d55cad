"""Q4: multi-head self-attention."""

import math

import torch
from torch import nn


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

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, N, _ = x.shape
        x = x.view(B, N, self.num_heads, self.head_dim)  # (B, N, h, d_h)
        return x.transpose(1, 2)  # (B, h, N, d_h)

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The (B, h, N, N) attention matrices, one per head."""
        q, k = self._split_heads(self.q(x)), self._split_heads(self.k(x))  # (B, h, N, d_h)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # (B, h, N, N)
        return scores.softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        out = self.attention_weights(x) @ self._split_heads(self.v(x))  # (B, h, N, d_h)
        out = out.transpose(1, 2).reshape(B, N, D)  # (B, N, h * d_h)
        return self.proj(out)
