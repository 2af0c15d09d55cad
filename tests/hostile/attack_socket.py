"""Attack: open a socket to exfiltrate data or fetch a model (security.md #16).

Defense: the child has its own network namespace (no interface up) and a seccomp filter that
refuses AF_INET/AF_INET6 sockets; the fallback layer is an audit hook in the harness.
"""

import socket

import torch


def connect(port: int) -> torch.Tensor:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(b"stolen labels")
    return torch.ones(1)
