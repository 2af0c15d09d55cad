"""Attack: write into the repository, the data dir, the host's /tmp and /dev/shm (security.md #12).

Defense: those directories are masked read-only or replaced by the child's private tmpfs, and the
child runs as an unprivileged uid; the host's files stay untouched.
"""

import torch


def overwrite(paths: list[str]) -> torch.Tensor:
    written = 0
    for path in paths:
        try:
            with open(path, "w") as handle:
                handle.write("pwned")
            written += 1
        except OSError as error:
            print("denied", path, type(error).__name__)
    return torch.tensor([written])
