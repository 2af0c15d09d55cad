"""The IPC sweep of the ``uid`` level: a sandbox uid's SysV objects and POSIX queues are removed."""

import os
import shutil
import subprocess

import pytest

from grader.sandbox import ipc

UID = 60999  # a sandbox uid no slot of this test run holds (slots are numbered from the pid)
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="creating objects as another uid needs root")


@ROOT_ONLY
@pytest.mark.skipif(shutil.which("ipcmk") is None, reason="ipcmk (util-linux) is not installed")
def test_sysv_objects_of_the_uid_are_removed_and_no_others():
    mine = subprocess.run(["ipcmk", "-M", "65536", "-p", "0600"], capture_output=True, text=True, check=True)
    for flag in ("-M", "-Q", "-S"):
        args = ["ipcmk", flag] + (["65536"] if flag == "-M" else ["2"] if flag == "-S" else []) + ["-p", "0666"]
        subprocess.run(args, user=UID, group=UID, extra_groups=[], capture_output=True, check=True)
    try:
        assert sorted(kind for kind, _ in ipc.sysv_objects(UID)) == ["msg", "sem", "shm"]
        assert ipc.remove_ipc_objects(UID, UID) == 3
        assert ipc.sysv_objects(UID) == []
        own_id = int(mine.stdout.split()[-1])
        assert ("shm", own_id) in ipc.sysv_objects(0), "the grader's own segment must stay"
    finally:
        subprocess.run(["ipcrm", "-m", mine.stdout.split()[-1]], check=False)
        for kind, ident in ipc.sysv_objects(UID):
            subprocess.run(["ipcrm", {"shm": "-m", "msg": "-q", "sem": "-s"}[kind], str(ident)], check=False)


@ROOT_ONLY
@pytest.mark.parametrize("folder", ["MQUEUE_DIR", "SHM_DIR"])
def test_posix_queues_and_shm_of_the_uid_are_removed(tmp_path, monkeypatch, folder):
    monkeypatch.setattr(ipc, "MQUEUE_DIR", tmp_path / "none")
    monkeypatch.setattr(ipc, "SHM_DIR", tmp_path / "none")
    monkeypatch.setattr(ipc, folder, tmp_path)  # /dev/mqueue and /dev/shm: one file per object
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    for name, owner in (("leak", UID), ("other", 0)):
        (tmp_path / name).write_text("QSIZE:0")
        os.chown(tmp_path / name, owner, owner)
    (tmp_path / "link").symlink_to(outside)
    os.chown(tmp_path / "link", UID, UID, follow_symlinks=False)
    assert ipc.remove_ipc_objects(UID, UID) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other"]
    assert outside.is_dir(), "a link of the uid's was followed"
