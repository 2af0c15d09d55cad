"""Partial credit over configurations, as the grader gives it: a configuration where your mistake vanishes
earns nothing.

When every failing configuration of an equivalence check is reproduced exactly by the same known mistake,
a passing configuration where that mistake's variant gives the reference's own output (heads split without
a transpose when there is one head) proves nothing about your code and does not earn its share. Here the
mistakes are single ones, from the shipped outputs of the variants.
"""

from collections.abc import Mapping
from typing import Any

import torch

from vitgrade_student.compare import CheckFailed, Tolerance, is_close
from vitgrade_student.fixtures import Request


def exact_mistakes(got: torch.Tensor, request: Request, mistakes: Mapping[str, Any], tol: Tolerance) -> list[str]:
    """The known mistakes whose variant gives exactly ``got`` while differing from the reference here."""
    expected = request.outputs["output"]
    return [
        mistake_id
        for mistake_id, out in request.variants.items()
        if mistake_id in mistakes and not is_close(out, expected, tol) and is_close(got, out, tol)
    ]


def withdraw_vanished(
    figures: list[dict[str, Any]],
    failures: list[CheckFailed],
    memo: dict[str, Any],
    mistakes: Mapping[str, Mapping[str, str]],
    tol: Tolerance,
    name: str,
) -> None:
    """Turn each passing configuration where the shared mistake vanishes into a failure (in place)."""
    explained = memo.get("explained", [])
    if not failures or len(explained) != len(failures) or not all(explained):
        return
    shared = set(explained[0]).intersection(*explained[1:])
    common = [m for m in explained[0] if m in shared]
    for i, request in sorted(memo.get("passed", {}).items()):
        hidden = [m for m in common if is_close(request.variants[m], request.outputs["output"], tol)]
        if not hidden:
            continue
        names = " or ".join(mistakes[m]["name"] for m in hidden)
        config = figures[i].get("config")
        message = (
            f"{name} at {config} matches the reference, but so would {names}, the mistake your other "
            "configurations show: this configuration earns nothing"
        )
        figures[i] = {**figures[i], "passed": False, "earned": False, "vanished_mistakes": [[m] for m in hidden]}
        failures.append(CheckFailed(message, details={"known_mistakes": [[m] for m in hidden]}))
