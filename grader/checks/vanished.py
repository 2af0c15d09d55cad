"""Partial credit over configurations: a configuration where the student's mistake vanishes earns nothing.

The grading policy: "a configuration where a general mistake happens to vanish earns nothing". When every
failing configuration of an equivalence check is reproduced exactly by the same known mistake, a passing
configuration where that mistake's variant gives the reference's own output (heads split without a
transpose when there is one head, the sqrt(embed_dim) scale when there is one head) proves nothing about
the student's code: it does not earn its share. A configuration the mistake does change, and that passes,
still earns it; so does every passing configuration when a failure is unexplained.
"""

from typing import Any

from grader.checks.compare import Tolerance
from grader.checks.registry import CheckFailed
from grader.diagnostics.match import Diagnosis, vanishing


def record_pass(memo: dict[str, Any], i: int, reference: Any, x: Any) -> None:
    """Keep a passing configuration's reference and input, to test a mistake found later on it."""
    memo.setdefault("passed", {})[i] = (reference, x)


def record_failure(memo: dict[str, Any], diagnoses: list[Diagnosis]) -> None:
    """Keep the exact diagnoses of one wrong output."""
    memo.setdefault("explained", []).append([d for d in diagnoses if d.exact])


def common_mistakes(memo: dict[str, Any], failures: int) -> list[Diagnosis]:
    """The exact diagnoses shared by every failing configuration (none when one failure is unexplained)."""
    explained = memo.get("explained", [])
    if not failures or len(explained) != failures or not all(explained):
        return []
    shared = {tuple(d.ids) for d in explained[0]}
    for found in explained[1:]:
        shared &= {tuple(d.ids) for d in found}
    return [d for d in explained[0] if tuple(d.ids) in shared]


def withdraw_vanished(
    figures: list[dict[str, Any]], failures: list[CheckFailed], memo: dict[str, Any], tol: Tolerance, name: str
) -> None:
    """Turn each passing configuration where the shared mistake vanishes into a failure (in place)."""
    mistakes = common_mistakes(memo, len(failures))
    if not mistakes:
        return
    for i, (reference, x) in sorted(memo.get("passed", {}).items()):
        hidden = vanishing(reference, x, tol, mistakes)
        if not hidden:
            continue
        names = " or ".join(" and ".join(m.name for m in d.mistakes) for d in hidden)
        config = figures[i].get("config")
        message = (
            f"{name} at {config} matches the reference, but so would {names}, the mistake your other "
            "configurations show: this configuration earns nothing"
        )
        figures[i] = {**figures[i], "passed": False, "earned": False, "vanished_mistakes": [d.ids for d in hidden]}
        failures.append(CheckFailed(message, details={"known_mistakes": [d.ids for d in hidden]}))
