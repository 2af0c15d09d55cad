"""The two flows every Q1-Q6 module check shares: shapes over configurations, equivalence with the reference.

The parent builds the reference with seeded, deliberately non-default weights (LayerNorm affine
parameters, [CLS] and positional embeddings drawn at random, so that a swapped norm or a misplaced
token cannot hide behind an identity initialisation), fits it to the student's parameter set
(``grader.checks.contract``: a missing bias graded as zero, the student's LayerNorm eps), sends those
weights and seeded inputs to the child, and compares. Each configuration scores its share of the check;
a wrong output is matched against the accepted variants, then against the known mistakes.
"""

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from grader.checks import remote
from grader.checks.compare import Difference, Tolerance, difference, fmt_config, mismatch_message, require_shape
from grader.checks.context import CheckContext
from grader.checks.fitting import (  # noqa: F401 - re-exported: the question modules import them from here
    Case,
    Prepared,
    Substitute,
    outputs_of,
    prepare,
    prepared_reference,
    reference_outputs,
    seeded_reference,
)
from grader.checks.registry import CheckFailed, Outcome
from grader.checks.substitution import fallback_note
from grader.checks.vanished import record_failure, record_pass, withdraw_vanished
from grader.checks.variants import matching_variant
from grader.diagnostics import diagnose_module, hint_from
from grader.diagnostics.match import still_matching
from grader.sandbox.errors import StudentError


def check_shapes(
    ctx: CheckContext,
    name: str,
    cases: list[Case],
    expected_shape: Callable[[Case], tuple[int, ...]],
    substitute: Substitute = None,
) -> dict[str, Any]:
    """Build ``name`` with the child's own initialisation for each case and check the output shape
    (and expected attribute values); ``substitute`` puts stand-ins in place of its sub-modules."""
    seen = []
    for i, case in enumerate(cases):
        x = ctx.randn(*case.input_shape, salt=f"shape-input:{i}")
        sub = substitute(case.kwargs) if substitute else None
        result = remote.forward(
            ctx, name, case.kwargs, x, attributes=tuple(case.attributes), salt=f"shape:{i}", substitute=sub
        )
        require_shape(result.output, expected_shape(case), f"{name} output", case.config())
        for attribute, expected in case.attributes.items():
            got = result.attributes.get(attribute, "<missing>")
            if got != expected:
                raise CheckFailed(
                    f"{name}.{attribute}: expected {expected!r}, got {got!r} ({fmt_config(case.config())}).",
                    hint=f"Set self.{attribute} in __init__ as the contract says.",
                    details={"attribute": attribute, "expected": expected, "got": str(got), "config": case.config()},
                )
        seen.append({"config": case.config(), "output_shape": list(result.output.shape)})
        if result.substitution_errors:
            seen[-1]["substitution_fallback"] = dict(result.substitution_errors)
    return {"configs": seen}


def check_equivalence(
    ctx: CheckContext,
    name: str,
    cls: type[nn.Module],
    cases: list[Case],
    tol: Tolerance,
    *,
    default_hint: str,
    substitute: Substitute = None,
    question: str | None = None,
) -> Outcome:
    """Each case's share of the check: with the reference's weights loaded, output and input gradient must
    match within ``tol``. Every failing configuration is listed with its error; a wrong output is matched
    against the accepted variants, then the known mistakes (those of ``question`` only, when trusted
    stand-ins replaced the sub-modules)."""
    tol = tol.on(ctx.device)
    figures, failures, errors, memo = [], [], [], {}
    for i, case in enumerate(cases):
        try:
            figures.append(equivalence_case(ctx, name, cls, case, i, tol, default_hint, substitute, question, memo))
        except CheckFailed as failure:
            if failure.details.get("contract"):
                raise  # the parameter set cannot be mapped: no configuration can be graded
            failures.append(failure)
            figures.append({"config": case.config(), "passed": False, "error": failure.message, **failure.details})
        except StudentError as error:
            errors.append(error)
            failures.append(CheckFailed(f"your code raised {error.kind}: {error.message}"))
            figures.append({"config": case.config(), "passed": False, "error": f"{error.kind}: {error.message}"})
    withdraw_vanished(figures, failures, memo, tol, name)
    return configurations_outcome(figures, failures, errors, len(cases))


def configurations_outcome(
    figures: list[dict[str, Any]], failures: list[CheckFailed], errors: list[StudentError], total: int
) -> Outcome:
    """The share of configurations that pass; the message lists every failing one."""
    details: dict[str, Any] = {"cases": figures}
    mistakes = [m for f in failures for m in f.details.get("known_mistakes", [])]
    if failures:
        details["known_mistakes"] = [m for k, m in enumerate(mistakes) if m not in mistakes[:k]]
    notes = [n for f in figures for n in f.get("notes", [])]
    if notes:
        details["notes"] = list(dict.fromkeys(notes))
    if not failures:
        return Outcome(details=details)
    if len(errors) == total:
        raise errors[0]  # nothing ran: the runner reports the student's exception as it is
    passed = total - len(failures)
    message = f"{len(failures)} of {total} configurations fail: " + " | ".join(f.message for f in failures)
    hint = " ".join(dict.fromkeys(f.hint for f in failures if f.hint))
    if passed == 0:
        raise CheckFailed(message, hint=hint, details=details)
    return Outcome(fraction=passed / total, message=message, hint=hint, details=details)


def equivalence_case(
    ctx: CheckContext,
    name: str,
    cls: type[nn.Module],
    case: Case,
    i: int,
    tol: Tolerance,
    default_hint: str,
    substitute: Substitute,
    question: str | None,
    memo: dict[str, Any],
) -> dict[str, Any]:
    """One configuration of ``check_equivalence``; its figures, or CheckFailed. ``memo`` carries the known
    mistakes found at an earlier configuration."""
    reference, prepared = prepared_reference(ctx, name, cls, case.kwargs, f"case:{i}", substitute)
    x = ctx.randn(*case.input_shape, salt=f"input:{i}")
    expected, grad_output, expected_grad = reference_outputs(reference, x, ctx, salt=str(i))
    got = remote.forward(
        ctx,
        name,
        case.kwargs,
        x,
        state=prepared.fit(reference.state_dict()),
        grad_output=grad_output,
        substitute=prepared.substitute,
    )
    require_shape(got.output, tuple(expected.shape), f"{name} output", case.config())
    if prepared.substitute is not None and got.substitution_errors and not prepared.fell_back:
        prepared.probe = replace(prepared.probe, substitution_errors=got.substitution_errors)  # ran without them
        prepared.notes.append(fallback_note(got.substitution_errors))
    diff = difference(got.output, expected, tol)
    details = {"config": case.config(), "passed": True, "tolerance": str(tol), **diff.as_details()}
    details.update(prepared.details())
    accepted = matching_variant(reference, x, got.output, diff, tol)
    if not diff.within and accepted is None:
        raise wrong_output(reference, x, got.output, diff, tol, name, cls, case, prepared, default_hint, question, memo)
    if accepted is not None:
        expected, expected_grad = outputs_of(accepted[1], x, grad_output)
        details["notes"] = [*details.get("notes", []), accepted[0].note]
    grad_diff = difference(got.input_grad, expected_grad, tol)
    if not grad_diff.within:
        raise CheckFailed(
            mismatch_message(f"{name} gradient with respect to the input", grad_diff, tol, case.config()),
            hint=(
                "The forward values are right but the backward pass is not: look for .detach(), .data, "
                "torch.no_grad() or numpy round trips inside forward."
            ),
            details={"config": case.config(), "tolerance": str(tol), **grad_diff.as_details()},
        )
    record_pass(memo, i, reference, x)
    return {**details, "grad_max_abs_error": grad_diff.max_abs_error}


def wrong_output(
    reference: nn.Module,
    x: torch.Tensor,
    got: torch.Tensor,
    diff: Difference,
    tol: Tolerance,
    name: str,
    cls: type[nn.Module],
    case: Case,
    prepared: Prepared,
    default_hint: str,
    question: str | None,
    memo: dict[str, Any],
) -> CheckFailed:
    """The failure of a wrong output, with the known mistake it matches. Where trusted stand-ins replaced the
    sub-modules, only ``question``'s own mistakes may be named: the sub-modules cannot be the cause."""
    own_only = question is not None and prepared.substitute is not None and not prepared.fell_back
    if memo.get("diagnoses"):  # found at an earlier configuration: only those are tried again
        diagnoses = still_matching(reference, x, got, tol, memo["diagnoses"])
    elif "diagnoses" in memo:  # none explained an earlier configuration: single mistakes only, not pairs
        diagnoses = diagnose_module(reference, x, got, tol, pairs=False, questions={question} if own_only else None)
    else:
        diagnoses = diagnose_module(reference, x, got, tol, questions={question} if own_only else None)
        memo["diagnoses"] = diagnoses
    record_failure(memo, diagnoses)
    hint, matched = hint_from(diagnoses, f"a {cls.__name__}", default_hint)
    if prepared.fell_back:
        hint = f"{hint} Note: {prepared.notes[-1]}"
    return CheckFailed(
        mismatch_message(f"{name} output (reference weights loaded)", diff, tol, case.config()),
        hint=hint,
        details={
            "config": case.config(),
            "tolerance": str(tol),
            **diff.as_details(),
            **prepared.details(),
            "known_mistakes": matched,
        },
    )
