"""Q4 mistakes: splitting D into h heads, scaling by sqrt(d_h), merging the heads back, projecting."""

import math

import torch

from grader.diagnostics.catalog import Mistake, register
from reference.multi_head_attention import MultiHeadSelfAttention


class NoScaling(MultiHeadSelfAttention):
    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        q, k = self._split_heads(self.q(x)), self._split_heads(self.k(x))  # (B, h, N, d_h)
        return (q @ k.transpose(-2, -1)).softmax(dim=-1)  # (B, h, N, N), unscaled


class ScaleByEmbedDim(MultiHeadSelfAttention):
    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        q, k = self._split_heads(self.q(x)), self._split_heads(self.k(x))  # (B, h, N, d_h)
        return (q @ k.transpose(-2, -1) / math.sqrt(self.embed_dim)).softmax(dim=-1)  # (B, h, N, N)


class SoftmaxOverQueries(MultiHeadSelfAttention):
    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        q, k = self._split_heads(self.q(x)), self._split_heads(self.k(x))  # (B, h, N, d_h)
        return (q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)).softmax(dim=-2)  # (B, h, N, N)


class SoftmaxOverHeads(MultiHeadSelfAttention):
    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        q, k = self._split_heads(self.q(x)), self._split_heads(self.k(x))  # (B, h, N, d_h)
        return (q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)).softmax(dim=1)  # (B, h, N, N)


class SplitWithoutTranspose(MultiHeadSelfAttention):
    """view(B, h, N, d_h) straight from (B, N, D), and the inverse view to merge."""

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, N, _ = x.shape
        return x.reshape(B, self.num_heads, N, self.head_dim)  # (B, h, N, d_h) in shape only

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        out = self.attention_weights(x) @ self._split_heads(self.v(x))  # (B, h, N, d_h)
        return self.proj(out.reshape(B, N, D))  # (B, N, D), the inverse of the split


class SplitWithoutTransposeOnly(SplitWithoutTranspose):
    """The split of ``SplitWithoutTranspose`` with the reference's transpose-then-reshape merge."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        out = self.attention_weights(x) @ self._split_heads(self.v(x))  # (B, h, N, d_h)
        return self.proj(out.transpose(1, 2).reshape(B, N, D))  # (B, N, D)


class MergeWithoutTranspose(MultiHeadSelfAttention):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        out = self.attention_weights(x) @ self._split_heads(self.v(x))  # (B, h, N, d_h)
        return self.proj(out.reshape(B, N, D))  # (B, N, D) in shape only: heads and tokens mixed


class NoProjection(MultiHeadSelfAttention):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        out = self.attention_weights(x) @ self._split_heads(self.v(x))  # (B, h, N, d_h)
        return out.transpose(1, 2).reshape(B, N, D)  # (B, N, D), W_o skipped


SPLIT_HINT = (
    "Split the heads with a view then a transpose: x.view(B, N, h, d_h).transpose(1, 2) -> (B, h, N, d_h); "
    "a view straight to (B, h, N, d_h) cuts the token axis into pieces instead of the embedding axis."
)

register(
    Mistake(
        id="q4.no_scaling",
        question="Q4",
        name="no 1/sqrt(d_h) scaling of the attention scores",
        hint="Divide each head's scores by sqrt(d_h) = sqrt(embed_dim / num_heads) before the softmax.",
        target=MultiHeadSelfAttention,
        variant=NoScaling,
    ),
    Mistake(
        id="q4.scale_by_embed_dim",
        question="Q4",
        name="scores scaled by sqrt(embed_dim) instead of sqrt(head_dim)",
        hint="Each head works in d_h = embed_dim / num_heads dimensions: divide by math.sqrt(head_dim).",
        target=MultiHeadSelfAttention,
        variant=ScaleByEmbedDim,
    ),
    Mistake(
        id="q4.softmax_wrong_axis",
        question="Q4",
        name="the softmax over the query axis instead of the key axis",
        hint="Normalise each query's scores over the keys: scores.softmax(dim=-1) on (B, h, N, N), not dim=-2.",
        target=MultiHeadSelfAttention,
        variant=SoftmaxOverQueries,
    ),
    Mistake(
        id="q4.softmax_over_heads",
        question="Q4",
        name="the softmax over the heads axis (dim=1)",
        hint="On (B, h, N, N) scores dim=1 is the heads axis; the softmax goes over the keys: dim=-1.",
        target=MultiHeadSelfAttention,
        variant=SoftmaxOverHeads,
    ),
    Mistake(
        id="q4.split_without_transpose",
        question="Q4",
        name="heads split by a view to (B, h, N, d_h) without a transpose",
        hint=SPLIT_HINT + " Merge back with out.transpose(1, 2).reshape(B, N, D).",
        target=MultiHeadSelfAttention,
        variant=SplitWithoutTranspose,
    ),
    Mistake(
        id="q4.split_without_transpose_only",
        question="Q4",
        name="heads split by a view to (B, h, N, d_h) without a transpose (merge with one)",
        hint=SPLIT_HINT,
        target=MultiHeadSelfAttention,
        variant=SplitWithoutTransposeOnly,
    ),
    Mistake(
        id="q4.merge_without_transpose",
        question="Q4",
        name="heads merged by a reshape of (B, h, N, d_h) to (B, N, D) without a transpose",
        hint="Bring the heads next to d_h before merging: out.transpose(1, 2).reshape(B, N, D).",
        target=MultiHeadSelfAttention,
        variant=MergeWithoutTranspose,
    ),
    Mistake(
        id="q4.no_projection",
        question="Q4",
        name="no final projection (self.proj skipped)",
        hint="After concatenating the heads apply W_o: return self.proj(out).",
        target=MultiHeadSelfAttention,
        variant=NoProjection,
    ),
)
