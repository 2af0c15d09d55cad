"""Q1: patch embedding."""

import torch
from torch import nn


class PatchEmbedding(nn.Module):
    """Q1: split an image into non-overlapping patches and project each to ``embed_dim``.

    A Conv2d with kernel = stride = patch size is a linear map applied to every patch:
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
        B, C, H, W = x.shape
        if (H, W) != (self.img_size, self.img_size):
            raise ValueError(f"Input size ({H}x{W}) doesn't match model ({self.img_size}x{self.img_size}).")
        x = self.proj(x)  # (B, D, H/p, W/p)
        x = x.flatten(2)  # (B, D, N)
        return x.transpose(1, 2)  # (B, N, D)
