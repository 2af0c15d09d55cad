"""What a check returns or raises: full credit (``None``), ``Outcome``, ``CheckFailed`` or ``Skip``.

The runner maps each to the report (``grader.outcomes``); the registry only records checks.
"""

from dataclasses import dataclass, field
from typing import Any

from vitgrade_student.compare import CheckFailed  # one class: the kit's comparisons raise it too

__all__ = ["CheckFailed", "Outcome", "Skip"]


class Skip(Exception):
    """The check cannot run here (e.g. no GPU, no pretrained weights); the reason is reported."""


@dataclass(frozen=True)
class Outcome:
    """A check's result when it is not simply full credit: a fraction of the points and figures."""

    fraction: float = 1.0
    message: str = ""
    hint: str = ""
    details: dict[str, Any] = field(default_factory=dict)
