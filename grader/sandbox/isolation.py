"""OS isolation of the child, applied between fork and exec (docs/security.md, docs/architecture.md).

``IsolationPlan`` is computed in the parent; ``IsolationPlan.apply`` runs in the forked child as
``preexec_fn`` and, in this order: joins the sandbox cgroup, unshares the mount, network, cgroup and
IPC namespaces (a user namespace too when not root), makes mounts private, puts a fresh tmpfs on
/tmp and /dev/shm, masks the hidden directories (the repository, the data and cache dirs, the
grader's home) and /sys/fs/cgroup with empty read-only tmpfs, binds back the Python installation
and the child's work dir, closes every descriptor it opened on the way, checks that no hidden
directory still shows the host's, sets rlimits, drops to the sandbox uid/gid, sets no_new_privs and
installs seccomp. Every libc function is resolved in the parent, so the child only calls them.
"""

import ctypes
import ctypes.util
import errno
import os
import resource
from dataclasses import dataclass, field
from pathlib import Path

if __package__:
    from grader.sandbox import seccomp
else:  # loaded as a plain module by the fork server (zygote.py)
    import seccomp

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
# Unshared at the namespaced levels, after the child joined its cgroup (its cgroup namespace is rooted there).
NAMESPACES = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWIPC
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
MNT_DETACH = 2
# Top-level directories the child keeps seeing; every other one (/home, /root, /work, /srv, /opt,
# /var, /run, /mnt, ...) is masked with an empty tmpfs, with the Python installation bound back.
VISIBLE_TOP_LEVEL = frozenset(
    {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "sys", "tmp", "usr"}
)
CHILD_TMP = "/tmp"
CHILD_WORKDIR = "/tmp/work"
CGROUP_FS = "/sys/fs/cgroup"  # lists every sandbox's group and pids: masked

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [None if s is None else s.encode() for s in (source, target, fstype, data)]
    _check(_libc.mount(enc[0], enc[1], enc[2], flags, enc[3]), f"mount {target}")


def mount_tmpfs(path: str, size: int) -> None:
    """A private size-capped tmpfs at ``path`` (the parent uses it for a sandbox's work dir)."""
    _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=0700")


def unmount(path: str) -> None:
    _libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    _check(_libc.umount2(path.encode(), MNT_DETACH), f"umount {path}")


def top_level_to_hide(root: str = "/") -> list[str]:
    """Real directories under / that are not in VISIBLE_TOP_LEVEL (symlinks such as /bin -> usr/bin are left)."""
    hidden = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if name not in VISIBLE_TOP_LEVEL and os.path.isdir(path) and not os.path.islink(path):
            hidden.append(path)
    return hidden


def set_child_subreaper() -> None:
    """Make this (parent) process adopt orphaned descendants, so a setsid() grandchild can be reaped."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


@dataclass
class IsolationPlan:
    """What the child does to itself before exec.

    ``level``: ``root`` (namespaces, masks, own uid), ``uid`` (own uid, no namespaces: root without
    CAP_SYS_ADMIN, e.g. a default Docker container), ``userns`` (namespaces inside a user namespace,
    not root), ``none`` (rlimits, no_new_privs and seccomp only).
    """

    level: str
    workdir: str  # host path of the child's private directory
    uid: int | None = None  # the sandbox uid/gid (root and uid levels)
    gid: int | None = None
    hidden: list[str] = field(default_factory=list)  # masked with an empty tmpfs
    keep: list[str] = field(default_factory=list)  # bound back (read-only) when under a hidden dir
    rlimits: dict[int, int] = field(default_factory=dict)
    cgroup_procs: list[str] = field(default_factory=list)  # cgroup.procs files to join
    tmpfs_bytes: int = 256 * 1024 * 1024
    use_seccomp: bool = True

    @property
    def namespaced(self) -> bool:
        return self.level in ("root", "userns")

    @property
    def child_workdir(self) -> str:
        """The work dir as the child sees it."""
        return CHILD_WORKDIR if self.namespaced else self.workdir

    def mechanisms(self) -> list[str]:
        """The names reported by ``Sandbox.isolation`` when this plan applied cleanly."""
        names = []
        if self.uid is not None:
            names.append(f"uid:{self.uid}")
        if self.level == "userns":
            names.append("userns")
        if self.namespaced:
            names += ["netns", "mountns", "cgroupns", "ipcns", "private_tmp", "masked_fs"] + (
                ["hidepid"] if self.level == "root" else []
            )
        if self.cgroup_procs:
            names.append("cgroup")
        names += ["rlimits", "no_new_privs", "setsid"]
        if self.use_seccomp and seccomp.available():
            names.append("seccomp")
        return names

    def apply(self) -> None:
        """Runs in the child between fork and exec; any exception aborts the spawn."""
        for procs in self.cgroup_procs:
            with open(procs, "w") as handle:
                handle.write(str(os.getpid()))
        if self.level == "userns":
            uid, gid = os.getuid(), os.getgid()
            _check(_libc.unshare(CLONE_NEWUSER | NAMESPACES), "unshare(user, mount, net, cgroup, ipc)")
            Path("/proc/self/setgroups").write_text("deny")
            Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
            Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
        elif self.level == "root":
            _check(_libc.unshare(NAMESPACES), "unshare(mount, net, cgroup, ipc)")
        if self.namespaced:
            self._mounts()
        os.chdir(self.child_workdir)
        for which, value in self.rlimits.items():
            resource.setrlimit(which, (value, value))
        if self.uid is not None:
            os.setgroups([])
            os.setresgid(self.gid, self.gid, self.gid)
            os.setresuid(self.uid, self.uid, self.uid)
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
        if self.use_seccomp and seccomp.available():
            seccomp.install()

    def _mounts(self) -> None:
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        hidden = sorted(set(self.hidden) | set(top_level_to_hide()), key=len)
        host_ids = {path: _identity(path) for path in hidden if os.path.isdir(path)}  # must not show afterwards
        keep_fds = {self.workdir: os.open(self.workdir, os.O_PATH)}
        try:
            for path in self.keep:
                try:  # a path we cannot reach (another user's home) is one the child cannot use either
                    keep_fds.setdefault(path, os.open(path, os.O_PATH | os.O_DIRECTORY))
                except OSError:
                    continue
            stats = {path: os.stat(path) for path in keep_fds}
            self._private_tmp_and_proc()
            masked = []
            for path in hidden:
                if os.path.isdir(path) and not any(path.startswith(m.rstrip("/") + "/") for m in masked):
                    _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=65536,mode=755")
                    masked.append(path)
            os.makedirs(CHILD_WORKDIR, exist_ok=True)
            self._bind(keep_fds[self.workdir], CHILD_WORKDIR, read_only=False)
            for path, fd in sorted(keep_fds.items(), key=lambda item: len(item[0])):
                if path != self.workdir and not (os.path.isdir(path) and os.stat(path)[1:3] == stats[path][1:3]):
                    os.makedirs(path, exist_ok=True)
                    self._bind(fd, path, read_only=True)
        finally:  # an O_PATH descriptor into the host's tree, left open, walks past every mask with openat("..")
            for fd in keep_fds.values():
                os.close(fd)
        if os.path.isdir(CGROUP_FS):
            _mount("tmpfs", CGROUP_FS, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4096,mode=555")
        for path in masked:
            _mount(None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=65536,mode=755")
        for path, identity in host_ids.items():
            if identity is not None and _identity(path) == identity:
                raise OSError(errno.EACCES, f"{path} is still visible in the sandbox after masking")

    def _private_tmp_and_proc(self) -> None:
        size = f"size={self.tmpfs_bytes},mode=1777"
        for tmp in (CHILD_TMP, "/dev/shm"):
            if os.path.isdir(tmp):
                _mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, size)
        if self.level == "root":  # a procfs of our own: other users' processes are invisible
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")

    @staticmethod
    def _bind(fd: int, target: str, read_only: bool) -> None:
        _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
        if read_only:
            _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of what ``path`` shows now, None when it shows nothing."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def rlimits_for(
    *, cpu_seconds: int, file_size: int, open_files: int, processes: int, address_space: int | None
) -> dict[int, int]:
    """The rlimits of the child; RLIMIT_AS only when given (CPU: CUDA maps far more than it uses)."""
    limits = {
        resource.RLIMIT_CPU: cpu_seconds,
        resource.RLIMIT_FSIZE: file_size,
        resource.RLIMIT_NOFILE: open_files,
        resource.RLIMIT_NPROC: processes,
        resource.RLIMIT_CORE: 0,
    }
    if address_space is not None:
        limits[resource.RLIMIT_AS] = address_space
    return limits
