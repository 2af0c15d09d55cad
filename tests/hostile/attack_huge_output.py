"""Attack: return a huge tensor (256 MiB here; the test caps replies at 64 MiB) to exhaust the parent (security.md #14).

Defense: the parent checks the announced payload length against its cap before allocating
anything, then kills the child (SandboxCrashed).
"""

import torch


def huge() -> torch.Tensor:
    return torch.zeros(2**26)
