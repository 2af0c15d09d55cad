"""Attack: read another student's submission from a sandbox running at the same time.

Tries the other sandbox's work dir on the host, its ``/proc/<pid>/root`` view and its environment.
Defense: each sandbox has a private /tmp (the host's is not visible), its own uid, and a procfs
mounted with hidepid=2, so other users' processes are invisible.
"""

import torch


def steal(paths: list[str]) -> torch.Tensor:
    found = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                found.append(handle.read())
            print("FOUND", path)
        except OSError as error:
            print("denied", path, type(error).__name__)
    return torch.tensor([len(found)])
