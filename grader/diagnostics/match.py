"""Name the known mistake a wrong answer matches, by reproducing each mistake on the same weights and inputs.

The criterion for showing a diagnosis (anything else gets the check's default hint):

1. *matches*: the student's output is within the check's tolerance of the variant's output, while the
   variant's output is itself outside that tolerance of the reference's (a mistake that changes nothing
   at this configuration is never named). Single mistakes are tried first, then pairs of mistakes in
   different classes; every match at the first level that has one is shown.
2. *explains most of the error*, only when nothing matches: the variant's remaining error,
   max |got - variant|, is at most ``1 - EXPLAINED`` (10 %) of the student's error, max |got - reference|.
   Only the best such diagnosis is shown, worded as "closest to", with the share it explains.
"""

import itertools
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from grader.diagnostics.catalog import Mistake, applicable, for_function

log = logging.getLogger(__name__)

EXPLAINED = 0.9  # a non-matching variant is named only when it accounts for 90 % of the student's max abs error


class Tolerance(Protocol):
    """What matching needs of ``grader.checks.compare.Tolerance`` (kept as a protocol: no import cycle)."""

    atol: float
    rtol: float


def is_close(got: torch.Tensor, expected: torch.Tensor, tol: Tolerance) -> bool:
    """Same shape and ``|got - expected| <= atol + rtol * |expected|`` everywhere, compared in float64."""
    if tuple(got.shape) != tuple(expected.shape):
        return False
    a, b = got.detach().to("cpu", torch.float64), expected.detach().to("cpu", torch.float64)
    return bool(((a - b).abs() <= tol.atol + tol.rtol * b.abs()).all())


@dataclass(frozen=True)
class Diagnosis:
    """The mistakes (one, or a pair made together) that reproduce the student's output."""

    mistakes: tuple[Mistake, ...]
    explained: float = 1.0  # share of the student's error the variant accounts for: 1 - residual / error
    exact: bool = True  # within the check's tolerance of the variant's output

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.mistakes]

    def describe(self, what: str) -> str:
        """``Your output matches a TransformerBlock with post-norm (...) (Q5): <hint>``."""
        names = " and ".join(f"{m.name} ({m.question})" for m in self.mistakes)
        hints = " ".join(m.hint for m in self.mistakes)
        if self.exact:
            return f"Your output matches {what} with {names}. {hints}"
        return (
            f"Your output is closest to {what} with {names}: that accounts for {self.explained:.0%} of the "
            f"difference from the reference, so something else differs too. {hints}"
        )


def _max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    if tuple(a.shape) != tuple(b.shape):
        return float("inf")
    return float((a.detach().to("cpu", torch.float64) - b.detach().to("cpu", torch.float64)).abs().max())


def _run(module: nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    try:
        with torch.no_grad():
            return module.eval()(x)
    except Exception:  # noqa: BLE001 - a variant that cannot run at this configuration is simply not a candidate
        log.debug("variant %s failed", type(module).__name__, exc_info=True)
        return None


def _run_swapped(reference: nn.Module, combo: Sequence[Mistake], x: torch.Tensor) -> torch.Tensor | None:
    """``with_mistakes(reference, combo)(x)`` without the copy: swap the classes in place, always restore them."""
    swapped = []
    try:
        for mistake in combo:
            for sub in reference.modules():
                if type(sub) is mistake.target:
                    swapped.append((sub, sub.__class__))
                    sub.__class__ = mistake.variant
        return _run(reference, x)
    finally:
        for sub, cls in reversed(swapped):
            sub.__class__ = cls


def diagnose_module(
    reference: nn.Module,
    x: torch.Tensor,
    got: torch.Tensor,
    tol: Tolerance,
    *,
    pairs: bool = True,
    questions: Collection[str] | None = None,
) -> list[Diagnosis]:
    """The mistakes applicable inside ``reference`` (of ``questions`` only, when given) that explain ``got``
    (the criterion in the module docstring)."""
    expected = _run(reference, x)
    candidates = [m for m in applicable(reference) if questions is None or m.question in questions]
    tried = _scored(reference, x, got, expected, tol, [(m,) for m in candidates])
    if not any(d.exact for d in tried) and pairs:
        combos = [(a, b) for a, b in itertools.combinations(candidates, 2) if a.target is not b.target]
        pair_tried = _scored(reference, x, got, expected, tol, combos)
        tried = pair_tried if any(d.exact for d in pair_tried) else tried + pair_tried
    exact = [d for d in tried if d.exact]
    if exact:
        return exact
    close = sorted((d for d in tried if d.explained >= EXPLAINED), key=lambda d: -d.explained)
    return close[:1]


def _scored(
    reference: nn.Module,
    x: torch.Tensor,
    got: torch.Tensor,
    expected: torch.Tensor | None,
    tol: Tolerance,
    combos: Sequence[tuple[Mistake, ...]],
) -> list[Diagnosis]:
    """Every combo whose output differs from the reference, with how much of the student's error it explains."""
    error = _max_abs(got, expected) if expected is not None else float("inf")
    found = []
    for combo in combos:
        out = _run_swapped(reference, combo, x)
        if out is None or (expected is not None and is_close(out, expected, tol)):
            continue
        exact = is_close(got, out, tol)
        explained = 1.0 - _max_abs(got, out) / error if 0 < error < float("inf") else 0.0
        if exact or explained >= EXPLAINED:
            found.append(Diagnosis(tuple(combo), explained=1.0 if exact else explained, exact=exact))
    return found


def diagnose_function(
    configs: Sequence[tuple[int, int]],
    got: Sequence[torch.Tensor],
    reference: Callable[[int, int], torch.Tensor],
    tol: Tolerance,
) -> list[Diagnosis]:
    """The sinusoidal-encoding mistakes whose tables match ``got`` at every (num_tokens, embed_dim)."""
    found = []
    for mistake in for_function():
        differs, matches = False, True
        for (n, d), table in zip(configs, got, strict=True):
            try:
                variant = mistake.function(n, d)
            except Exception:  # noqa: BLE001 - a variant undefined here (e.g. odd d) is not a candidate
                matches = False
                break
            differs = differs or not is_close(variant, reference(n, d), tol)
            matches = matches and is_close(table, variant, tol)
        if matches and differs:
            found.append(Diagnosis((mistake,)))
    return found


def hint_from(diagnoses: Sequence[Diagnosis], what: str, default: str) -> tuple[str, list[list[str]]]:
    """The hint to show (the matched mistake, or ``default``) and the matched ids for the details."""
    if not diagnoses:
        return default, []
    if len(diagnoses) == 1:
        return diagnoses[0].describe(what), [diagnoses[0].ids]
    text = " Or: ".join(d.describe(what) for d in diagnoses)
    return f"Several known mistakes give this output. {text}", [d.ids for d in diagnoses]


def still_matching(
    reference: nn.Module, x: torch.Tensor, got: torch.Tensor, tol: Tolerance, diagnoses: Sequence[Diagnosis]
) -> list[Diagnosis]:
    """Those of ``diagnoses`` (found at another configuration) that also explain ``got`` on ``x``."""
    tried = _scored(reference, x, got, _run(reference, x), tol, [d.mistakes for d in diagnoses])
    return [d for d in tried if d.exact]


def vanishing(reference: nn.Module, x: torch.Tensor, tol: Tolerance, diagnoses: Sequence[Diagnosis]) -> list[Diagnosis]:
    """Those of ``diagnoses`` whose variant gives the reference's own output on ``x`` (the mistake vanishes
    there, e.g. heads split without a transpose when there is one head), within ``tol``."""
    expected = _run(reference, x)
    if expected is None:
        return []
    found = []
    for diagnosis in diagnoses:
        out = _run_swapped(reference, diagnosis.mistakes, x)
        if out is not None and is_close(out, expected, tol):
            found.append(diagnosis)
    return found
