"""Q3: single-head self-attention."""

import math

import torch
from torch import nn


class SelfAttention(nn.Module):
    """Q3: one head, SA(X) = softmax(Q K^T / sqrt(d)) V W_o with Q = X W_q, K = X W_k, V = X W_v."""

    def __init__(self, embed_dim: int):
        super().__init__()
        self.embed_dim = embed_dim
        self.q = nn.Linear(embed_dim, embed_dim)
        self.k = nn.Linear(embed_dim, embed_dim)
        self.v = nn.Linear(embed_dim, embed_dim)
        self.proj = nn.Linear(embed_dim, embed_dim)

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The (B, N, N) matrix softmax(Q K^T / sqrt(d)); row n says where token n looks."""
        q, k = self.q(x), self.k(x)  # (B, N, D) each
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.embed_dim)  # (B, N, N)
        return scores.softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.attention_weights(x) @ self.v(x)  # (B, N, D)
        return self.proj(out)
