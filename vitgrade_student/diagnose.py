"""Name the known mistake your output matches, from the shipped outputs of the reference's mistake variants.

The grader's criterion, on single mistakes: your output *matches* a variant when it is within the
check's tolerance of the variant's output while the variant itself is outside that tolerance of the
reference's; otherwise a variant that accounts for at least 90 % of your max abs error is named as
"closest to". The grader also tries pairs of mistakes made together, which needs the reference's code:
when no single mistake matches here, the hint says to submit for a full diagnosis.
"""

from collections.abc import Mapping

import torch

from vitgrade_student.compare import Tolerance, is_close

EXPLAINED = 0.9
FULL_DIAGNOSIS = " Submit for a full diagnosis: the service also tries pairs of known mistakes."


def _max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    if tuple(a.shape) != tuple(b.shape):
        return float("inf")
    return float((a.to(torch.float64) - b.to(torch.float64)).abs().max())


def _describe(what: str, mistake: Mapping[str, str], exact: bool, explained: float) -> str:
    name = f"{mistake['name']} ({mistake['question']})"
    if exact:
        return f"Your output matches {what} with {name}. {mistake['hint']}"
    return (
        f"Your output is closest to {what} with {name}: that accounts for {explained:.0%} of the "
        f"difference from the reference, so something else differs too. {mistake['hint']}"
    )


def matched_hint(what: str, matched: list[Mapping[str, str]]) -> str:
    """The hint for known mistakes that each give exactly this output (one, or several to choose from)."""
    texts = [_describe(what, mistake, True, 1.0) for mistake in matched]
    return texts[0] if len(texts) == 1 else "Several known mistakes give this output. " + " Or: ".join(texts)


def named_hint(
    got: torch.Tensor,
    expected: torch.Tensor,
    variants: Mapping[str, torch.Tensor],
    mistakes: Mapping[str, Mapping[str, str]],
    tol: Tolerance,
    what: str,
    default: str,
) -> tuple[str, list[list[str]]]:
    """The hint to show and the matched mistake ids (``[[id], ...]``), as the grader words them."""
    error = _max_abs(got, expected)
    exact, close = [], []
    for mistake_id, out in variants.items():
        if mistake_id not in mistakes or is_close(out, expected, tol):
            continue  # a mistake that changes nothing here is never named
        if is_close(got, out, tol):
            exact.append(mistake_id)
            continue
        explained = 1.0 - _max_abs(got, out) / error if 0 < error < float("inf") else 0.0
        if explained >= EXPLAINED:
            close.append((explained, mistake_id))
    if exact:
        return matched_hint(what, [mistakes[m] for m in exact]), [[m] for m in exact]
    if close:
        explained, best = max(close)
        return _describe(what, mistakes[best], False, explained) + FULL_DIAGNOSIS, [[best]]
    return default + FULL_DIAGNOSIS, []
