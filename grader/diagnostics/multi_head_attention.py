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


class SoftmaxBeforeScaling(MultiHeadSelfAttention):
    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        q, k = self._split_heads(self.q(x)), self._split_heads(self.k(x))  # (B, h, N, d_h)
        return (q @ k.transpose(-2, -1)).softmax(dim=-1) / math.sqrt(self.head_dim)  # divided after the softmax


class BlockDiagonalProjections(MultiHeadSelfAttention):
    """Head i's q, k and v see only columns i*d_h..(i+1)*d_h of the input: per-head Linear(d_h, d_h) layers,
    which are the diagonal blocks of the contract's Linear(D, D)."""

    def _project(self, layer: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        h, dh = self.num_heads, self.head_dim
        pieces = x.view(B, N, h, dh)  # (B, N, h, d_h): head i's slice of the input
        blocks = layer.weight.view(h, dh, h, dh).diagonal(dim1=0, dim2=2).permute(2, 0, 1)  # (h, d_h out, d_h in)
        out = torch.einsum("bnhi,hoi->bhno", pieces, blocks)  # (B, h, N, d_h)
        return out + layer.bias.view(1, h, 1, dh)

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        q, k = self._project(self.q, x), self._project(self.k, x)  # (B, h, N, d_h)
        return (q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)).softmax(dim=-1)  # (B, h, N, N)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        out = self.attention_weights(x) @ self._project(self.v, x)  # (B, h, N, d_h)
        return self.proj(out.transpose(1, 2).reshape(B, N, D))  # (B, N, D)


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
        id="q4.softmax_before_scaling",
        question="Q4",
        name="the softmax taken before the 1/sqrt(d_h) scaling (scores divided after the softmax)",
        hint=(
            "Scale each head's scores, then normalise: softmax(Q_i K_i^T / math.sqrt(head_dim), dim=-1); "
            "dividing after the softmax leaves rows that no longer sum to one."
        ),
        target=MultiHeadSelfAttention,
        variant=SoftmaxBeforeScaling,
    ),
    Mistake(
        id="q4.block_diagonal_projections",
        question="Q4",
        name="per-head q/k/v projections that see only their head's slice of the input (block-diagonal)",
        hint=(
            "Project the whole token first, then split the result: q = self.q(x) with nn.Linear(D, D), then "
            "q.view(B, N, h, d_h).transpose(1, 2). Each head's Q, K and V depend on all D input features; "
            "splitting x before the projection (per-head Linear(d_h, d_h)) keeps only the diagonal blocks."
        ),
        target=MultiHeadSelfAttention,
        variant=BlockDiagonalProjections,
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
