"""Attack: find the other sandboxes through /sys/fs/cgroup (their ``cgroup.procs``) and /proc/self/cgroup.

The cgroup tree lists every sandbox's group (``vitgrade-<slot>-*``) and the pids inside; a pid is the
way into another submission's process (its /proc entry, its signals). Defense: at the namespaced
levels the child has its own cgroup namespace (joined after it entered its group, so /proc/self/cgroup
says ``/``) and /sys/fs/cgroup is masked by an empty read-only tmpfs; at the ``uid`` level each
sandbox's group directories are readable by root only.
"""

import os

import torch


def sibling_pids() -> torch.Tensor:
    """Pids found in the cgroup.procs of any sandbox group, and how many such groups were seen."""
    pids, groups = [], 0
    for top, dirs, files in os.walk("/sys/fs/cgroup"):
        if top.count("/") > 8:
            dirs.clear()
            continue
        if os.path.basename(top).startswith("vitgrade-"):
            groups += 1
            try:
                with open(os.path.join(top, "cgroup.procs")) as handle:
                    pids += [int(p) for p in handle.read().split()]
                print("FOUND", top, pids)
            except OSError as error:
                print("denied", top, type(error).__name__)
    return torch.tensor([groups, len(pids), *pids])


def own_cgroup() -> str:
    with open("/proc/self/cgroup") as handle:
        text = handle.read()
    print("CGROUP", text)
    return text


def own_cgroup_mentions_sandbox() -> torch.Tensor:
    return torch.tensor([int("vitgrade" in own_cgroup())])
