"""Frames from the child are untrusted: caps before allocation, JSON objects only, plain tensors only."""

import json
import os
import struct
import time

import pytest
import torch
from safetensors.torch import save

from grader.sandbox import protocol


def _pipe_with(data: bytes) -> int:
    read, write = os.pipe()
    os.write(write, data)
    os.close(write)
    os.set_blocking(read, False)
    return read


def _read(data: bytes, max_header: int = 1 << 20, max_payload: int = 1 << 20):
    fd = _pipe_with(data)
    try:
        return protocol.read_frame(fd, time.monotonic() + 2, max_header, max_payload)
    finally:
        os.close(fd)


def test_round_trip_of_a_frame_with_tensors():
    tensors = {"output": torch.arange(6, dtype=torch.float32).reshape(2, 3)}
    header, payload = _read(protocol.encode_frame({"id": "x", "ok": True}, protocol.pack_tensors(tensors)))
    assert header == {"id": "x", "ok": True}
    got, nonfinite = protocol.unpack_tensors(payload)
    assert torch.equal(got["output"], tensors["output"]) and type(got["output"]) is torch.Tensor
    assert nonfinite == []


def test_header_over_the_cap_is_refused_before_reading_it():
    with pytest.raises(protocol.ProtocolError, match="header of 5000 bytes exceeds the cap of 100"):
        _read(struct.pack(">I", 5000), max_header=100)


def test_payload_over_the_cap_is_refused_before_reading_it():
    head = b"{}"
    frame = struct.pack(">I", len(head)) + head + struct.pack(">Q", 2**62)
    with pytest.raises(protocol.ProtocolError, match="exceeds the cap"):
        _read(frame)


@pytest.mark.parametrize("head", [b"[1, 2]", b"not json", b'"text"'])
def test_header_must_be_a_json_object(head):
    with pytest.raises(protocol.ProtocolError):
        _read(struct.pack(">I", len(head)) + head + struct.pack(">Q", 0))


def test_truncated_frame_reads_as_closed():
    with pytest.raises(protocol.ChannelClosed):
        _read(struct.pack(">I", 10) + b"{}")


def test_silence_reads_as_timeout():
    read, write = os.pipe()
    os.set_blocking(read, False)
    try:
        with pytest.raises(protocol.ChannelTimeout):
            protocol.read_frame(read, time.monotonic() + 0.1, 100, 100)
    finally:
        os.close(read)
        os.close(write)


def test_pickle_bytes_are_not_tensors():
    import pickle

    with pytest.raises(protocol.ProtocolError, match="not valid safetensors"):
        protocol.unpack_tensors(pickle.dumps({"output": torch.ones(2)}))


def test_unsupported_dtype_is_refused():
    with pytest.raises(protocol.ProtocolError, match="dtype"):
        protocol.unpack_tensors(save({"x": torch.ones(2, dtype=torch.complex64)}))


def test_nonfinite_values_are_flagged_not_hidden():
    payload = save({"a": torch.tensor([1.0, float("nan")]), "b": torch.ones(2), "c": torch.tensor([float("inf")])})
    tensors, nonfinite = protocol.unpack_tensors(payload)
    assert sorted(nonfinite) == ["a", "c"]
    assert torch.isnan(tensors["a"][1])


def test_encode_frame_layout():
    frame = protocol.encode_frame({"op": "names"}, b"xyz")
    (length,) = struct.unpack(">I", frame[:4])
    assert json.loads(frame[4 : 4 + length]) == {"op": "names"}
    assert struct.unpack(">Q", frame[4 + length : 12 + length]) == (3,)
    assert frame.endswith(b"xyz")


def test_deeply_nested_json_is_a_protocol_error_not_a_grader_crash():
    head = b"[" * 20_000 + b"]" * 20_000  # 40 kB: fits in the pipe; far deeper than the recursion limit
    with pytest.raises(protocol.ProtocolError):
        _read(struct.pack(">I", len(head)) + head + struct.pack(">Q", 0), max_header=1 << 20)


def test_reply_values_and_tensors_are_checked_per_op():
    from grader.sandbox.errors import StudentError
    from grader.sandbox.replies import check_reply

    good = {"seconds": 1.5, "final_loss": None}
    values, tensors = check_reply("train", {}, None, good, {"state.head.bias": torch.zeros(3), "junk": torch.ones(1)})
    assert values == good and set(tensors) == {"state.head.bias"}  # unexpected tensors are dropped
    with pytest.raises(StudentError, match="final_loss"):
        check_reply("train", {}, None, {"seconds": 1.5, "final_loss": "low"}, {})
    _, tensors = check_reply("predict", {}, None, {}, {"logits": torch.zeros(3, 10), "state.x": torch.ones(1)})
    assert set(tensors) == {"logits"}, "predict carries logits only"
    with pytest.raises(StudentError, match="lacks the tensors"):
        check_reply("timm", {}, None, {}, {"state.pos_embed": torch.zeros(1)})
    with pytest.raises(StudentError, match="num_params"):
        check_reply("forward", {}, {}, {"num_params": "many", "state_shapes": {}, "attributes": {}}, {})
    with pytest.raises(StudentError, match="lacks the tensors"):
        forward_values = {"num_params": 1, "state_shapes": {}, "attributes": {}, "attribute_errors": {}}
        check_reply("forward", {"backward": True}, {"input": torch.ones(1)}, forward_values, {"output": torch.ones(1)})


def _frame_with_table(entries: dict, data: bytes) -> tuple[bytes, int]:
    """A frame whose payload is a safetensors table followed by ``data``; and the offset where the data starts."""
    table = json.dumps(entries).encode()
    payload = struct.pack("<Q", len(table)) + table + data
    frame = protocol.encode_frame({"id": "x", "ok": True}, payload)
    return frame, len(frame) - len(data)


def test_an_unexpected_tensor_is_refused_before_its_data_is_read():
    extra = 1 << 16  # fills the pipe's buffer: what the reader took is what is gone from the pipe
    entries = {"stolen": {"dtype": "U8", "shape": [extra], "data_offsets": [0, extra]}}
    frame, data_start = _frame_with_table(entries, bytes(extra))
    read, write = os.pipe()
    os.set_blocking(write, False)
    written = os.write(write, frame)
    os.set_blocking(read, False)
    try:
        with pytest.raises(protocol.ProtocolError, match="'stolen' that this op does not return"):
            protocol.read_frame(read, time.monotonic() + 2, 1 << 20, 1 << 20, allowed={"output"}.__contains__)
        left = len(os.read(read, written))
    finally:
        os.close(read)
        os.close(write)
    assert left == written - data_start, "the reader went past the tensor table"


def test_allowed_tensors_are_read_whole():
    tensors = {"output": torch.ones(3), "state.w": torch.zeros(2, 2)}
    frame = protocol.encode_frame({"id": "x"}, protocol.pack_tensors(tensors))
    fd = _pipe_with(frame)
    try:
        allowed = lambda name: name == "output" or name.startswith("state.")  # noqa: E731
        _, payload = protocol.read_frame(fd, time.monotonic() + 2, 1 << 20, 1 << 20, allowed)
    finally:
        os.close(fd)
    assert sorted(protocol.unpack_tensors(payload)[0]) == ["output", "state.w"]


@pytest.mark.parametrize(
    "entry",
    [
        {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]},  # 4 floats are 16 bytes
        {"dtype": "F32", "shape": [2], "data_offsets": [0, 1 << 40]},  # beyond the payload
        {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]},  # dtype not allowed
        {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]},
        {"dtype": "F32", "shape": "many", "data_offsets": [0, 8]},
        "not an entry",
    ],
)
def test_malformed_tensor_tables_are_refused(entry):
    frame, _ = _frame_with_table({"output": entry}, bytes(8))
    with pytest.raises(protocol.ProtocolError, match="tensor 'output'"):
        fd = _pipe_with(frame)
        try:
            protocol.read_frame(fd, time.monotonic() + 2, 1 << 20, 1 << 20, allowed=lambda name: True)
        finally:
            os.close(fd)


def test_a_table_longer_than_its_payload_is_refused():
    payload = struct.pack("<Q", 1 << 30) + b"{}"
    with pytest.raises(protocol.ProtocolError, match="tensor table of"):
        fd = _pipe_with(protocol.encode_frame({}, payload))
        try:
            protocol.read_frame(fd, time.monotonic() + 2, 1 << 20, 1 << 20, allowed=lambda name: True)
        finally:
            os.close(fd)


def test_reply_caps_follow_the_request():
    from grader.sandbox.replies import payload_cap, tensor_allowed

    x = torch.zeros(2, 5, 16)  # 640 bytes
    ceiling = 512 << 20
    small = payload_cap("forward", {}, {"input": x}, ceiling)
    assert 16 * x.nbytes < small < 2 << 20
    assert payload_cap("forward", {"return_state": True}, {"input": x}, ceiling) > 64 << 20
    images = torch.zeros(1000, 28, 28, dtype=torch.uint8)
    assert 1000 * 10 * 8 < payload_cap("predict", {}, {"images": images}, ceiling) < 2 << 20
    assert payload_cap("train", {}, {"train_images": images}, ceiling) <= 64 << 20
    assert payload_cap("names", {}, None, ceiling) <= 64 * 1024
    assert payload_cap("some_new_op", {}, None, ceiling) == ceiling
    assert payload_cap("forward", {}, {"input": torch.zeros(2**26)}, ceiling) == ceiling
    allowed = tensor_allowed("forward", {"backward": True}, {"input": x})
    assert allowed("output") and allowed("input_grad") and allowed("state.q.weight")
    assert not allowed("stolen") and not tensor_allowed("call", {}, None)("stolen")
    assert tensor_allowed("some_new_op", {}, None) is None
