"""The from-scratch rule with teeth: a question whose own code uses a library shortcut keeps at most
``SHARE_WHEN_FORBIDDEN`` of each equivalence and property check (``grader.checks.forbidden``).

Applied by the runner to the finished results, so it holds whatever the check found (a check that
passed because ``nn.MultiheadAttention`` is right keeps only the share) and whichever checks were
selected. The findings come from the source (``grader.checks.shortcuts``), or, when the source shows
none, from the modules ``static.from_scratch`` built in the sandbox.
"""

from collections.abc import Sequence
from typing import Any

from grader.checks.forbidden import CAPPED_CATEGORIES, SHARE_WHEN_FORBIDDEN
from grader.checks.ownership import CONTRACT
from grader.checks.shortcuts import Violation
from grader.checks.static import HINT, findings
from grader.report import CheckResult, CheckStatus

STATIC_CHECK = "static.from_scratch"


def cap_message(question: str, violations: Sequence[Violation], cap: float, max_score: float) -> str:
    """``Capped at 0 of 3 points: Q4's own code uses a library shortcut (line 12 in ...: torch.nn....).``"""
    listed = "; ".join(str(v) for v in violations)
    return (
        f"Capped at {cap:g} of {max_score:g} points: {question}'s own code uses library shortcuts ({listed}); "
        "the lab asks for it written from scratch."
    )


# A check that exercises one contract definition alone: another definition's shortcut does not touch it.
EXERCISES = {"q6.sinusoidal": "sinusoidal_positional_encoding"}


def relevant(check_id: str, violations: Sequence[Violation]) -> list[Violation]:
    """The violations that can touch what ``check_id`` runs: all of them, except, for a check of one definition
    (``EXERCISES``), those that sit in another contract definition (the ViT's nn.TransformerEncoder does not run
    in ``sinusoidal_positional_encoding``; a shared helper or module-level code still counts)."""
    target = EXERCISES.get(check_id)
    if target is None:
        return list(violations)
    roots = {v: v.where.split(" ")[0].split(".")[0] for v in violations}
    return [v for v in violations if roots[v] == target or roots[v] not in CONTRACT]


def apply_from_scratch_rule(
    results: list[CheckResult],
    source: str | None,
    share: float = SHARE_WHEN_FORBIDDEN,
    static_details: dict[str, Any] | None = None,
) -> list[CheckResult]:
    """``results`` with the equivalence and property checks of each question that uses a shortcut capped
    (``static_details`` defaults to the details of the ``static.from_scratch`` result among them)."""
    static = next((r for r in results if r.id == STATIC_CHECK), None)
    if static_details is None and static is not None:
        static_details = static.details
    found = findings(source, static_details)
    if not found:
        return results
    share = min(1.0, max(0.0, share))
    capped = []
    for result in results:
        violations = relevant(result.id, found.get(result.question) or [])
        if (
            not violations
            or result.category.value not in CAPPED_CATEGORIES
            or result.status not in (CheckStatus.passed, CheckStatus.failed)
            or result.max_score <= 0
        ):
            capped.append(result)
            continue
        cap = round(share * result.max_score, 6)
        score = min(result.score, cap)
        note = cap_message(result.question, violations, cap, result.max_score)
        details = {
            **result.details,
            "from_scratch": {
                "share": share,
                "uncapped_score": result.score,
                "violations": [dict(v.__dict__) for v in violations],
            },
        }
        capped.append(
            result.model_copy(
                update={
                    "score": score,
                    "status": CheckStatus.passed if score >= result.max_score - 1e-9 else CheckStatus.failed,
                    "message": f"{note} {result.message}".strip(),
                    "hint": HINT if result.status is CheckStatus.passed else f"{result.hint} {HINT}".strip(),
                    "details": details,
                }
            )
        )
    return capped
