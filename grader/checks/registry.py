"""The check registry: small functions with an id, a question, a category and points.

A check is ``def fn(ctx: CheckContext) -> Outcome | None``. Returning ``None`` is full credit;
an ``Outcome`` carries partial credit and figures; raising ``CheckFailed`` is zero credit with a
message and a hint; raising ``Skip`` marks the check skipped (no points lost or gained). The runner
turns ``StudentError`` from the sandbox into *failed* (``not_implemented``) or *error*, and any other
exception into a grader fault.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grader.checks.points import points_for
from grader.report import CheckCategory


class CheckFailed(Exception):
    """The submission is wrong: says what was expected, what came, and how to fix it."""

    def __init__(self, message: str, hint: str = "", details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details or {}


class Skip(Exception):
    """The check cannot run here (e.g. no GPU, no pretrained weights); the reason is reported."""


@dataclass(frozen=True)
class Outcome:
    """A check's result when it is not simply full credit: a fraction of the points and figures."""

    fraction: float = 1.0
    message: str = ""
    hint: str = ""
    details: dict[str, Any] = field(default_factory=dict)


CheckFunction = Callable[[Any], "Outcome | None"]


@dataclass(frozen=True)
class CheckSpec:
    """One registered check."""

    id: str
    question: str
    category: CheckCategory
    points: float
    func: CheckFunction
    hidden: bool = False
    description: str = ""


REGISTRY: dict[str, CheckSpec] = {}


def check(
    id: str, *, question: str, category: CheckCategory | str, points: float | None = None, hidden: bool = False
) -> Callable[[CheckFunction], CheckFunction]:
    """Register ``fn`` as the check ``id``; its docstring's first line is the public description.

    ``points`` defaults to the check's entry in ``grader/checks/points.py``, the one points table.
    """
    points = points_for(id) if points is None else points

    def register(fn: CheckFunction) -> CheckFunction:
        if id in REGISTRY:
            raise ValueError(f"Duplicate check id {id!r}.")
        description = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        REGISTRY[id] = CheckSpec(id, question, CheckCategory(category), points, fn, hidden, description)
        return fn

    return register
