"""What the child can see and do, at each isolation level this machine offers."""

import os
from pathlib import Path

import pytest
import torch

from grader.sandbox import Sandbox, SandboxLimits, StudentError
from grader.sandbox.process import default_hidden_paths, python_paths

ROOT = Path(__file__).resolve().parents[3]
LIMITS = SandboxLimits(request_timeout_s=60, start_timeout_s=300, memory_bytes=3 * 2**30)
PROBE = """
import os, socket, torch

def exists(path):
    return torch.tensor([int(os.path.exists(path))])

def listing(path):
    return torch.tensor([len(os.listdir(path))])

def ids():
    return torch.tensor([os.getuid(), os.getgid()])

def inet():
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    return torch.ones(1)

def spawn():
    import subprocess
    subprocess.run(["/bin/true"], check=True)
    return torch.ones(1)
"""
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="the uid drop needs root")


def _expected_tmp_entries() -> list[str]:
    """The child's /tmp: its work dir, plus the mount points of a Python installation that lives under /tmp."""
    under_tmp = {Path(p).relative_to("/tmp").parts[0] for p in python_paths() if Path(p).is_relative_to("/tmp")}
    return sorted({"work", *under_tmp})


def _exists(box: Sandbox, path: Path) -> bool:
    return bool(box.request("call", {"name": "exists", "args": [str(path)]}).tensors["output"].item())


def test_hidden_paths_cover_the_repository_data_and_cache():
    hidden = default_hidden_paths()
    assert str(ROOT) in hidden
    assert str(Path.home()) in hidden
    assert str(Path.home() / ".cache" / "vitgrade") in hidden


@ROOT_ONLY
def test_root_level_hides_the_repository_and_drops_privileges():
    with Sandbox(PROBE, limits=LIMITS) as box:
        assert box.import_error is None, box.import_error
        mechanisms = set(box.isolation)
        assert {"netns", "mountns", "private_tmp", "rlimits", "no_new_privs", "seccomp"} <= mechanisms
        uid = next(int(m.split(":")[1]) for m in box.isolation if m.startswith("uid:"))
        assert box.request("call", {"name": "ids"}).tensors["output"].tolist() == [uid, uid]
        assert not _exists(box, ROOT / "reference" / "vit.py")
        assert not _exists(box, ROOT / "pyproject.toml")
        assert _exists(box, Path(torch.__file__))  # the Python installation stays visible
        entries = box.request("call", {"name": "listing", "args": ["/tmp"]}).tensors["output"].item()
        assert entries == len(_expected_tmp_entries())  # a fresh /tmp: the work dir (and Python, if it lives there)
        with pytest.raises(StudentError, match="Address family not supported|Permission"):
            box.request("call", {"name": "inet"})


@ROOT_ONLY
def test_userns_level_works_and_hides_the_repository():
    with Sandbox(PROBE, limits=LIMITS, isolation_level="userns") as box:
        assert box.import_error is None, box.import_error
        assert "userns" in box.isolation and "netns" in box.isolation
        assert not _exists(box, ROOT / "reference" / "vit.py")
        with pytest.raises(StudentError):
            box.request("call", {"name": "inet"})


def test_none_level_still_has_rlimits_seccomp_and_the_audit_hook():
    with Sandbox(PROBE, limits=LIMITS, isolation_level="none") as box:
        assert box.import_error is None, box.import_error
        assert {"rlimits", "no_new_privs", "audit_hook"} <= set(box.isolation)
        with pytest.raises(StudentError):
            box.request("call", {"name": "inet"})
        with pytest.raises(StudentError, match="disabled"):
            box.request("call", {"name": "spawn"})


@ROOT_ONLY
def test_directories_outside_the_allow_list_are_masked(tmp_path):
    sentinel = Path("/var/tmp") / f"vitgrade-sentinel-{os.getpid()}"
    sentinel.parent.mkdir(parents=True, exist_ok=True)
    sentinel.write_text("host only")
    try:
        with Sandbox(PROBE, limits=LIMITS) as box:
            assert "masked_fs" in box.isolation
            assert not _exists(box, sentinel)
            assert not _exists(box, Path.home() / ".bashrc")
            assert _exists(box, Path("/usr/bin"))
    finally:
        sentinel.unlink()


@ROOT_ONLY
def test_uid_level_runs_as_the_sandbox_uid_or_refuses_cleanly():
    try:
        box = Sandbox(PROBE, limits=LIMITS, isolation_level="uid").__enter__()
    except RuntimeError as error:  # e.g. Python installed under root's 0700 home, as on the dev VM
        assert "cannot read the Python installation" in str(error)
        return
    try:
        uid = next(int(m.split(":")[1]) for m in box.isolation if m.startswith("uid:"))
        assert box.request("call", {"name": "ids"}).tensors["output"].tolist() == [uid, uid]
        assert "netns" not in box.isolation
    finally:
        box.close()


@ROOT_ONLY
def test_userns_plan_applies_for_an_unprivileged_user():
    """The non-root path, exercised by a forked process that first becomes nobody (no Python exec needed)."""
    import ctypes

    from grader.sandbox.process import WorkDir, plan_for

    work = WorkDir()
    work.chown(65534, 65534)
    workdir = work.path
    plan = plan_for("userns", workdir, None, LIMITS, "cpu", None, default_hidden_paths())
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        report = "fail"
        try:
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE, as for a user that never changed uid
            plan.apply()
            import socket

            try:
                socket.socket(socket.AF_INET)
                inet = "allowed"
            except OSError:
                inet = "denied"
            repo = sorted(os.listdir(str(ROOT)))
            report = f"uid={os.getuid()} repo={repo} tmp={sorted(os.listdir('/tmp'))} inet={inet}"
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            report = f"fail {error!r}"
        finally:
            os.write(write, report.encode())
            os._exit(0)
    os.close(write)
    report = os.read(read, 4096).decode()
    os.close(read)
    os.waitpid(pid, 0)
    work.remove()
    assert report.startswith("uid=65534"), report
    assert "'reference'" not in report and "'pyproject.toml'" not in report, report
    assert f"tmp={_expected_tmp_entries()}" in report and "inet=denied" in report, report


@ROOT_ONLY
def test_slot_sweep_clears_what_a_dead_grader_left():
    import tempfile
    import time

    from grader.sandbox.cgroup import SandboxCgroup
    from grader.sandbox.process import SandboxSlot, live_pids_of_uid

    slot = SandboxSlot()
    try:
        stale_dir = Path(tempfile.mkdtemp(prefix=f"vitgrade-sbx-{slot.number}-", dir=tempfile.gettempdir()))
        group = SandboxCgroup.create(str(slot.number), memory_bytes=2**30, pids=8)
        pid = os.fork()
        if pid == 0:  # a leftover sandbox process of this slot's uid
            os.setresgid(slot.gid, slot.gid, slot.gid)
            os.setresuid(slot.uid, slot.uid, slot.uid)
            time.sleep(60)
            os._exit(0)
        time.sleep(0.2)
        assert live_pids_of_uid(slot.uid) == [pid]
        slot.sweep()
        os.waitpid(pid, 0)
        assert live_pids_of_uid(slot.uid) == []
        assert not stale_dir.exists()
        assert group is None or not any(d.exists() for d in group.dirs)
    finally:
        slot.release()


def test_parent_writes_never_follow_a_link_the_child_left(tmp_path):
    from grader.sandbox.process import WorkDir

    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    work = WorkDir()
    try:
        os.symlink(outside, os.path.join(work.path, "weights.bin"))
        work.write("weights.bin", b"new")
        assert outside.read_text() == "untouched"
        assert not os.path.islink(os.path.join(work.path, "weights.bin"))
        moved = work.path + "-moved"
        os.rename(work.path, moved)  # the child renames its dir and leaves a link to somewhere else
        os.symlink(tmp_path, work.path)
        work.write("weights.bin", b"again")  # still lands in the real (moved) directory
        assert Path(moved, "weights.bin").read_bytes() == b"again"
        assert not (tmp_path / "weights.bin").exists()
    finally:
        work.remove()
        if os.path.islink(work.path):
            os.unlink(work.path)
        import shutil

        shutil.rmtree(work.path + "-moved", ignore_errors=True)


def test_uid_base_can_be_moved_per_worker_container(monkeypatch):
    """The documented variable moves the uid range of the sandboxes a grade starts (read with the settings,
    not when the sandbox module is imported)."""
    from grader.settings import GraderSettings

    monkeypatch.setenv("VITGRADE_SANDBOX_UID_BASE", "61000")
    placement = GraderSettings().sandbox_placement()
    assert placement["uid_base"] == 61000
    assert Sandbox("x = 1", **placement).uid_base == 61000
    assert Sandbox("x = 1").uid_base == 61000  # a sandbox built without settings reads them afresh
