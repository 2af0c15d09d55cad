"""IPC objects a sandbox uid left behind: SysV shared memory, message queues and semaphores, POSIX queues and shm.

At the namespaced levels the child has its own IPC namespace, so its objects die with it. At the ``uid``
level it shares the host's: a 0666 segment would outlive the submission (holding memory) and be read
by the next one. There, the sandbox uid's objects are removed when the sandbox closes and when its slot
is taken again (after a grader that died). Removing needs CAP_SYS_ADMIN or the owner's uid: without the
capability (a default container) a short helper process running as the sandbox uid removes them.
POSIX queues are found through ``/dev/mqueue`` (mounted in containers by default), POSIX shared memory
objects in ``/dev/shm``.
"""

import ctypes
import ctypes.util
import errno
import functools
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

IPC_RMID = 0
SYSV_ID_COLUMN = {"shm": "shmid", "msg": "msqid", "sem": "semid"}  # /proc/sysvipc/<kind> columns
MQUEUE_DIR = Path("/dev/mqueue")
SHM_DIR = Path("/dev/shm")  # POSIX shared memory objects (shm_open) are files here
# Run as the sandbox uid when we may not remove its objects ourselves: argv[1] is [[kind, id], ...].
_AS_OWNER = """
import ctypes, json, sys
libc = ctypes.CDLL(None, use_errno=True)
for kind, ident in json.loads(sys.argv[1]):
    {"shm": lambda i: libc.shmctl(i, 0, None), "msg": lambda i: libc.msgctl(i, 0, None),
     "sem": lambda i: libc.semctl(i, 0, 0)}[kind](ident)
"""


def sysv_objects(uid: int) -> list[tuple[str, int]]:
    """(kind, id) of every SysV object in this IPC namespace owned or created by ``uid``."""
    found = []
    for kind, id_column in SYSV_ID_COLUMN.items():
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        columns = lines[0].split() if lines else []
        for line in lines[1:]:
            row = dict(zip(columns, line.split(), strict=False))
            if str(uid) in (row.get("uid"), row.get("cuid")):
                found.append((kind, int(row[id_column])))
    return found


@functools.cache
def _libc() -> ctypes.CDLL:
    """libc, found once (``find_library`` runs ``ldconfig``) and only when an object is to be removed."""
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _remove(kind: str, ident: int) -> int:
    """IPC_RMID one object; 0, or the errno."""
    libc = _libc()
    if kind == "shm":
        result = libc.shmctl(ident, IPC_RMID, None)
    elif kind == "msg":
        result = libc.msgctl(ident, IPC_RMID, None)
    else:
        result = libc.semctl(ident, 0, IPC_RMID)
    return 0 if result == 0 else ctypes.get_errno()


def remove_ipc_objects(uid: int, gid: int) -> int:
    """Remove every SysV object, POSIX queue and POSIX shm object of ``uid`` here; how many were found."""
    objects = sysv_objects(uid)
    refused = [(kind, ident) for kind, ident in objects if _remove(kind, ident) == errno.EPERM]
    if refused:
        try:
            command = [sys.executable, "-I", "-c", _AS_OWNER, json.dumps(refused)]
            subprocess.run(command, user=uid, group=gid, extra_groups=[], timeout=30, check=False, capture_output=True)
        except (OSError, subprocess.SubprocessError) as error:
            log.warning("could not remove IPC objects %s of uid %d: %s", refused, uid, error)
    posix = _remove_owned_entries(MQUEUE_DIR, uid) + _remove_owned_entries(SHM_DIR, uid)
    left = sysv_objects(uid)
    if left:
        log.warning("IPC objects of sandbox uid %d are left: %s", uid, left)
    return len(objects) + posix


def _remove_owned_entries(folder: Path, uid: int) -> int:
    """Remove the entries of ``folder`` (not below) that ``uid`` owns; links are removed, never followed."""
    removed = 0
    if not folder.is_dir():
        return 0
    for entry in os.scandir(folder):
        try:
            if entry.stat(follow_symlinks=False).st_uid != uid:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed += 1
        except OSError as error:
            log.warning("could not remove %s of uid %d: %s", entry.path, uid, error)
    return removed
