"""The check registry: small functions with an id, a question, a category and points.

A check is ``def fn(ctx: CheckContext) -> Outcome | None``. Returning ``None`` is full credit;
an ``Outcome`` carries partial credit and figures; raising ``CheckFailed`` is zero credit with a
message and a hint; raising ``Skip`` marks the check skipped (no points lost or gained). Those types
live in ``grader.checks.outcome`` (re-exported here for the check modules). The runner turns
``StudentError`` from the sandbox into *failed* (``not_implemented``) or *error*, and any other
exception into a grader fault. A check's question and points come from ``grader/questions.py``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grader.checks.outcome import CheckFailed, Outcome, Skip
from grader.questions import QUESTION_OF, points_for
from grader.report import CheckCategory

__all__ = ["REGISTRY", "CheckFailed", "CheckFunction", "CheckSpec", "Outcome", "Skip", "check"]


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
    id: str,
    *,
    question: str | None = None,
    category: CheckCategory | str,
    points: float | None = None,
    hidden: bool = False,
) -> Callable[[CheckFunction], CheckFunction]:
    """Register ``fn`` as the check ``id``; its docstring's first line is the public description.

    ``question`` and ``points`` default to the check's row in ``grader/questions.py``, the one table of
    questions; a ``question`` that disagrees with the table is a grader bug, refused here.
    """
    points = points_for(id) if points is None else points
    owner = QUESTION_OF.get(id, question)
    if owner is None:
        raise ValueError(f"Check {id!r} is not in grader/questions.py and names no question.")
    if question is not None and question != owner:
        raise ValueError(f"Check {id!r} is declared for {question!r}, but grader/questions.py puts it in {owner!r}.")

    def register(fn: CheckFunction) -> CheckFunction:
        if id in REGISTRY:
            raise ValueError(f"Duplicate check id {id!r}.")
        description = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        REGISTRY[id] = CheckSpec(id, owner, CheckCategory(category), points, fn, hidden, description)
        return fn

    return register
