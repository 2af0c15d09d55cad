"""A small seccomp-BPF filter, built with ctypes (no libseccomp binding needed): defense in depth.

Denied (EPERM unless noted): sockets of every family but AF_UNIX (``socket`` and ``socketpair`` of
AF_INET, AF_INET6, AF_VSOCK, AF_NETLINK, AF_PACKET, ... -> EAFNOSUPPORT),
namespace creation (``unshare``, ``setns``, ``clone`` with CLONE_NEW* flags; ``clone3`` -> ENOSYS so
libc falls back to ``clone``), ``ptrace``, ``process_vm_readv/writev``, ``mount``/``umount2``/``pivot_root``,
kernel keyring, ``bpf``, ``perf_event_open``, ``io_uring_*``, ``userfaultfd``, module loading, ``kexec``,
``reboot``, ``swapon``, ``open_by_handle_at``. Another architecture (x32, i386 on x86_64) is killed.
"""

import ctypes
import ctypes.util
import errno
import platform
import socket

PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
RET_ALLOW, RET_KILL_PROCESS = 0x7FFF0000, 0x80000000
LD_W_ABS, JEQ_K, JGE_K, JSET_K, RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET


def _errno(code: int) -> int:
    return 0x00050000 | code


# name -> (x86_64, aarch64) syscall numbers
SYSCALLS = {
    "socket": (41, 198),
    "socketpair": (53, 199),
    "clone": (56, 220),
    "clone3": (435, 435),
    "ptrace": (101, 117),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "mount": (165, 40),
    "umount2": (166, 39),
    "pivot_root": (155, 41),
    "unshare": (272, 97),
    "setns": (308, 268),
    "keyctl": (250, 219),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "bpf": (321, 280),
    "perf_event_open": (298, 241),
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    "userfaultfd": (323, 282),
    "init_module": (175, 105),
    "finit_module": (313, 273),
    "delete_module": (176, 106),
    "kexec_load": (246, 104),
    "reboot": (169, 142),
    "swapon": (167, 224),
    "open_by_handle_at": (304, 265),
}
ARCHES = {"x86_64": (0, 0xC000003E), "aarch64": (1, 0xC00000B7)}


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def build_program(machine: str) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions for ``machine`` (``platform.machine()``)."""
    column, arch = ARCHES[machine]
    nr = {name: numbers[column] for name, numbers in SYSCALLS.items()}
    program = [(LD_W_ABS, 0, 0, 4), (JEQ_K, 1, 0, arch), (RET_K, 0, 0, RET_KILL_PROCESS), (LD_W_ABS, 0, 0, 0)]
    if machine == "x86_64":
        program += [(JGE_K, 0, 1, 0x40000000), (RET_K, 0, 0, _errno(errno.ENOSYS))]  # x32 ABI
    program += [(JEQ_K, 0, 1, nr["clone3"]), (RET_K, 0, 0, _errno(errno.ENOSYS))]
    for name in SYSCALLS:
        if name not in ("socket", "socketpair", "clone", "clone3"):
            program += [(JEQ_K, 0, 1, nr[name]), (RET_K, 0, 0, _errno(errno.EPERM))]
    program += [
        (JEQ_K, 1, 0, nr["socket"]),
        (JEQ_K, 0, 4, nr["socketpair"]),
        (LD_W_ABS, 0, 0, 16),  # args[0], low 32 bits: the address family (an int for the kernel)
        (JEQ_K, 1, 0, socket.AF_UNIX),
        (RET_K, 0, 0, _errno(errno.EAFNOSUPPORT)),
        (RET_K, 0, 0, RET_ALLOW),
        (JEQ_K, 0, 3, nr["clone"]),
        (LD_W_ABS, 0, 0, 16),  # args[0]: the clone flags
        (JSET_K, 0, 1, NAMESPACE_FLAGS),
        (RET_K, 0, 0, _errno(errno.EPERM)),
        (RET_K, 0, 0, RET_ALLOW),
    ]
    return program


_MACHINE = platform.machine()
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
_FILTER = None
_FPROG = None
if _MACHINE in ARCHES:
    _instructions = build_program(_MACHINE)
    _FILTER = (SockFilter * len(_instructions))(*[SockFilter(*i) for i in _instructions])
    _FPROG = SockFprog(len(_instructions), ctypes.cast(_FILTER, ctypes.POINTER(SockFilter)))


def available() -> bool:
    """Whether a filter exists for this machine's architecture."""
    return _FPROG is not None


def install() -> None:
    """Install the filter on the calling thread's process (needs no_new_privs or CAP_SYS_ADMIN)."""
    if _FPROG is None:
        raise OSError(errno.ENOSYS, f"no seccomp filter for {_MACHINE}")
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(_FPROG), 0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"prctl(PR_SET_SECCOMP): {__import__('os').strerror(code)}")
