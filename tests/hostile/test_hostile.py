"""Hostile submissions against the sandbox: each attack fails, and a fresh sandbox still grades the reference.

One test per attack file in this folder (see cases.py). Limits are low so the suite stays fast.
"""

import importlib.util
import os
import re
import socket
import sys
from pathlib import Path

import pytest
import torch

from grader.sandbox import Sandbox, SandboxCrashed, SandboxLimits, SandboxTimeout, StudentError
from grader.sandbox.process import live_pids_of_uid
from reference import MultiHeadSelfAttention
from reference.bundle import bundle_submission

_spec = importlib.util.spec_from_file_location("hostile_cases", Path(__file__).with_name("cases.py"))
cases = importlib.util.module_from_spec(_spec)
sys.modules["hostile_cases"] = cases
_spec.loader.exec_module(cases)

REPO = Path(__file__).resolve().parents[2]
LIMITS = SandboxLimits(
    request_timeout_s=20,
    start_timeout_s=60,
    total_timeout_s=120,
    memory_bytes=1536 * 2**20,
    address_space_bytes=12 * 2**30,
    processes=48,
    log_bytes=16 * 1024,
    payload_bytes=64 * 2**20,
)
MHSA_ARGS = {"name": "MultiHeadSelfAttention", "kwargs": {"embed_dim": 16, "num_heads": 4}, "seed": 0}
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: a dedicated sandbox uid and cgroup")


def hostile(name: str, **overrides) -> Sandbox:
    limits = LIMITS.model_copy(update=overrides)
    return Sandbox(cases.BY_NAME[name].source(), limits=limits)


def sandbox_uid(box: Sandbox) -> int | None:
    for mechanism in box.isolation:
        if mechanism.startswith("uid:"):
            return int(mechanism.split(":")[1])
    return None


@pytest.fixture(autouse=True)
def reference_still_works():
    """After every attack: a fresh sandbox with the reference answers a forward like the reference."""
    yield
    x = torch.randn(2, 5, 16, generator=torch.Generator().manual_seed(1))
    with Sandbox(bundle_submission(), limits=LIMITS) as box:
        assert box.import_error is None, box.import_error
        reply = box.request("forward", {**MHSA_ARGS, "return_state": True}, tensors={"input": x})
    model = MultiHeadSelfAttention(16, 4)
    model.load_state_dict({k[6:]: v for k, v in reply.tensors.items() if k.startswith("state.")})
    with torch.no_grad():
        expected = model(x)
    assert torch.allclose(reply.tensors["output"], expected, atol=1e-6), "reference forward differs after an attack"


def test_every_attack_has_a_file_and_a_test():
    names = {case.name for case in cases.CASES}
    tested = {
        name.removeprefix("test_")
        for path in Path(__file__).parent.glob("test_*.py")
        for name in re.findall(r"^def (test_\w+)", path.read_text(), flags=re.M)
    }
    assert len(names) >= 15
    assert names <= tested, f"attacks without a test: {sorted(names - tested)}"
    for case in cases.CASES:
        assert "Defense" in case.path.read_text(), f"{case.path.name} does not say what defends it"


def test_read_reference():
    marker = (REPO / "reference" / "vit.py").read_text().splitlines()[0]
    assert marker not in bundle_submission(), "the marker must only be on disk"
    with hostile("read_reference") as box:
        assert box.import_error is None, box.import_error
        with pytest.raises(StudentError) as caught:
            box.request("call", {"name": "steal", "args": [str(REPO / "reference" / "vit.py")]})
        assert "FileNotFoundError" in caught.value.message or "PermissionError" in caught.value.message
        log = box.log
    assert "FOUND" not in log and marker not in log
    assert "denied" in log


def test_read_labels():
    from reference.mnist import profile_root

    labels = profile_root("bundled") / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    assert labels.is_file()
    with hostile("read_labels") as box:
        with pytest.raises(StudentError) as caught:
            box.request("call", {"name": "steal", "args": [str(labels)]})
        assert caught.value.kind == "exception"
        assert "FOUND" not in box.log


def test_patch_torch():
    x = torch.randn(2, 5, 16, generator=torch.Generator().manual_seed(2))
    with hostile("patch_torch") as box:
        assert "patched the harness" in box.log
        reply = box.request("forward", {**MHSA_ARGS, "return_state": True}, tensors={"input": x})
    assert torch.allclose(torch.zeros(3), torch.ones(3)) is False, "the parent's torch was patched"
    assert type(reply.tensors["output"]) is torch.Tensor
    model = MultiHeadSelfAttention(16, 4)
    with torch.no_grad():
        expected = model(x)
    assert not torch.allclose(reply.tensors["output"], expected), "a patched harness can only send wrong numbers"


def test_tensor_subclass():
    with hostile("tensor_subclass") as box:
        args = {"name": "LyingAttention", "kwargs": {"embed_dim": 16, "num_heads": 4}}
        with pytest.raises(StudentError) as caught:
            box.request("forward", args, tensors={"input": torch.randn(2, 5, 16)})
        assert caught.value.kind == "bad_output" and "LyingTensor" in caught.value.message
        with pytest.raises(StudentError) as caught:
            box.request("call", {"name": "not_a_tensor"})
        assert caught.value.kind == "bad_output"


def test_sys_exit_import():
    with hostile("sys_exit_import") as box:
        assert box.import_error is not None and "SystemExit" in box.import_error
        assert box.defined_names == []
        with pytest.raises(StudentError):
            box.request("forward", MHSA_ARGS, tensors={"input": torch.randn(2, 5, 16)})


def test_os_exit_forward():
    with hostile("os_exit_forward") as box:
        args = {"name": "ExitingAttention", "kwargs": {"embed_dim": 16, "num_heads": 4}}
        with pytest.raises(SandboxCrashed) as caught:
            box.request("forward", args, tensors={"input": torch.randn(2, 5, 16)})
        assert caught.value.status == 0
        assert "MultiHeadSelfAttention" in box.request("names").values["names"], "no restart after the crash"


def test_fake_report():
    with hostile("fake_report") as box:
        args = {"name": "ForgingAttention", "kwargs": {"embed_dim": 16, "num_heads": 4}}
        with pytest.raises(SandboxCrashed) as caught:
            box.request("forward", args, tensors={"input": torch.randn(2, 5, 16)})
        assert "forged" in caught.value.message
        assert '"score": 100' in box.log  # only ever a log line


@ROOT_ONLY
def test_fork_bomb():
    with hostile("fork_bomb", request_timeout_s=3, processes=32) as box:
        uid = sandbox_uid(box)
        if uid is None:
            pytest.skip("no dedicated uid: the pids limit would not be in force")
        with pytest.raises((SandboxTimeout, StudentError, SandboxCrashed)):
            box.request("call", {"name": "bomb"})
    assert live_pids_of_uid(uid) == []


def test_memory_bomb():
    rss_before = _rss()
    with hostile("memory_bomb") as box:
        with pytest.raises((StudentError, SandboxCrashed)):
            box.request("call", {"name": "bomb_at_once"})
        if "cgroup" in box.isolation:
            with pytest.raises(SandboxCrashed) as caught:
                box.request("call", {"name": "bomb_gradually"})
            assert "memory limit reached" in caught.value.message
    assert _rss() - rss_before < 256 * 2**20


def test_import_loop():
    with hostile("import_loop", import_timeout_s=5) as box:
        assert box.import_error is not None and "did not finish" in box.import_error
        uid = sandbox_uid(box)
    if uid is not None:
        assert live_pids_of_uid(uid) == []


def test_sleep_forward():
    with hostile("sleep_forward") as box:
        args = {"name": "SleepingAttention", "kwargs": {"embed_dim": 16, "num_heads": 4}}
        with pytest.raises(SandboxTimeout):
            box.request("forward", args, tensors={"input": torch.randn(2, 5, 16)}, timeout=2)
        assert "ViT" in box.request("names").values["names"]


def test_socket():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    try:
        with hostile("socket") as box:
            with pytest.raises(StudentError) as caught:
                box.request("call", {"name": "connect", "args": [server.getsockname()[1]]})
            assert caught.value.kind == "exception"
        with pytest.raises(TimeoutError):
            server.accept()
    finally:
        server.close()


def test_write_outside(tmp_path):
    from reference.mnist import default_data_dir

    targets = [tmp_path / "sentinel", REPO / ".hostile-sentinel", default_data_dir() / ".hostile-sentinel"]
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("original")
    shm = Path("/dev/shm/vitgrade-hostile-poison")
    try:
        with hostile("write_outside") as box:
            reply = box.request("call", {"name": "overwrite", "args": [[*map(str, targets), str(shm)]]})
        for target in targets:
            assert target.read_text() == "original", f"{target} was overwritten"
        assert not shm.exists(), "the child wrote into the host's /dev/shm"
        assert int(reply.tensors["output"]) <= 2  # at most its private tmp and shm
    finally:
        for target in targets[1:]:
            target.unlink(missing_ok=True)
        shm.unlink(missing_ok=True)


def test_unbounded_output():
    with hostile("unbounded_output") as box:
        log = box.log
        assert box.import_error is None
    assert len(log) < LIMITS.log_bytes + 200
    assert "log truncated" in log


def test_setsid_grandchild():
    with hostile("setsid_grandchild") as box:
        match = re.search(r"GRANDCHILD (\d+)", box.log)
        assert match, box.log
        pid = int(match.group(1))
        assert _alive(pid)
    assert not _alive(pid), f"the setsid() grandchild {pid} survived close()"


def test_huge_output():
    with hostile("huge_output") as box:
        with pytest.raises(SandboxCrashed) as caught:
            box.request("call", {"name": "huge"})
        assert "exceeds the cap" in caught.value.message


def test_pickle(tmp_path):
    flag = tmp_path / "pickle-ran"
    with hostile("pickle") as box:
        with pytest.raises(StudentError) as caught:
            box.request("call", {"name": "smuggle", "args": [str(flag)]})
        assert caught.value.kind == "bad_output"
    assert not flag.exists()


def test_environment(monkeypatch):
    monkeypatch.setenv("VITGRADE_HOSTILE_SECRET", "hunter2-secret")
    with hostile("environment") as box:
        log = box.log
    assert "hunter2-secret" not in log
    assert "FOUND" not in log or os.geteuid() != 0


def test_other_sandbox():
    secret = "OTHER_STUDENTS_SECRET_42"
    with Sandbox(f"SECRET = {secret!r}\n", limits=LIMITS) as victim, hostile("other_sandbox") as attacker:
        pid = victim._child.pid
        paths = [f"{victim._workdir}/submission.py", f"/proc/{pid}/root/tmp/work/submission.py", f"/proc/{pid}/environ"]
        reply = attacker.request("call", {"name": "steal", "args": [paths]})
        log = attacker.log
        assert victim.request("names").values["names"] == ["SECRET"]  # the victim is unharmed
    assert reply.tensors["output"].tolist() == [0], log
    assert secret not in log and "FOUND" not in log


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
