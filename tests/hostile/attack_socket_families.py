"""Attack: open a socket of any family but inet: vsock to the VM's host, netlink, packet, AF_ALG, ... (security.md #16).

A filter that lists the inet families lets every other one through: ``socket(AF_VSOCK)`` reaches the
host of a VM, netlink talks to the kernel, packet sockets sniff. Each family is tried with
``socket()`` and ``socketpair()`` and with each socket type; the result says what was created.
Defense: the seccomp filter allows ``socket()`` and ``socketpair()`` for AF_UNIX only and answers every
other family EAFNOSUPPORT (the audit hook of the weakest level refuses them too).
"""

import errno
import socket

import torch

TYPES = (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW, socket.SOCK_SEQPACKET)


def open_socket(family: int) -> torch.Tensor:
    """[errno of socket(), errno of socketpair()] for the first type that the kernel did not refuse; 0 = created."""
    codes = []
    for make in (socket.socket, socket.socketpair):
        code = errno.EAFNOSUPPORT
        for kind in TYPES:
            try:
                made = make(family, kind)
            except OSError as error:
                code = error.errno if error.errno != errno.EAFNOSUPPORT else code
                continue
            for sock in made if isinstance(made, tuple) else (made,):
                sock.close()
            print("OPENED", family, kind, make.__name__)
            code = 0
            break
        codes.append(code)
    return torch.tensor(codes)
