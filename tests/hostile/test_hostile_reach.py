"""Hostile submissions that try to reach past their sandbox: inherited descriptors, IPC objects, sockets of
every address family, other sandboxes' cgroups, and replies big enough to exhaust the parent.

Each test names its attack file (``attack_<name>.py``, see cases.py); the reference still grades after each.
"""

import errno
import importlib.util
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest
import torch
from test_hostile import LIMITS, cases, hostile, reference_still_works  # noqa: F401 - the autouse fixture

from grader.sandbox import Sandbox, SandboxCrashed, SandboxLimits, StudentError

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: a dedicated sandbox uid and cgroup")


def test_inherited_descriptor():
    with hostile("inherited_descriptor") as box:
        assert box.import_error is None, box.import_error
        table = box.request("call", {"name": "descriptors"}).tensors["output"]  # (num_fds, 2): fd, kind
        found = int(box.request("call", {"name": "escape"}).tensors["output"])
        log = box.log
    assert "FOUND" not in log, log
    assert found == 0
    fds = dict(table.tolist())
    assert len(fds) == 5, f"expected stdin, the log (stdout, stderr) and two protocol pipes, got {log}"
    assert fds[0] == 1 and all(kind == 0 for fd, kind in fds.items() if fd != 0), log


@pytest.mark.parametrize("start_method", ["zygote", "exec"])
def test_child_holds_only_stdio_and_the_protocol_pipes(start_method):
    probe = "import os\nimport torch\n\ndef fds():\n    return torch.tensor([len(os.listdir('/proc/self/fd'))])\n"
    with Sandbox(probe, limits=LIMITS, start_method=start_method) as box:
        count = int(box.request("call", {"name": "fds"}).tensors["output"])
    assert count == 6, f"expected 5 descriptors (+1 for the listing itself), got {count - 1}"


FAMILIES = {
    "inet": socket.AF_INET,
    "inet6": socket.AF_INET6,
    "vsock": 40,
    "netlink": 16,
    "packet": 17,
    "bluetooth": 31,
    "alg": 38,
    "can": 29,
    "tipc": 30,
    "rds": 21,
    "key": 15,
    "appletalk": 5,
    "x25": 9,
    "qipcrtr": 42,
    "smc": 43,
    "xdp": 44,
    "mctp": 45,
    "unspec": socket.AF_UNSPEC,
    "out_of_range": 255,
}


@pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES.keys())
def test_socket_families(family):
    with hostile("socket_families") as box:
        codes = box.request("call", {"name": "open_socket", "args": [family]}).tensors["output"].tolist()
        log = box.log
    assert "OPENED" not in log, log
    assert codes == [errno.EAFNOSUPPORT, errno.EAFNOSUPPORT], f"socket(), socketpair() of family {family}: {codes}"


@ROOT_ONLY
def test_sibling_cgroups():
    with Sandbox("SECRET = 1\n", limits=LIMITS) as victim, hostile("sibling_cgroups") as attacker:
        if "cgroup" not in victim.isolation:
            pytest.skip("no sandbox cgroups on this machine")
        found = attacker.request("call", {"name": "sibling_pids"}).tensors["output"].tolist()
        mentions = int(attacker.request("call", {"name": "own_cgroup_mentions_sandbox"}).tensors["output"])
        log = attacker.log
        assert victim.request("names").values["names"] == ["SECRET"]
    assert found == [0, 0], f"groups seen, pids read: {found}\n{log}"
    assert "FOUND" not in log
    if "mountns" in attacker.isolation:
        assert mentions == 0, f"/proc/self/cgroup names the sandbox's group: {log}"


def _ipc_attack_on_the_host():
    """The attack module loaded in this (the host's) process: its ``harvest`` looks at the host's IPC objects."""
    spec = importlib.util.spec_from_file_location("attack_ipc_host", cases.BY_NAME["ipc_objects"].path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _remove_from_host(attack) -> None:
    for flag in ("-M", "-Q", "-S"):
        subprocess.run(["ipcrm", flag, str(attack.KEY)], capture_output=True, check=False)
    attack._rt.mq_unlink(attack.MQ_NAME)
    Path(attack.SHM_PATH).unlink(missing_ok=True)


@pytest.mark.parametrize("level", ["root", "uid", "userns"])
def test_ipc_objects(level):
    if (level == "userns") == (os.geteuid() == 0):
        pytest.skip(f"level {level} is not tried when the grader's euid is {os.geteuid()}")
    attack = _ipc_attack_on_the_host()
    _remove_from_host(attack)
    try:
        try:
            planter = Sandbox(cases.BY_NAME["ipc_objects"].source(), limits=LIMITS, isolation_level=level)
            planter.start()
        except RuntimeError as error:
            pytest.skip(f"isolation level {level} is not available here: {error}")
        with planter:
            made = planter.request("call", {"name": "plant", "args": ["TOKEN-OF-THE-FIRST-SUBMISSION"]})
            assert made.tensors["output"].tolist() == [1, 1, 1, 1, 1], planter.log
            with hostile("ipc_objects") as neighbour:
                during = neighbour.request("call", {"name": "harvest"}).tensors["output"].tolist()
                neighbour_log = neighbour.log
        with hostile("ipc_objects") as successor:
            after = successor.request("call", {"name": "harvest"}).tensors["output"].tolist()
            successor_log = successor.log
        left = attack.harvest().tolist()
    finally:
        _remove_from_host(attack)
    kinds = "SysV shm, msg, sem, POSIX mq, POSIX shm"
    assert during == [0] * 5, f"a sandbox running beside it found ({kinds}): {during}\n{neighbour_log}"
    assert after == [0] * 5, f"the next sandbox found ({kinds}): {after}\n{successor_log}"
    assert left == [0] * 5, f"left on the host after close ({kinds}): {left}"


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.mark.parametrize(("extra_mib", "return_state"), [(500, False), (32, True)], ids=["500MiB", "32MiB_named"])
def test_oversized_reply(extra_mib, return_state):
    """An extra tensor is refused from the announced length or the payload's header, before its data is read."""
    source = cases.BY_NAME["oversized_reply"].source() + f"\narm({extra_mib})\n"
    limits = LIMITS.model_copy(update={"payload_bytes": SandboxLimits().payload_bytes})  # the default cap: 512 MiB
    x = torch.randn(2, 5, 16)
    rss_before = _rss()
    with Sandbox(source, limits=limits) as box:
        assert box.import_error is None, box.import_error
        args = {"name": "MultiHeadSelfAttention", "kwargs": {"embed_dim": 16, "num_heads": 4}, "seed": 0}
        with pytest.raises((SandboxCrashed, StudentError)) as caught:
            box.request("forward", args | {"return_state": return_state}, tensors={"input": x})
        log = box.log
        growth = _rss() - rss_before
    sent = max(int(n) for n in re.findall(r"SENT (\d+) of", log))
    assert "stolen" in caught.value.message or "exceeds the cap" in caught.value.message, caught.value.message
    assert sent < 4 << 20, f"the parent read {sent} bytes of an extra {extra_mib} MiB tensor"
    assert growth < 64 << 20, f"the parent's memory grew by {growth >> 20} MiB"
