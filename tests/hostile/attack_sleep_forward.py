"""Attack: ``time.sleep(10**9)`` in forward (security.md #10).

Defense: the per-request wall-clock limit raises SandboxTimeout and kills the child; the next
request starts a fresh one; the per-submission budget bounds the total.
"""

import time

from torch import nn


class SleepingAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int):
        super().__init__()
        self.proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x):
        time.sleep(10**9)
