"""The child process: slot and uid, private work dir, spawn with isolation, captured log, kill.

One ``SandboxSlot`` per ``Sandbox`` (a dedicated uid, ``sandbox_uid_base`` + slot, held with a lock file so
concurrent graders never share one); one ``ChildProcess`` per start of the harness (the sandbox
restarts it after a timeout or crash). Killing is thorough: the process group, then the cgroup,
then every process of the sandbox uid (so a ``setsid()`` grandchild dies too), then reaping.
"""

import contextlib
import dataclasses
import fcntl
import logging
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from grader.devices import child_device, child_environment
from grader.sandbox.cgroup import SandboxCgroup
from grader.sandbox.cgroup import remove_stale as remove_stale_cgroups
from grader.sandbox.forkserver import fork_server
from grader.sandbox.ipc import remove_ipc_objects
from grader.sandbox.isolation import IsolationPlan, mount_tmpfs, rlimits_for, set_child_subreaper, unmount
from grader.sandbox.limits import SandboxLimits

log = logging.getLogger(__name__)

HARNESS = Path(__file__).with_name("harness.py")
# Sandbox uids are uid_base + slot (the grader's ``sandbox_uid_base`` setting). Slots are locked per machine
# (SLOT_DIR), so two containers on one host that do not share /run must use disjoint bases: RLIMIT_NPROC
# counts a uid's processes host-wide.
UID_BASE = 60000  # the default of the grader's sandbox_uid_base setting
SLOTS = 1000
MODULE_FILE = "submission.py"
WORKDIR_PREFIX = "vitgrade-sbx-"
SLOT_DIR = Path("/run/vitgrade-sandbox-slots")  # fixed, whatever $TMPDIR says: uids are machine-wide
HARNESS_FILE = "harness.py"
_SUBREAPER = False


def default_hidden_paths(extra: Iterable[str | Path] = ()) -> list[str]:
    """What the child must never read: the repository, our home, the default cache dir (and the data dir in it),
    and ``extra``: the configured data and cache dirs and ``sandbox_hide`` (``GraderSettings.hidden_paths``)."""
    from reference.mnist import default_cache_dir

    repo = Path(__file__).resolve().parents[2]
    paths = [repo, default_cache_dir(), Path.home(), *(Path(p) for p in extra)]
    return sorted({str(p.resolve()) for p in paths if p.resolve() != Path("/")})


def python_paths() -> list[str]:
    """Directories the child needs to run Python with torch: prefixes and site-packages."""
    import site

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *site.getsitepackages()}
    paths.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
    return sorted(str(Path(p).resolve()) for p in paths if os.path.isdir(p))


class SandboxSlot:
    """A slot number held with an flock; gives the sandbox uid/gid (root only)."""

    def __init__(self, uid_base: int = UID_BASE) -> None:
        folder = SLOT_DIR if SLOT_DIR.parent.is_dir() else Path(tempfile.gettempdir()) / "vitgrade-sandbox-slots"
        folder.mkdir(mode=0o700, exist_ok=True)
        start = os.getpid() % SLOTS
        for offset in range(SLOTS):
            number = (start + offset) % SLOTS
            handle = open(folder / f"slot-{number}.lock", "w")  # noqa: SIM115 - held for the slot's life
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            self.number, self._handle = number, handle
            self.uid = self.gid = uid_base + number
            return
        raise RuntimeError(f"all {SLOTS} sandbox slots are in use")

    def sweep(self) -> None:
        """Clear what a grader that died holding this slot left: processes, IPC objects, cgroups, work dirs."""
        kill_uid(self.uid)
        remove_ipc_objects(self.uid, self.gid)
        remove_stale_cgroups(str(self.number))
        for stale in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}{self.number}-*"):
            remove_workdir(str(stale))

    def release(self) -> None:
        """Remove the IPC objects the uid holds (its processes are gone by now), then unlock the slot."""
        remove_ipc_objects(self.uid, self.gid)
        self._handle.close()


def kill_uid(uid: int, attempts: int = 100) -> list[int]:
    """SIGKILL every process whose real, effective or saved uid is ``uid``, until none is left."""
    killed: list[int] = []
    for _ in range(attempts):
        found = [pid for pid in _pids_of_uid(uid) if pid != os.getpid()]
        alive = [pid for pid in found if _state(pid) not in ("Z", "X", None)]
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
        if not alive:
            return killed
        time.sleep(0.005)
    return killed


def live_pids_of_uid(uid: int) -> list[int]:
    """Processes of ``uid`` that are still running (not zombies)."""
    return [pid for pid in _pids_of_uid(uid) if _state(pid) not in ("Z", "X", None)]


def _pids_of_uid(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                for line in handle:
                    if line.startswith("Uid:"):
                        if str(uid) in line.split()[1:4]:
                            pids.append(int(entry))
                        break
        except OSError:
            continue
    return pids


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _reap(pids: list[int]) -> None:
    """Reap killed processes that were reparented to us (we are their subreaper)."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


class CapturedLog:
    """The child's stdout+stderr, drained on a thread into a capped buffer."""

    def __init__(self, fd: int, cap: int):
        self.cap, self.dropped, self._fd = cap, 0, fd
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, args=(fd,), name="sandbox-log", daemon=True)
        self._thread.start()

    def _drain(self, fd: int) -> None:
        try:
            while chunk := os.read(fd, 65536):
                with self._lock:
                    room = self.cap - len(self._buffer)
                    self._buffer += chunk[: max(room, 0)]
                    self.dropped += max(len(chunk) - max(room, 0), 0)
        except OSError:
            pass
        finally:
            os.close(fd)

    def settle(self, timeout: float = 0.5) -> None:
        """Wait (briefly) until the drain thread has read what is already in the pipe."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._thread.is_alive():
            try:
                pending = struct.unpack("i", fcntl.ioctl(self._fd, termios.FIONREAD, b"\0\0\0\0"))[0]
            except OSError:
                return
            if not pending:
                return
            time.sleep(0.005)

    def text(self) -> str:
        self.settle()
        with self._lock:
            text = self._buffer.decode("utf-8", errors="replace")
            if self.dropped:
                text += f"\n[... log truncated: {self.dropped} more bytes dropped]\n"
            return text

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class ChildProcess:
    """One running harness: its pipes, its log and how to kill it for good.

    ``start_method`` is ``zygote`` (forked by the fork server, torch already imported) or ``exec``
    (a fresh ``python -I harness.py`` with the isolation applied in ``preexec_fn``).
    """

    def __init__(self, plan: IsolationPlan, *, limits: SandboxLimits, device: str, start_method: str = "zygote"):
        self.plan, self.uid, self.start_method = plan, plan.uid, start_method
        self._status: int | None = None
        request_r, self.request_w = os.pipe()
        self.reply_r, reply_w = os.pipe()
        log_r, log_w = os.pipe()
        env = child_env(plan, limits, device)
        try:
            if start_method == "zygote":
                self.popen = None
                serve = {"module": f"{plan.child_workdir}/{MODULE_FILE}", "device": child_device(device)}
                serve |= {"threads": limits.torch_threads, "audit": plan.level == "none"}
                message = {"plan": dataclasses.asdict(plan), "serve": serve, "env": env}
                self.pid = fork_server().spawn(message, (request_r, reply_w, log_w))
            else:
                self.popen = self._exec(plan, limits, child_device(device), env, request_r, reply_w, log_w)
                self.pid = self.popen.pid
        except BaseException:
            for fd in (request_r, self.request_w, self.reply_r, reply_w, log_r, log_w):
                os.close(fd)
            raise
        for fd in (request_r, reply_w, log_w):
            os.close(fd)
        os.set_blocking(self.request_w, False)
        os.set_blocking(self.reply_r, False)
        self.log = CapturedLog(log_r, limits.log_bytes)

    @staticmethod
    def _exec(
        plan: IsolationPlan, limits: SandboxLimits, device: str, env: dict, request_r: int, reply_w: int, log_w: int
    ) -> subprocess.Popen:
        workdir = plan.child_workdir
        command = [sys.executable, "-I", f"{workdir}/{HARNESS_FILE}", f"--module={workdir}/{MODULE_FILE}"]
        command += [f"--request-fd={request_r}", f"--reply-fd={reply_w}", f"--device={device}"]
        command += [f"--threads={limits.torch_threads}"] + (["--audit"] if plan.level == "none" else [])
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_w,
            stderr=log_w,
            pass_fds=(request_r, reply_w),
            cwd=plan.workdir,
            env=env,
            start_new_session=True,
            preexec_fn=plan.apply,  # noqa: PLW1509 - libc resolved beforehand; see isolation.py
        )

    def status(self, wait: float = 0.0) -> int | None:
        """Exit status (minus the signal number when killed), or None while it runs."""
        if self._status is None:
            if self.popen is not None:
                try:
                    self._status = self.popen.wait(wait) if wait else self.popen.poll()
                except subprocess.TimeoutExpired:
                    return None
            else:
                self._status = fork_server().exit_status(self.pid, wait)
        return self._status

    def kill(self, cgroup: SandboxCgroup | None) -> None:
        """Kill the child and everything it started: group, cgroup, then every process of the uid."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        if cgroup is not None:
            cgroup.kill()
        killed = kill_uid(self.uid) if self.uid is not None else []
        if self.popen is not None:
            self.popen.wait()
            _reap(killed)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)  # level "none": no uid or cgroup to sweep
            self.status(wait=5.0)
        for fd in (self.request_w, self.reply_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.log.join(1.0)


def child_env(plan: IsolationPlan, limits: SandboxLimits, device: str) -> dict[str, str]:
    """A minimal environment: no secrets, offline hub, private home and tmp."""
    threads = str(limits.torch_threads)
    tmp = "/tmp" if plan.namespaced else f"{plan.workdir}/tmp"
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": plan.child_workdir,
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "HF_HUB_OFFLINE": "1",
        "TORCH_HOME": f"{plan.child_workdir}/.torch",
        "XDG_CACHE_HOME": f"{plan.child_workdir}/.cache",
        "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
    }
    env.update(visible_gpus(device, os.environ.get("CUDA_VISIBLE_DEVICES")))
    return env


def visible_gpus(device: str, inherited: str | None) -> dict[str, str]:
    """``CUDA_VISIBLE_DEVICES`` of a child of the slot ``device``: only its own GPU (``cuda:N`` is the N-th GPU
    this process sees, itself possibly a subset), none for a CPU child, the grader's own set for ``cuda``."""
    wanted = child_environment(device)
    if inherited is None or "CUDA_VISIBLE_DEVICES" not in wanted or not wanted["CUDA_VISIBLE_DEVICES"]:
        return wanted if wanted or inherited is None else {"CUDA_VISIBLE_DEVICES": inherited}
    ours = [item.strip() for item in inherited.split(",") if item.strip()]
    index = int(wanted["CUDA_VISIBLE_DEVICES"])
    return {"CUDA_VISIBLE_DEVICES": ours[index] if index < len(ours) else wanted["CUDA_VISIBLE_DEVICES"]}


class WorkDir:
    """The child's private directory, handled by the parent through a directory descriptor.

    The sandbox uid owns the directory, so (at the ``uid`` level, where it sees the host's /tmp) it
    could rename it and leave a symlink behind: every parent-side write goes through ``dir_fd`` and
    never follows a link, and removal checks that the path is still the same directory.
    """

    def __init__(self, tmpfs_bytes: int | None = None, slot: int | None = None):
        self.path = tempfile.mkdtemp(prefix=WORKDIR_PREFIX + (f"{slot}-" if slot is not None else ""))
        if tmpfs_bytes is not None:
            try:
                mount_tmpfs(self.path, tmpfs_bytes)
            except OSError as error:
                log.info("sandbox work dir %s stays on disk: %s", self.path, error)
        self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        os.mkdir("tmp", 0o700, dir_fd=self.fd)

    def chown(self, uid: int, gid: int) -> None:
        """Give the directory (and its tmp) to whoever the child runs as."""
        os.fchown(self.fd, uid, gid)
        os.chown("tmp", uid, gid, dir_fd=self.fd, follow_symlinks=False)

    def write(self, name: str, data: bytes) -> None:
        """Create ``name`` afresh (read-only for the child), replacing whatever the child left there."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=self.fd)
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o444, dir_fd=self.fd)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)

    def remove(self) -> None:
        try:
            same = os.stat(self.path, follow_symlinks=False)[1:3] == os.fstat(self.fd)[1:3]
        except OSError:
            same = False
        os.close(self.fd)
        if not same:
            log.warning("sandbox work dir %s was moved by the child; left in place", self.path)
            return
        remove_workdir(self.path)


def write_child_files(workdir: WorkDir, module_source: str) -> None:
    """The harness and the student's module, fresh for each start."""
    workdir.write(HARNESS_FILE, HARNESS.read_bytes())
    workdir.write(MODULE_FILE, module_source.encode())


def remove_workdir(workdir: str) -> None:
    """Unmount (when it is a tmpfs of ours) and delete a work dir; links inside are removed, never followed."""
    if os.path.ismount(workdir):
        unmount(workdir)
    shutil.rmtree(workdir, ignore_errors=True)


def ensure_subreaper() -> None:
    """Adopt orphaned sandbox processes (a setsid() grandchild) so they can be reaped here."""
    global _SUBREAPER
    if not _SUBREAPER:
        set_child_subreaper()
        _SUBREAPER = True


def plan_for(
    level: str,
    workdir: str,
    slot: SandboxSlot | None,
    limits: SandboxLimits,
    device: str,
    cgroup: SandboxCgroup | None,
    hidden: list[str],
) -> IsolationPlan:
    """The isolation plan of one child at ``level`` (root, uid, userns or none); ``hidden`` is masked at the levels
    with a mount namespace (``default_hidden_paths``)."""
    address_space = limits.address_space_bytes if device == "cpu" else None
    rlimits = rlimits_for(
        cpu_seconds=limits.cpu_seconds,
        file_size=limits.file_size_bytes,
        open_files=limits.open_files,
        processes=limits.processes,
        address_space=address_space,
    )
    dedicated_uid = level in ("root", "uid") and slot is not None
    if not dedicated_uid:
        import resource

        rlimits.pop(resource.RLIMIT_NPROC)  # counts every process of our own uid: only with a dedicated uid
    return IsolationPlan(
        level=level,
        workdir=workdir,
        uid=slot.uid if dedicated_uid else None,
        gid=slot.gid if dedicated_uid else None,
        hidden=list(hidden) if level in ("root", "userns") else [],
        keep=python_paths(),
        rlimits=rlimits,
        cgroup_procs=cgroup.procs_files if cgroup else [],
        tmpfs_bytes=limits.tmpfs_bytes,
    )
