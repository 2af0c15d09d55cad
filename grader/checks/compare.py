"""Compare the child's tensors with the parent's reference under stated tolerances, and explain failures.

Every comparison names its tolerance (``Tolerance(atol=1e-5, rtol=1e-4)``) and a failure carries
its figures: expected vs got shape and the configuration, or the max abs error, where it happened,
and the tolerance. Tensors from the child are checked (``type(t) is torch.Tensor``, floating,
finite) before any arithmetic touches them.

The arithmetic and the messages are the student kit's (``vitgrade_student.compare``, torch and the
standard library only), so a student's local check and the grade say the same; the grader adds the
named known mistakes to a state_dict mismatch.
"""

from typing import Any

from grader.diagnostics.state import state_hint
from vitgrade_student.compare import (
    STATE_HINT,
    CheckFailed,
    Difference,
    Tolerance,
    difference,
    fmt_config,
    fmt_shape,
    is_close,
    mismatch_message,
    require_shape,
    require_tensor,
    state_differences,
    state_message,
)

__all__ = [
    "Difference", "Tolerance", "difference", "fmt_config", "fmt_shape", "is_close", "mismatch_message",
    "require_shape", "require_tensor", "state_mismatch",
]  # fmt: skip


def state_mismatch(
    expected: dict[str, tuple[int, ...]], got: dict[str, tuple[int, ...]], class_name: str, config: dict[str, Any]
) -> CheckFailed | None:
    """A failure naming missing, unexpected and mis-shaped state_dict keys, or None when they agree; the hint
    names a known mistake that changes the parameters when one matches."""
    missing, unexpected, misshaped, parts = state_differences(expected, got)
    if not parts:
        return None
    named, known = state_hint(class_name, expected, got, config)
    return CheckFailed(
        state_message(class_name, config, parts),
        hint=named or STATE_HINT,
        details={
            "known_mistakes": known,
            "expected_keys": {k: list(v) for k, v in sorted(expected.items())},
            "missing": missing,
            "unexpected": unexpected,
            "shape_mismatch": misshaped,
            "config": config,
        },
    )
