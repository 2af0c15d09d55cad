"""Devices, in one place: ``cpu``, ``cuda``, ``cuda:N`` and ``auto`` are accepted everywhere (CLI, worker,
environment), resolved against what torch sees, and mapped to what a sandboxed child sees.

A child of the slot ``cuda:N`` runs with ``CUDA_VISIBLE_DEVICES=N``: it sees that one GPU, as ``cuda``
(index 0), and cannot touch another slot's GPU. A CPU child sees no GPU at all. The parent computes its
reference outputs on the slot's own device, ``cuda:N``.
"""

import re
from dataclasses import dataclass

_DEVICE = re.compile(r"^(?P<kind>cpu|cuda|auto)(?::(?P<index>\d{1,3}))?$")


class DeviceError(ValueError):
    """A device name the grader does not know, or a device this machine does not have."""


@dataclass(frozen=True)
class Device:
    """A parsed device: ``kind`` is cpu, cuda or auto; ``index`` only for ``cuda:N``."""

    kind: str
    index: int | None = None

    def __str__(self) -> str:
        return self.kind if self.index is None else f"{self.kind}:{self.index}"


def parse_device(text: str) -> Device:
    """``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (case and surrounding spaces ignored)."""
    match = _DEVICE.match(text.strip().lower())
    if match is None or (match["index"] is not None and match["kind"] != "cuda"):
        raise DeviceError(f"Unknown device {text!r}: expected cpu, cuda, cuda:N (e.g. cuda:1) or auto.")
    index = match["index"]
    return Device(match["kind"], int(index) if index is not None else None)


def parse_devices(text: str) -> list[str]:
    """A comma-separated list of devices (one grading slot each), e.g. ``cuda:0,cuda:1``; empty items ignored."""
    devices = [str(parse_device(item)) for item in text.split(",") if item.strip()]
    if not devices:
        raise DeviceError(f"No device in {text!r}: expected e.g. cpu or cuda:0,cuda:1.")
    return devices


def resolve_device(text: str, *, cuda_available: bool, cuda_count: int) -> str:
    """The device to grade on: ``auto`` becomes ``cuda`` when a GPU is visible, else ``cpu``; a GPU that is
    not there is an error that names what is."""
    device = parse_device(text)
    if device.kind == "auto":
        return "cuda" if cuda_available else "cpu"
    if device.kind == "cuda":
        if not cuda_available or cuda_count == 0:
            raise DeviceError(f"Device {text!r} was asked for, but torch sees no CUDA device on this machine.")
        if device.index is not None and device.index >= cuda_count:
            raise DeviceError(
                f"Device {text!r} was asked for, but torch sees {cuda_count} CUDA device(s): "
                f"cuda:0..cuda:{cuda_count - 1}."
            )
    return str(device)


def device_kind(text: str) -> str:
    """``cpu`` or ``cuda``: what tolerances and cached baselines depend on (not which GPU)."""
    kind = parse_device(text).kind
    return "cpu" if kind == "auto" else kind


def child_device(text: str) -> str:
    """The device name inside the child: ``cuda:N`` is that child's only GPU, ``cuda``."""
    return device_kind(text)


def child_environment(text: str) -> dict[str, str]:
    """Environment variables a child of this slot starts with: the one GPU it may see, or none."""
    device = parse_device(text)
    if device.kind == "cuda" and device.index is not None:
        return {"CUDA_VISIBLE_DEVICES": str(device.index)}
    if device.kind == "cuda":
        return {}
    return {"CUDA_VISIBLE_DEVICES": ""}
