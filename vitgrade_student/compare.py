"""Compare your tensors with the shipped expected ones, under the grader's tolerances, and explain failures.

The grader's ``compare`` step is built on this module (it imports it), so the arithmetic and the messages
are the same in the kit and in the grade: expected vs got shape and the configuration, or the max abs
error, where it happened, and the tolerance. It needs only torch and the standard library.
"""

import math
from dataclasses import dataclass
from typing import Any

import torch


class CheckFailed(Exception):
    """Your code is wrong here: what was expected, what came, and how to fix it."""

    def __init__(self, message: str, hint: str = "", details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details or {}


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
    """A plain, floating, finite tensor, else a failure that says what came instead."""
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


def require_shape(got: torch.Tensor, expected: Any, what: str, config: dict[str, Any]) -> None:
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
    return Difference(
        max_abs_error=float(error.max()) if error.numel() else 0.0,
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


STATE_HINT = (
    "Use exactly the attribute names and layer types of the template (e.g. self.q, self.k, self.v, "
    "self.proj as nn.Linear(embed_dim, embed_dim)) so the reference weights load with strict=True; "
    "a fixed table such as the sinusoidal pos_embed is a persistent buffer (self.register_buffer)."
)


def state_differences(
    expected: dict[str, tuple[int, ...]], got: dict[str, tuple[int, ...]]
) -> tuple[list[str], list[str], dict[str, dict[str, list[int]]], list[str]]:
    """Missing, unexpected and mis-shaped state_dict keys, and the sentence parts that name them (all empty
    when the two agree)."""
    missing = sorted(set(expected) - set(got))
    unexpected = sorted(set(got) - set(expected))
    misshaped = {
        key: {"expected": list(expected[key]), "got": list(got[key])}
        for key in sorted(set(expected) & set(got))
        if tuple(expected[key]) != tuple(got[key])
    }
    parts = []
    if missing:
        parts.append(f"missing keys {missing}")
    if unexpected:
        parts.append(f"unexpected keys {unexpected}")
    if misshaped:
        shapes = [f"{k}: expected {fmt_shape(v['expected'])}, got {fmt_shape(v['got'])}" for k, v in misshaped.items()]
        parts.append("shape mismatch " + ", ".join(shapes))
    return missing, unexpected, misshaped, parts


def state_message(class_name: str, config: dict[str, Any], parts: list[str]) -> str:
    return f"{class_name}({fmt_config(config)}): the state_dict does not match the contract: " + "; ".join(parts) + "."


def state_mismatch(
    expected: dict[str, tuple[int, ...]], got: dict[str, tuple[int, ...]], class_name: str, config: dict[str, Any]
) -> CheckFailed | None:
    """A failure naming missing, unexpected and mis-shaped state_dict keys, or None when they agree."""
    missing, unexpected, misshaped, parts = state_differences(expected, got)
    if not parts:
        return None
    return CheckFailed(
        state_message(class_name, config, parts),
        hint=STATE_HINT + " Submit for a full diagnosis: the service also names mistakes that change the parameters, "
        "and grades the maths of a parameter set close to the contract's (e.g. a missing bias graded as zero).",
        details={"missing": missing, "unexpected": unexpected, "shape_mismatch": misshaped, "config": config},
    )
