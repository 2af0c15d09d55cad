"""Attack: allocate 50 GB, at once or page by page (security.md #9).

Defense: RLIMIT_AS (CPU) makes the big allocation fail (StudentError); the cgroup memory limit
without swap kills a child that touches page after page (SandboxCrashed). The host is unaffected.
"""

import torch


def bomb_at_once():
    return torch.ones(50 * 2**30 // 4)


def bomb_gradually():
    hoard = []
    for _ in range(50 * 2**30 // (64 * 2**20)):
        hoard.append(torch.ones(16 * 2**20))  # 64 MiB, touched
    return hoard[0]
