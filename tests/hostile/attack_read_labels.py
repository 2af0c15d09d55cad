"""Attack: read the MNIST test labels from the data dir, to answer the accuracy check (security.md #1).

Defense: the data dir and the grader cache (``~/.cache/vitgrade``) are masked in the child's mount
namespace, the grader's home too, and the child's uid has no access to root's files.
"""

import glob
import os

import torch

for _path in glob.glob("/root/.cache/vitgrade/**/t10k-labels*", recursive=True) + glob.glob("/work/**/t10k-labels*"):
    try:
        print("FOUND", _path, len(open(_path, "rb").read()))
    except OSError as _error:
        print("denied", _path, type(_error).__name__)


def steal(path: str) -> torch.Tensor:
    """Return the bytes of ``path`` as a uint8 tensor."""
    with open(path, "rb") as handle:
        return torch.frombuffer(bytearray(handle.read()), dtype=torch.uint8)
