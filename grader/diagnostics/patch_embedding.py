"""Q1 mistakes: the patch embedding's reshape from the conv's (B, D, H/p, W/p) to tokens (B, N, D)."""

import torch

from grader.diagnostics.catalog import Mistake, register
from reference.patch_embedding import PatchEmbedding


class ReshapeWithoutTranspose(PatchEmbedding):
    """x.reshape(B, N, D) straight from (B, D, H/p, W/p): mixes channels and patches."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)  # (B, D, H/p, W/p)
        B, D = x.shape[:2]
        return x.reshape(B, -1, D)  # (B, N, D) in shape only: memory is still (B, D, N)


class ColumnMajorPatches(PatchEmbedding):
    """Tokens ordered column by column instead of row by row."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)  # (B, D, H/p, W/p)
        x = x.transpose(2, 3).flatten(2)  # (B, D, N), column-major
        return x.transpose(1, 2)  # (B, N, D)


register(
    Mistake(
        id="q1.reshape_without_transpose",
        question="Q1",
        name="a reshape to (B, N, D) without the transpose",
        hint=(
            "The conv gives (B, D, H/p, W/p); reshaping it straight to (B, N, D) mixes embedding channels "
            "with patches. Flatten the grid and swap the axes: x.flatten(2).transpose(1, 2)."
        ),
        target=PatchEmbedding,
        variant=ReshapeWithoutTranspose,
    ),
    Mistake(
        id="q1.column_major",
        question="Q1",
        name="patches ordered column by column",
        hint=(
            "Token n should be the patch at row n // (W/p), column n % (W/p) (row-major, as flatten(2) gives); "
            "drop the extra transpose of the H and W axes."
        ),
        target=PatchEmbedding,
        variant=ColumnMajorPatches,
    ),
)
