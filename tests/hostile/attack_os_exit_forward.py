"""Attack: ``os._exit(0)`` in the middle of a forward pass, skipping every check (security.md #6).

Defense: the parent sees the result pipe close without an answer and raises SandboxCrashed (never a
pass); the next request starts a fresh child.
"""

import os

from torch import nn


class ExitingAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int):
        super().__init__()
        self.proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x):
        os._exit(0)
