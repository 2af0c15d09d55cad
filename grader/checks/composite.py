"""The end-to-end check of a composite question (Q5 block, Q6 ViT): the student's own sub-modules, together.

The composite's own checks run with trusted stand-ins in place of its sub-modules; this one runs the
student's whole module with the reference weights. When it differs, the same forward is repeated with one
sub-module at a time replaced by its stand-in: the replacement that removes the difference names the
sub-question whose module is the cause ("your block is right; the difference comes from your MLP (Q2)").
"""

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from grader.checks import remote
from grader.checks.compare import Difference, Tolerance, difference, mismatch_message, require_shape
from grader.checks.context import CheckContext
from grader.checks.flows import Case, outputs_of, prepare, reference_outputs, seeded_reference
from grader.checks.registry import CheckFailed, Outcome
from grader.checks.substitution import VIT_INNER_PARTS, Part, substitute
from grader.checks.variants import matching_variant
from grader.diagnostics import diagnose_module, hint_from
from grader.sandbox.errors import StudentError


def _matches_with(
    ctx: CheckContext,
    name: str,
    pristine: nn.Module,
    case: Case,
    x: torch.Tensor,
    tol: Tolerance,
    parts: tuple[Part, ...],
) -> bool:
    """True when the student's module with ``parts`` replaced by stand-ins equals the reference on ``x``."""
    reference = copy.deepcopy(pristine)
    sub = substitute(parts, case.kwargs)
    try:
        prepared = prepare(ctx, name, reference, case.kwargs, sub)
        if prepared.fell_back:
            return False  # the part could not be replaced: this run says nothing about it
        got = remote.forward(ctx, name, case.kwargs, x, state=prepared.fit(reference.state_dict()), substitute=sub)
    except (CheckFailed, StudentError):
        return False
    with torch.no_grad():
        expected = reference(x)
    if tuple(got.output.shape) != tuple(expected.shape):
        return False
    diff = difference(got.output, expected, tol)
    return diff.within or matching_variant(reference, x, got.output, diff, tol) is not None


def culprits(run: Callable[[tuple[Part, ...]], bool], parts: tuple[Part, ...]) -> list[Part]:
    """The parts whose replacement alone removes the difference; where none does, those whose own module
    still makes a difference when every other part is replaced (several sub-modules wrong at once)."""
    single = [part for part in parts if run((part,))]
    if single or len(parts) < 2:
        return single
    return [part for part in parts if not run(tuple(p for p in parts if p is not part))]


def causes(
    ctx: CheckContext, name: str, pristine: nn.Module, case: Case, x: torch.Tensor, tol: Tolerance, parts: tuple
) -> tuple[bool, list[Part]]:
    """(is the composite's own wiring right, the sub-modules that cause the difference)."""

    def run(sub: tuple[Part, ...]) -> bool:
        return _matches_with(ctx, name, pristine, case, x, tol, sub)

    found = culprits(run, parts)
    blocks = [part for part in found if part.path == "blocks.*"]
    if blocks:  # refine: the blocks' attention, MLP, or their own wiring (others replaced meanwhile)
        others = tuple(part for part in parts if part.path != "blocks.*")
        inner = culprits(lambda sub: run(others + sub), VIT_INNER_PARTS)
        explained = inner and run(others + VIT_INNER_PARTS)
        found = [part for part in found if part.path != "blocks.*"] + inner + ([] if explained else blocks)
    return run(parts), found


def check_end_to_end(
    ctx: CheckContext, name: str, cls: type[nn.Module], case: Case, tol: Tolerance, parts: tuple[Part, ...]
) -> Outcome:
    """The student's own composite with the reference weights; a difference is traced to a sub-module."""
    tol = tol.on(ctx.device)
    pristine = seeded_reference(ctx, cls, case.kwargs, salt="end-to-end")
    reference = copy.deepcopy(pristine)
    prepared = prepare(ctx, name, reference, case.kwargs)
    x = ctx.randn(*case.input_shape, salt="end-to-end-input")
    expected, grad_output, expected_grad = reference_outputs(reference, x, ctx, salt="end-to-end")
    state = prepared.fit(reference.state_dict())
    got = remote.forward(ctx, name, case.kwargs, x, state=state, grad_output=grad_output, salt="end-to-end")
    require_shape(got.output, tuple(expected.shape), f"{name} output", case.config())
    diff = difference(got.output, expected, tol)
    details: dict[str, Any] = {"config": case.config(), "tolerance": str(tol), **diff.as_details()}
    details.update(prepared.details())
    accepted = matching_variant(reference, x, got.output, diff, tol)
    if not diff.within and accepted is None:
        raise traced_failure(ctx, name, cls, pristine, reference, case, x, got.output, diff, tol, parts, details)
    if accepted is not None:
        expected, expected_grad = outputs_of(accepted[1], x, grad_output)
        details["notes"] = [*details.get("notes", []), accepted[0].note]
    grad_diff = difference(got.input_grad, expected_grad, tol)
    if not grad_diff.within:
        raise CheckFailed(
            mismatch_message(f"{name} gradient with respect to the input", grad_diff, tol, case.config()),
            hint="The forward values are right but the backward pass is not: look for .detach() or .data in forward.",
            details={**details, "grad_max_abs_error": grad_diff.max_abs_error},
        )
    return Outcome(details={**details, "grad_max_abs_error": grad_diff.max_abs_error})


def traced_failure(
    ctx: CheckContext,
    name: str,
    cls: type[nn.Module],
    pristine: nn.Module,
    reference: nn.Module,
    case: Case,
    x: torch.Tensor,
    got: torch.Tensor,
    diff: Difference,
    tol: Tolerance,
    parts: tuple[Part, ...],
    details: dict[str, Any],
) -> CheckFailed:
    """The failure of the end-to-end run, naming the sub-question whose module causes the difference."""
    wiring, found = causes(ctx, name, pristine, case, x, tol, parts)
    suspects = {part.question for part in found} | ({"Q2", "Q4"} if any(p.kind == "block" for p in found) else set())
    diagnoses = diagnose_module(reference, x, got, tol, questions=suspects if wiring and found else None)
    own_question = {"TransformerBlock": "Q5", "ViT": "Q6"}.get(name, "")
    labels = " and ".join(f"your {part.label} ({part.question})" for part in found)
    if wiring and found:
        cause = f"your {name} is right; the difference comes from {labels}"
        if len(found) > 1:
            cause += " together"
        default = f"Fix {labels} first: see " + ", ".join(f"{p.question.lower()}.equivalence" for p in found) + "."
    elif wiring:
        everything = " and ".join(f"{p.label} ({p.question})" for p in parts)
        cause = f"your {name} is right with the grader's sub-modules; the difference comes from your {everything}"
        default = "Fix the sub-modules' own checks first."
    else:
        cause = f"the difference comes from your {name} itself (see {own_question.lower()}.equivalence)"
        if found:
            cause += f", and also from {labels}"
        default = f"Fix {own_question.lower()}.equivalence first."
    hint, matched = hint_from(diagnoses, f"a {cls.__name__}", default)
    details = {
        **details,
        "known_mistakes": matched,
        "wiring_right_with_trusted_sub_modules": wiring,
        "causes": [f"{part.label} ({part.question})" for part in found],
    }
    message = mismatch_message(f"{name} output with your own sub-modules", diff, tol, case.config())
    return CheckFailed(f"{message} {cause[0].upper()}{cause[1:]}.", hint=hint, details=details)
