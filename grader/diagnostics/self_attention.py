"""Q3 mistakes: single-head attention softmax(Q K^T / sqrt(d)) V, then the projection W_o."""

import math

import torch

from grader.diagnostics.catalog import Mistake, register
from reference.self_attention import SelfAttention


class NoScaling(SelfAttention):
    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.q(x) @ self.k(x).transpose(-2, -1)  # (B, N, N), not divided by sqrt(d)
        return scores.softmax(dim=-1)


class ScaleByD(SelfAttention):
    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.q(x) @ self.k(x).transpose(-2, -1) / self.embed_dim  # (B, N, N), divided by d
        return scores.softmax(dim=-1)


class SoftmaxOverQueries(SelfAttention):
    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.q(x) @ self.k(x).transpose(-2, -1) / math.sqrt(self.embed_dim)  # (B, N, N)
        return scores.softmax(dim=-2)  # columns sum to one instead of rows


class SoftmaxBeforeScaling(SelfAttention):
    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.q(x) @ self.k(x).transpose(-2, -1)  # (B, N, N)
        return scores.softmax(dim=-1) / math.sqrt(self.embed_dim)  # divided after the softmax


class NoProjection(SelfAttention):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attention_weights(x) @ self.v(x)  # (B, N, D), W_o skipped


register(
    Mistake(
        id="q3.no_scaling",
        question="Q3",
        name="no 1/sqrt(d) scaling of the attention scores",
        hint="Divide the scores by sqrt(d) before the softmax: softmax(Q K^T / math.sqrt(embed_dim)).",
        target=SelfAttention,
        variant=NoScaling,
    ),
    Mistake(
        id="q3.scale_by_d",
        question="Q3",
        name="scores divided by d instead of sqrt(d)",
        hint="The scaling is 1/sqrt(d), not 1/d: softmax(Q K^T / math.sqrt(embed_dim)).",
        target=SelfAttention,
        variant=ScaleByD,
    ),
    Mistake(
        id="q3.softmax_wrong_axis",
        question="Q3",
        name="the softmax over the wrong axis (queries instead of keys)",
        hint=(
            "Each query's weights over the keys must sum to one: softmax over the last axis of the (B, N, N) "
            "scores, scores.softmax(dim=-1), not dim=1 or dim=-2."
        ),
        target=SelfAttention,
        variant=SoftmaxOverQueries,
    ),
    Mistake(
        id="q3.softmax_before_scaling",
        question="Q3",
        name="the softmax taken before the 1/sqrt(d) scaling (scores divided after the softmax)",
        hint=(
            "Scale the scores, then normalise: softmax(Q K^T / math.sqrt(embed_dim), dim=-1). Dividing the "
            "softmax's output leaves rows that no longer sum to one and an unscaled, too sharp attention."
        ),
        target=SelfAttention,
        variant=SoftmaxBeforeScaling,
    ),
    Mistake(
        id="q3.no_projection",
        question="Q3",
        name="no final projection (self.proj skipped)",
        hint="Apply the output projection W_o after attention: return self.proj(attn @ v).",
        target=SelfAttention,
        variant=NoProjection,
    ),
)
