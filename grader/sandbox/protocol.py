"""Parent side of the frame format: ``u32 header length | JSON header | u64 payload length | payload``.

Both lengths are big-endian; the payload is a safetensors blob (possibly empty). Every frame from
the child is untrusted: lengths are capped before anything is allocated, the header must be a JSON
object, and tensors are parsed by safetensors (never unpickled) and checked to be plain tensors of
an allowed dtype. ``grader/sandbox/harness.py`` holds the child's copy of the same few lines.
"""

import json
import math
import os
import select
import struct
import time
from collections.abc import Callable
from typing import Any

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

HEADER_LEN = struct.Struct(">I")
PAYLOAD_LEN = struct.Struct(">Q")
# safetensors dtype names -> bytes per element, for the allowed dtypes below
DTYPE_SIZES = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1}
MAX_TENSOR_TABLE = 1 << 20  # the JSON table at the head of a safetensors payload
ALLOWED_DTYPES = frozenset(
    {torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int64, torch.int32, torch.uint8, torch.bool}
)


class ProtocolError(Exception):
    """The child sent something that is not a well-formed frame within the caps."""


class BadTensors(ProtocolError):
    """The payload's tensor table is malformed or names a tensor the reply may not hold (its data is left unread)."""


class ChannelClosed(Exception):
    """The child closed its end (it exited, or closed the descriptor)."""


class ChannelTimeout(Exception):
    """No complete frame before the deadline."""


def pack_tensors(tensors: dict[str, torch.Tensor] | None) -> bytes:
    """Tensors -> safetensors bytes (contiguous CPU copies); empty for no tensors."""
    if not tensors:
        return b""
    return save_tensors({name: t.detach().to("cpu").contiguous().clone() for name, t in tensors.items()})


def unpack_tensors(payload: bytes) -> tuple[dict[str, torch.Tensor], list[str]]:
    """safetensors bytes -> (plain tensors, names of those holding NaN or inf); ProtocolError if malformed."""
    if not payload:
        return {}, []
    try:
        tensors = load_tensors(payload)
    except Exception as error:  # noqa: BLE001 - any parse failure of child bytes is a protocol error
        raise ProtocolError(f"tensor payload is not valid safetensors: {error}") from None
    nonfinite = []
    for name, tensor in tensors.items():
        if type(tensor) is not torch.Tensor:
            raise ProtocolError(f"tensor {name!r} has type {type(tensor).__name__}, expected torch.Tensor")
        if tensor.dtype not in ALLOWED_DTYPES:
            allowed = sorted(map(str, ALLOWED_DTYPES))
            raise ProtocolError(f"tensor {name!r} has dtype {tensor.dtype}, expected one of {allowed}")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            nonfinite.append(name)
    return tensors, nonfinite


def encode_frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    """One frame as bytes."""
    head = json.dumps(header, separators=(",", ":")).encode()
    return HEADER_LEN.pack(len(head)) + head + PAYLOAD_LEN.pack(len(payload)) + payload


def write_frame(fd: int, header: dict[str, Any], payload: bytes, deadline: float) -> None:
    """Write a frame to a non-blocking pipe before ``deadline`` (time.monotonic); ChannelTimeout / ChannelClosed."""
    view = memoryview(encode_frame(header, payload))
    while view:
        _wait(fd, select.POLLOUT, deadline)
        try:
            written = os.write(fd, view[: 1 << 20])
        except BlockingIOError:
            continue
        except (BrokenPipeError, OSError) as error:
            raise ChannelClosed(f"the child's request pipe is closed ({error})") from None
        view = view[written:]


def read_frame(
    fd: int, deadline: float, max_header: int, max_payload: int, allowed: Callable[[str], bool] | None = None
) -> tuple[dict[str, Any], bytes]:
    """Read one frame from a non-blocking pipe before ``deadline``, within the caps.

    With ``allowed``, the payload's tensor table is read and checked first (names, dtypes, sizes): a
    tensor the reply may not hold is refused before any of its data is read.
    """
    (head_len,) = HEADER_LEN.unpack(_read_exact(fd, HEADER_LEN.size, deadline))
    if head_len > max_header:
        raise ProtocolError(f"header of {head_len} bytes exceeds the cap of {max_header}")
    try:
        header = json.loads(_read_exact(fd, head_len, deadline))
    except (ValueError, RecursionError) as error:  # RecursionError: absurdly nested JSON
        raise ProtocolError(f"header is not JSON: {error}") from None
    if not isinstance(header, dict):
        raise ProtocolError(f"header is a {type(header).__name__}, expected a JSON object")
    (payload_len,) = PAYLOAD_LEN.unpack(_read_exact(fd, PAYLOAD_LEN.size, deadline))
    if payload_len > max_payload:
        raise ProtocolError(f"payload of {payload_len} bytes exceeds the cap of {max_payload}")
    if allowed is None or payload_len == 0:
        return header, _read_exact(fd, payload_len, deadline)
    if payload_len < 8:
        raise BadTensors(f"payload of {payload_len} bytes is too short for a safetensors blob")
    prefix = _read_exact(fd, 8, deadline)
    (table_len,) = struct.unpack("<Q", prefix)
    if table_len > min(payload_len - 8, MAX_TENSOR_TABLE):
        raise BadTensors(f"tensor table of {table_len} bytes in a payload of {payload_len} bytes")
    table = _read_exact(fd, table_len, deadline)
    for name in tensor_table(table, payload_len - 8 - table_len):
        if not allowed(name):
            raise BadTensors(f"the reply holds a tensor {name[:100]!r} that this op does not return")
    return header, prefix + table + _read_exact(fd, payload_len - 8 - table_len, deadline)


def tensor_table(raw: bytes, data_len: int) -> dict[str, tuple[str, list[int]]]:
    """A safetensors table -> {name: (dtype, shape)}, checked against ``data_len`` bytes of data; ProtocolError."""
    try:
        entries = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise BadTensors(f"tensor table is not JSON: {error}") from None
    if not isinstance(entries, dict):
        raise BadTensors(f"tensor table is a {type(entries).__name__}, expected a JSON object")
    table = {}
    for name, entry in entries.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
            sizes_ok = all(type(n) is int and n >= 0 for n in [*shape, begin, end])
        except (TypeError, KeyError, ValueError):
            raise BadTensors(f"tensor {name[:100]!r} has a malformed entry: {str(entry)[:200]}") from None
        if dtype not in DTYPE_SIZES or not sizes_ok or not begin <= end <= data_len:
            raise BadTensors(f"tensor {name[:100]!r}: {str(entry)[:200]} does not fit {data_len} bytes of data")
        if end - begin != math.prod(shape) * DTYPE_SIZES[dtype]:
            raise BadTensors(f"tensor {name[:100]!r}: shape {shape[:8]} of {dtype} is not {end - begin} bytes")
        table[name] = (dtype, shape)
    return table


def _read_exact(fd: int, size: int, deadline: float) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        _wait(fd, select.POLLIN, deadline)
        try:
            chunk = os.read(fd, min(size - len(chunks), 1 << 20))
        except BlockingIOError:
            continue
        if not chunk:
            raise ChannelClosed("the child closed the result pipe")
        chunks += chunk
    return bytes(chunks)


def _wait(fd: int, event: int, deadline: float) -> None:
    poller = select.poll()
    poller.register(fd, event)
    remaining = deadline - time.monotonic()
    if remaining <= 0 or not poller.poll(remaining * 1000):
        raise ChannelTimeout("no answer before the deadline")
