"""The flows most Q1-Q6 checks share, run on your code: shapes, equivalence, permutation and mixing.

Each replays the grader's requests from the fixtures (same configurations, seeds and weights as the
grader's public checks, at the kit's own seed) and applies the grader's verdict to your answers.
"""

from collections.abc import Mapping
from typing import Any

import torch

from vitgrade_student import runtime
from vitgrade_student.compare import (
    CheckFailed,
    difference,
    fmt_config,
    fmt_shape,
    mismatch_message,
    require_shape,
    require_tensor,
    state_mismatch,
)
from vitgrade_student.diagnose import named_hint
from vitgrade_student.fixtures import CheckData, Fixtures, Request
from vitgrade_student.vanished import exact_mistakes, withdraw_vanished


def answer(names: Mapping[str, Any], request: Request, *, backward: bool = False) -> dict[str, Any]:
    """Your code's answer to ``request``, its output checked (and the input gradient when ``backward``)."""
    result = runtime.run(names, request.op, request.args, request.inputs)
    what = f"{request.args['name']}.forward output" if request.op == "forward" else f"{request.args['name']}(...)"
    result["output"] = require_tensor(result.get("output"), what + (" return value" if request.op == "call" else ""))
    if backward:
        result["input_grad"] = require_tensor(
            result.get("input_grad"), f"{request.args['name']} gradient with respect to the input"
        )
    return result


def config_of(request: Request) -> dict[str, Any]:
    """The configuration the grader prints: the constructor's kwargs and the input's shape."""
    return {**request.args["kwargs"], "input_shape": fmt_shape(request.inputs["input"].shape)}


def check_shapes(names: Mapping[str, Any], data: CheckData, fixtures: Fixtures) -> dict[str, Any]:
    """Your module, with its own initialisation, returns the reference's output shape and attributes."""
    seen = []
    for request in data.requests:
        name, config = request.args["name"], config_of(request)
        result = answer(names, request)
        require_shape(result["output"], request.output_shape, f"{name} output", config)
        for attribute in request.args.get("attributes", []):
            expected = request.values["attributes"][attribute]
            got = result["attributes"].get(attribute, "<missing>")
            if got != expected:
                raise CheckFailed(
                    f"{name}.{attribute}: expected {expected!r}, got {got!r} ({fmt_config(config)}).",
                    hint=f"Set self.{attribute} in __init__ as the contract says.",
                    details={"attribute": attribute, "expected": expected, "got": str(got), "config": config},
                )
        seen.append({"config": config, "output_shape": list(result["output"].shape)})
    return {"configs": seen}


def check_equivalence(names: Mapping[str, Any], data: CheckData, fixtures: Fixtures) -> Any:
    """Each configuration's share of the check: with the reference's weights loaded strictly, output and input
    gradient equal the reference's. Partial credit as the grader gives it: (fraction, message, hint, details)."""
    figures: list[dict[str, Any]] = []
    failures: list[CheckFailed] = []
    errors: list[runtime.StudentCodeError] = []
    memo: dict[str, Any] = {}
    requests = data.requests
    for i, (probe, request) in enumerate(zip(requests[0::2], requests[1::2], strict=True)):
        config = config_of(request)
        try:
            figures.append(_equivalence_case(names, probe, request, data, fixtures, memo))
            memo.setdefault("passed", {})[i] = request
        except CheckFailed as failure:
            if failure.details.get("contract"):
                raise  # the parameter set cannot be loaded: no configuration can be checked
            failures.append(failure)
            figures.append({"config": config, "passed": False, "error": failure.message, **failure.details})
        except runtime.StudentCodeError as error:
            if error.kind == "state_dict":
                raise
            errors.append(error)
            failures.append(CheckFailed(f"your code raised {error.kind}: {error.message}"))
            figures.append({"config": config, "passed": False, "error": f"{error.kind}: {error.message}"})
    name = requests[1].args["name"] if len(requests) > 1 else ""
    withdraw_vanished(figures, failures, memo, fixtures.mistakes, data.tolerance, name)
    return configurations_outcome(figures, failures, errors, len(requests) // 2)


def configurations_outcome(
    figures: list[dict[str, Any]], failures: list[CheckFailed], errors: list[Any], total: int
) -> Any:
    """The share of configurations that pass; the message lists every failing one (as the grader's)."""
    details: dict[str, Any] = {"cases": figures}
    mistakes = [m for f in failures for m in f.details.get("known_mistakes", [])]
    if failures:
        details["known_mistakes"] = [m for k, m in enumerate(mistakes) if m not in mistakes[:k]]
    if not failures:
        return details
    if len(errors) == total:
        raise errors[0]  # nothing ran: your exception is reported as it is
    passed = total - len(failures)
    message = f"{len(failures)} of {total} configurations fail: " + " | ".join(f.message for f in failures)
    hint = " ".join(dict.fromkeys(f.hint for f in failures if f.hint))
    if passed == 0:
        raise CheckFailed(message, hint=hint, details=details)
    return passed / total, message, hint, details


def _equivalence_case(
    names: Mapping[str, Any],
    probe: Request,
    request: Request,
    data: CheckData,
    fixtures: Fixtures,
    memo: dict[str, Any],
) -> dict[str, Any]:
    tol = data.tolerance
    name, kwargs, config = request.args["name"], request.args["kwargs"], config_of(request)
    own = runtime.run(names, probe.op, probe.args, probe.inputs)
    expected_shapes = {k: tuple(v) for k, v in probe.values["state_shapes"].items()}
    failure = state_mismatch(expected_shapes, own["state_shapes"], name, kwargs)
    if failure is not None:
        raise CheckFailed(failure.message, hint=failure.hint, details={**failure.details, "contract": True})
    got = answer(names, request, backward=True)
    expected, expected_grad = request.outputs["output"], request.outputs["input_grad"]
    require_shape(got["output"], tuple(expected.shape), f"{name} output", config)
    diff = difference(got["output"], expected, tol)
    details = {"config": config, "passed": True, "tolerance": str(tol), **diff.as_details()}
    accepted = matching_variant(request, got["output"], diff, tol)
    if accepted is not None:
        expected_grad = accepted["input_grad"]
        details["notes"] = [accepted["note"]]
    if not diff.within and accepted is None:
        memo.setdefault("explained", []).append(exact_mistakes(got["output"], request, fixtures.mistakes, tol))
        hint, matched = named_hint(
            got["output"], expected, request.variants, fixtures.mistakes, tol, f"a {name}", data.default_hint
        )
        raise CheckFailed(
            mismatch_message(f"{name} output (reference weights loaded)", diff, tol, config),
            hint=hint,
            details={"config": config, "tolerance": str(tol), **diff.as_details(), "known_mistakes": matched},
        )
    grad_diff = difference(got["input_grad"], expected_grad, tol)
    if not grad_diff.within:
        raise CheckFailed(
            mismatch_message(f"{name} gradient with respect to the input", grad_diff, tol, config),
            hint=(
                "The forward values are right but the backward pass is not: look for .detach(), .data, "
                "torch.no_grad() or numpy round trips inside forward."
            ),
            details={"config": config, "tolerance": str(tol), **grad_diff.as_details()},
        )
    return {**details, "grad_max_abs_error": grad_diff.max_abs_error}


def matching_variant(request: Request, got: torch.Tensor, diff: Any, tol: Any) -> dict[str, Any] | None:
    """The accepted variant (docs: tanh GELU, LayerNorm eps 1e-6) your output matches, as the grader decides:
    within tolerance of it where the reference's output was missed, or ten times closer to it than to the
    reference's where that one passed."""
    for accepted in request.accepted:
        out = accepted["output"]
        if tuple(out.shape) != tuple(got.shape):
            continue
        variant = difference(got, out, tol)
        if (not diff.within and variant.within) or (diff.within and variant.max_abs_error * 10 < diff.max_abs_error):
            return accepted
    return None


def permutation_and_mixing(names: Mapping[str, Any], request: Request, data: CheckData) -> dict[str, float]:
    """On [x, x permuted, x with token 3 changed]: SA(P x) = P SA(x), and token 3 reaches every other token."""
    tol = data.tolerance
    name, kwargs = request.args["name"], request.args["kwargs"]
    n, d = request.inputs["input"].shape[1], kwargs["embed_dim"]
    perm = torch.tensor(request.extra["permutation"])
    config = {**kwargs, "tokens": n, "permutation": perm.tolist()}
    got = answer(names, request)["output"]
    require_shape(got, (3, n, d), f"{name} output", config)
    diff = difference(got[1], got[0][perm], tol)
    if not diff.within:
        raise CheckFailed(
            mismatch_message(f"{name}(x[:, perm])", diff, tol, config, against=f"{name}(x)[:, perm]"),
            hint=(
                "Self-attention is permutation-equivariant: no token may be treated by its position. Look for "
                "indexing by position, a mask, a cumulative op, or a softmax/sum over the wrong axis."
            ),
            details={"permutation": perm.tolist(), **diff.as_details()},
        )
    reach = (got[2] - got[0]).abs().amax(dim=-1)  # (N,) change of each output token
    others = torch.cat([reach[:3], reach[4:]])
    if float(others.min()) <= 1e-4:
        still = [i for i in range(n) if i != 3 and float(reach[i]) <= 1e-4]
        raise CheckFailed(
            f"Changing token 3 left output tokens {still} unchanged ({fmt_config(kwargs)}, N={n}): "
            "attention should mix every token with every other.",
            hint="Each output is a weighted sum over all tokens' values: A @ V with A of shape (B, N, N).",
            details={"unchanged_tokens": still, "change_per_token": reach.tolist()},
        )
    return {"equivariance_max_abs_error": diff.max_abs_error, "min_change_of_other_tokens": float(others.min())}
