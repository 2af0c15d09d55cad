"""Compare the child's tensors with the parent's reference under stated tolerances, and explain failures.

Every comparison names its tolerance (``Tolerance(atol=1e-5, rtol=1e-4)``) and a failure carries
its figures: expected vs got shape and the configuration, or the max abs error, where it happened,
and the tolerance. Tensors from the child are checked (``type(t) is torch.Tensor``, floating,
finite) before any arithmetic touches them.
"""

import math
from dataclasses import dataclass
from typing import Any

import torch

from grader.checks.registry import CheckFailed


@dataclass(frozen=True)
class Tolerance:
    """Elementwise closeness: ``|got - expected| <= atol + rtol * |expected|``."""

    atol: float
    rtol: float

    def on(self, device: str) -> "Tolerance":
        """Looser on CUDA, where convolutions may run in TF32 (10-bit mantissa) and kernels differ from CPU."""
        if str(device).startswith("cuda"):
            return Tolerance(atol=max(self.atol, 2e-3), rtol=max(self.rtol, 2e-3))
        return self

    def __str__(self) -> str:
        return f"atol={self.atol:g}, rtol={self.rtol:g}"


@dataclass(frozen=True)
class Difference:
    """How far ``got`` is from ``expected``: the max abs error, where, and whether it is within tolerance."""

    max_abs_error: float
    index: tuple[int, ...]
    got_value: float
    expected_value: float
    within: bool

    def as_details(self) -> dict[str, Any]:
        return {
            "max_abs_error": self.max_abs_error,
            "at_index": list(self.index),
            "got_value": self.got_value,
            "expected_value": self.expected_value,
        }


def fmt_shape(shape: Any) -> str:
    """``(2, 16, 64)`` for a torch.Size, list or tuple."""
    dims = list(shape)
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def fmt_config(config: dict[str, Any]) -> str:
    """``embed_dim=64, num_heads=4`` for a configuration dict."""
    return ", ".join(f"{key}={value!r}" for key, value in config.items())


def require_tensor(value: Any, what: str) -> torch.Tensor:
    """A plain, floating, finite tensor from the child, else a failure that says what came instead."""
    if type(value) is not torch.Tensor:
        raise CheckFailed(f"{what}: expected a torch.Tensor, got {type(value).__name__}.")
    if not value.dtype.is_floating_point:
        raise CheckFailed(f"{what}: expected a floating-point tensor, got dtype {value.dtype}.")
    if not bool(torch.isfinite(value).all()):
        bad = int((~torch.isfinite(value)).sum())
        raise CheckFailed(
            f"{what}: {bad} of {value.numel()} values are NaN or infinite.",
            hint="Look for a division by zero or an overflow (e.g. softmax of unscaled, huge scores).",
        )
    return value


def require_shape(got: torch.Tensor, expected: tuple[int, ...] | torch.Size, what: str, config: dict[str, Any]) -> None:
    """Fail with expected vs got shape and the configuration."""
    if tuple(got.shape) != tuple(expected):
        raise CheckFailed(
            f"{what}: expected shape {fmt_shape(expected)}, got {fmt_shape(got.shape)} ({fmt_config(config)}).",
            details={"expected_shape": list(expected), "got_shape": list(got.shape), "config": config},
        )


def difference(got: torch.Tensor, expected: torch.Tensor, tol: Tolerance) -> Difference:
    """Compare in float64 on the CPU; shapes must already agree."""
    a = got.detach().to("cpu", torch.float64)
    b = expected.detach().to("cpu", torch.float64)
    error = (a - b).abs()
    flat = int(error.argmax()) if error.numel() else 0
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), error.shape)) if error.numel() else ()
    within = bool((error <= tol.atol + tol.rtol * b.abs()).all())
    max_abs = float(error.max()) if error.numel() else 0.0
    return Difference(
        max_abs_error=max_abs,
        index=index,
        got_value=float(a.flatten()[flat]) if a.numel() else math.nan,
        expected_value=float(b.flatten()[flat]) if b.numel() else math.nan,
        within=within,
    )


def is_close(got: torch.Tensor, expected: torch.Tensor, tol: Tolerance) -> bool:
    """True when shapes agree and every element is within tolerance."""
    return tuple(got.shape) == tuple(expected.shape) and difference(got, expected, tol).within


def mismatch_message(
    what: str, diff: Difference, tol: Tolerance, config: dict[str, Any], against: str = "the reference"
) -> str:
    """``output differs from the reference: max abs error 0.31 at index (0, 3, 5) (got 1.2, expected 0.89);
    tolerance atol=1e-05, rtol=0.0001 (embed_dim=64)``."""
    return (
        f"{what} differs from {against}: max abs error {diff.max_abs_error:.3g} at index "
        f"{fmt_shape(diff.index)} (got {diff.got_value:.6g}, expected {diff.expected_value:.6g}); "
        f"tolerance {tol} ({fmt_config(config)})."
    )
