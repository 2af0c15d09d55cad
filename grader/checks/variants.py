"""Accepted variants: code that differs from the reference in a way this lab counts as correct.

Written down in docs/accepted-variants.md; each one is a test in tests/grader/checks/test_checks_variants.py.

- LayerNorm ``eps`` anywhere in ``EPS_RANGE`` (timm and JAX use 1e-6, BERT 1e-12): the reference is built
  with the student's own eps, read from each ``nn.LayerNorm`` of the student's module by the child.
- GELU with the tanh approximation (``nn.GELU(approximate="tanh")``, GPT-2 and BERT's GELU): an output that
  misses the exact-GELU reference but matches the reference with tanh GELU, under the same tolerance, passes
  with a note.
"""

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from grader.checks.compare import Difference, Tolerance, is_close
from reference.mlp import MLP

EPS_RANGE = (1e-12, 1e-3)  # LayerNorm eps graded as the student's own, with a note


class TanhGeluMLP(MLP):
    """Q2 with GELU's tanh approximation: fc2(GELU_tanh(fc1(x)))."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))  # (B, N, D)


@dataclass(frozen=True)
class AcceptedVariant:
    """A subclass of a reference class that loads the same weights and is graded as correct."""

    target: type[nn.Module]
    variant: type[nn.Module]
    note: str


MODULE_VARIANTS = (
    AcceptedVariant(
        MLP,
        TanhGeluMLP,
        "accepted variant: GELU with the tanh approximation (a standard GELU; the exact one is nn.GELU()).",
    ),
)


def adapt_eps(reference: nn.Module, student_eps: dict[str, float]) -> list[str]:
    """Give each reference LayerNorm the student's eps at the same path when it is in ``EPS_RANGE``; notes."""
    changed: dict[float, list[str]] = {}
    for path, module in reference.named_modules():
        eps = student_eps.get(path)
        accepted = eps is not None and EPS_RANGE[0] <= eps <= EPS_RANGE[1]
        if isinstance(module, nn.LayerNorm) and accepted and eps != module.eps:
            module.eps = float(eps)
            changed.setdefault(float(eps), []).append(path or "(the module)")
    return [
        f"accepted variant: LayerNorm eps={eps:g} at {', '.join(paths)} (compared with a reference built with the "
        "same eps; the contract's default is 1e-5)."
        for eps, paths in changed.items()
    ]


def with_variant(reference: nn.Module, accepted: AcceptedVariant) -> nn.Module | None:
    """A copy of ``reference`` where every instance of the variant's target runs the variant, or None."""
    if not any(type(m) is accepted.target for m in reference.modules()):
        return None
    module = copy.deepcopy(reference)
    for sub in module.modules():
        if type(sub) is accepted.target:
            sub.__class__ = accepted.variant
    return module.eval()


EPS_VARIANT = AcceptedVariant(
    nn.LayerNorm,
    nn.LayerNorm,
    "accepted variant: LayerNorm eps=1e-6 (timm, JAX), recognised from the outputs (e.g. F.layer_norm(..., eps=1e-6)).",
)


def applicable_variants(reference: nn.Module) -> list[tuple[AcceptedVariant, nn.Module]]:
    """(variant, the reference running it) for each accepted variant that applies inside ``reference``; the eps
    of a LayerNorm that the child could not read (a functional layer_norm) is tried at 1e-6 too."""
    found = []
    for accepted in MODULE_VARIANTS:
        module = with_variant(reference, accepted)
        if module is not None:
            found.append((accepted, module))
    norms = [m for m in reference.modules() if isinstance(m, nn.LayerNorm)]
    if norms and any(m.eps != 1e-6 for m in norms):
        module = copy.deepcopy(reference).eval()
        for sub in module.modules():
            if isinstance(sub, nn.LayerNorm):
                sub.eps = 1e-6
        found.append((EPS_VARIANT, module))
    return found


def matching_variant(
    reference: nn.Module, x: torch.Tensor, got: torch.Tensor, diff: Difference, tol: Tolerance
) -> tuple[AcceptedVariant, nn.Module] | None:
    """The accepted variant the student's output ``got`` matches: within ``tol`` of it where ``got`` failed the
    reference (``diff``), or ten times closer to it than the reference's error where ``got`` passed (so that
    the details say which GELU a deep ViT ran even where both are within tolerance)."""
    for accepted, module in applicable_variants(reference):
        with torch.no_grad():
            out = module(x)
        if tuple(out.shape) != tuple(got.shape):
            continue
        variant_error = float((out.double() - got.double()).abs().max())
        if (not diff.within and is_close(got, out, tol)) or (diff.within and variant_error * 10 < diff.max_abs_error):
            return accepted, module
    return None
