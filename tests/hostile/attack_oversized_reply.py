"""Attack: make the parent allocate hundreds of MiB by adding an extra tensor to a forward reply (security.md #14).

The module patches the harness's reply writer: a reply that carries tensors gets one more, named
``stolen``, of ``EXTRA_MIB`` MiB (streamed as zeros, so the child itself allocates nothing), and the
frame announces the larger payload. It prints ``SENT <bytes>`` as the stream goes, so the log shows
how much the parent read. Defense: each op's reply has a payload cap derived from its request (a
forward's from the tensors sent), checked against the announced length before anything is read, and
the safetensors header of the payload is read first: a tensor name the op does not return is refused
before its data is read. Either way the child is killed.
"""

import json
import os
import struct
import sys

EXTRA_MIB = 500
CHUNK = 1 << 20


def _stream(channel, header: dict, payload: bytes, extra: int) -> None:
    (size,) = struct.unpack("<Q", payload[:8])
    meta = json.loads(payload[8 : 8 + size])
    data = payload[8 + size :]
    meta["stolen"] = {"dtype": "U8", "shape": [extra], "data_offsets": [len(data), len(data) + extra]}
    table = json.dumps(meta).encode()
    table += b" " * (-len(table) % 8)
    head = json.dumps(header).encode()
    total = 8 + len(table) + len(data) + extra
    os.write(2, f"SENT 0 of {total}\n".encode())
    prefix = struct.pack(">I", len(head)) + head + struct.pack(">Q", total) + struct.pack("<Q", len(table))
    view = memoryview(prefix + table + data)
    while view:
        view = view[os.write(channel.reply_fd, view) :]
    sent, zeros = 0, bytes(CHUNK)
    while sent < extra:
        step = min(CHUNK, extra - sent)
        written = os.write(channel.reply_fd, zeros[:step])
        sent += written
        if sent % (16 * CHUNK) < written or sent == extra:
            os.write(2, f"SENT {sent} of {total}\n".encode())


def arm(extra_mib: int) -> None:
    """Make every later reply that carries tensors carry ``extra_mib`` MiB more."""
    for harness in [m for m in list(sys.modules.values()) if str(getattr(m, "__file__", "")).endswith("harness.py")]:
        original = harness.Channel.write

        def write(self, header, payload=b"", _original=original):
            if not payload:
                return _original(self, header, payload)
            return _stream(self, header, payload, extra_mib << 20)

        harness.Channel.write = write


arm(EXTRA_MIB)
