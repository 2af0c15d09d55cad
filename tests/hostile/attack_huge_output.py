"""Attack: return a huge tensor (1 GiB) to exhaust the parent's memory (security.md #14).

Defense: the parent checks the announced payload length against its cap before allocating
anything, then kills the child (SandboxCrashed).
"""

import torch


def huge() -> torch.Tensor:
    return torch.zeros(2**28)
