"""Attack: read the reference solution from disk and leak it (security.md #1).

Defense: the repository is masked by an empty read-only tmpfs in the child's mount namespace and the
child runs as an unprivileged uid; ``reference`` is not importable. Leaks would go to the log
(printed at import) and to the reply of ``steal``.
"""

import glob
import os

import torch

_CANDIDATES = ["/work/main/reference/vit.py", *glob.glob("/*/*/reference/vit.py"), *glob.glob("/*/reference/vit.py")]
for _path in _CANDIDATES:
    try:
        with open(_path) as _handle:
            print("FOUND", _path, _handle.read())
    except OSError as _error:
        print("denied", _path, type(_error).__name__)
try:
    import reference.vit as _stolen

    print("FOUND import reference", open(_stolen.__file__).read())
except Exception as _error:
    print("denied import reference", type(_error).__name__)


def steal(path: str) -> torch.Tensor:
    """Return the bytes of ``path`` as a uint8 tensor."""
    with open(path, "rb") as handle:
        return torch.frombuffer(bytearray(handle.read()), dtype=torch.uint8)
