"""The property checks of Q1-Q6 on your code, with the grader's verdicts and messages.

Q1 one patch -> one token (row-major); Q2 GELU values; Q4 heads independent; Q5 residual paths;
Q6 the sinusoidal table, the parameter count, and [CLS] / positional embedding / final norm.
"""

from collections.abc import Mapping
from typing import Any

import torch

from vitgrade_student import runtime
from vitgrade_student.compare import (
    CheckFailed,
    difference,
    fmt_config,
    is_close,
    mismatch_message,
    require_shape,
)
from vitgrade_student.diagnose import matched_hint, named_hint
from vitgrade_student.fixtures import CheckData, Fixtures, Request
from vitgrade_student.flows import answer, config_of, configurations_outcome, permutation_and_mixing

Names = Mapping[str, Any]


def q1_property(names: Names, data: CheckData, fixtures: Fixtures) -> dict[str, Any]:
    """Changing one patch's pixels changes only that patch's token, token n being patch (n // w, n % w)."""
    (request,) = data.runs
    kwargs, grid, tol = request.args["kwargs"], 4, data.tolerance
    patches = [tuple(p) for p in request.extra["patches"]]
    got = answer(names, request)["output"]
    if tuple(got.shape) != (3, grid * grid, 32):
        raise CheckFailed(
            f"PatchEmbedding output: expected shape (3, 16, 32), got {tuple(got.shape)} ({fmt_config(kwargs)})."
        )
    for k, (r, c) in enumerate(patches, start=1):
        token = r * grid + c
        change = (got[k] - got[0]).abs().amax(dim=-1)  # (N,) largest change per token
        others = torch.cat([change[:token], change[token + 1 :]])
        moved = sorted(int(i) for i in torch.nonzero(change > tol.atol + 1e-4).flatten())
        if float(change[token]) <= 1e-3 or float(others.max()) > tol.atol + tol.rtol * float(got[0].abs().max()):
            raise CheckFailed(
                f"Changing the pixels of patch (row {r}, column {c}) should change only token {token} "
                f"(row-major order), but the tokens that changed are {moved} ({fmt_config(kwargs)}).",
                hint=(
                    "Each token must come from one patch, in row-major order: after the conv, "
                    "x.flatten(2).transpose(1, 2); a reshape without the transpose mixes patches and channels."
                ),
                details={"patch": [r, c], "expected_token": token, "changed_tokens": moved},
            )
    diff = difference(got, request.outputs["output"], tol)
    return {"patches": patches, "max_abs_error_vs_reference": diff.max_abs_error}


def q2_property(names: Names, data: CheckData, fixtures: Fixtures) -> dict[str, Any]:
    """The activation is GELU: known pre-activations from -3 to 3 give GELU's values, negatives included."""
    (request,) = data.runs
    kwargs, tol = request.args["kwargs"], data.tolerance
    d = kwargs["in_features"]
    config = {**kwargs, "pre_activations": "linspace(-3, 3, 32)[::2]"}
    got = answer(names, request)["output"]
    require_shape(got, (1, 3, d), "MLP output", config)
    expected = request.outputs["output"]
    diff = difference(got, expected, tol)
    details = {"max_abs_error": diff.max_abs_error, "tolerance": str(tol)}
    if not diff.within:
        for accepted in request.accepted:  # docs/accepted-variants.md, e.g. GELU with the tanh approximation
            if difference(got, accepted["output"], tol).within:
                return {**details, "notes": [accepted["note"]]}
        hint, matched = named_hint(got, expected, request.variants, fixtures.mistakes, tol, "an MLP", data.default_hint)
        raise CheckFailed(
            mismatch_message("MLP activation values", diff, tol, config, against="GELU of the pre-activations"),
            hint=hint,
            details={"expected": expected[0, 0].tolist(), "got": got[0, 0].tolist(), "known_mistakes": matched},
        )
    return details


def q3_property(names: Names, data: CheckData, fixtures: Fixtures) -> dict[str, Any]:
    """Permuting the tokens permutes the outputs, and every output token depends on the others."""
    return permutation_and_mixing(names, data.runs[0], data)


def q4_property(names: Names, data: CheckData, fixtures: Fixtures) -> dict[str, Any]:
    """Permutation-equivariant, and heads independent: head i's weights change only its columns."""
    figures = permutation_and_mixing(names, data.runs[0], data)
    base_request, *edits = data.runs[1:]
    kwargs, tol = base_request.args["kwargs"], data.tolerance
    d, h = kwargs["embed_dim"], kwargs["num_heads"]
    dh, n = d // h, base_request.inputs["input"].shape[1]
    base = answer(names, base_request)["output"]
    require_shape(base, (2, n, d), "MultiHeadSelfAttention output", kwargs)
    for request, (label, head, edit) in zip(
        edits, (("q rows changed", 2, "q"), ("v rows zeroed", 1, "v")), strict=True
    ):
        rows = slice(head * dh, (head + 1) * dh)
        got = answer(names, request)["output"]
        require_shape(got, (2, n, d), "MultiHeadSelfAttention output", kwargs)
        change = (got - base).abs().amax(dim=(0, 1)).view(h, dh).amax(dim=1)  # (h,) largest change per head slice
        others = [i for i in range(h) if i != head and float(change[i]) > tol.atol + tol.rtol * float(base.abs().max())]
        changed_own = float(change[head]) > 1e-3
        zero_ok = edit != "v" or float(got[..., rows].abs().max()) <= tol.atol
        if others or not changed_own or not zero_ok:
            raise CheckFailed(
                f"With proj = identity, {label} for head {head} should change only output columns "
                f"{head * dh}..{(head + 1) * dh - 1}"
                + (" (to zero)" if edit == "v" else "")
                + f", but the largest change per head slice is {[round(float(c), 5) for c in change]} "
                f"({fmt_config(kwargs)}).",
                hint=(
                    "Head i owns columns i*d_h..(i+1)*d_h of Q, K and V: split with x.view(B, N, h, d_h)"
                    ".transpose(1, 2) and merge with out.transpose(1, 2).reshape(B, N, D), so heads never mix."
                ),
                details={"head": head, "edit": label, "change_per_head": change.tolist()},
            )
        figures[f"head {head}, {label}: largest change in other heads"] = max(
            (float(change[i]) for i in range(h) if i != head), default=0.0
        )
    return figures


def depends_on_input(names: Names, request: Request) -> float:
    """The largest change of your module's output (its own initialisation) between two different inputs."""
    name, kwargs, atol = request.args["name"], request.args["kwargs"], request.extra["depends_atol"]
    out = answer(names, request)["output"]
    change = float((out[0] - out[1]).abs().max()) if out.shape[:1] == (2,) else 0.0
    if change <= atol:
        raise CheckFailed(
            f"{name}({fmt_config(kwargs)}) gives the same output for two different inputs (largest change "
            f"{change:.3g}, needs > {atol:g}): a module that ignores its input earns no property or "
            "contract points.",
            hint="Compute the output from the input x with the layers the contract lists.",
            details={"output_change": change, "config": config_of(request)},
        )
    return change


def q5_property(names: Names, data: CheckData, fixtures: Fixtures) -> dict[str, Any]:
    """Residuals: with attn.proj and mlp.fc2 zeroed the block is the identity; with attn.proj zeroed,
    x + MLP(LN_2(x))."""
    figures: dict[str, Any] = {}
    for request in (r for r in data.runs if "depends_atol" in r.extra):
        figures["output change between two inputs"] = depends_on_input(names, request)
    for request in (r for r in data.runs if r.args.get("load_state")):
        kwargs, tol = request.args["kwargs"], data.tolerance
        label, zeroed, expected_form = request.extra["label"], request.extra["zeroed"], request.extra["form"]
        x, expected = request.inputs["input"], request.outputs["output"]
        got = answer(names, request)["output"]
        config = {**kwargs, "zeroed": list(zeroed)}
        require_shape(got, tuple(x.shape), "TransformerBlock output", config)
        diff = difference(got, expected, tol)
        if not diff.within:
            raise CheckFailed(
                mismatch_message(
                    f"TransformerBlock with {label}", diff, tol, config, against=f"the expected {expected_form}"
                ),
                hint=(
                    "Each sub-layer sits on a residual path and LayerNorm only feeds the sub-layer: "
                    "x = x + attn(norm1(x)); y = x + mlp(norm2(x)). A post-norm block, a missing residual, or a "
                    "residual that carries norm1(x) instead of x breaks this."
                ),
                details={"zeroed": list(zeroed), **diff.as_details()},
            )
        figures[f"{label}: max abs error"] = diff.max_abs_error
    return figures


def q6_sinusoidal(names: Names, data: CheckData, fixtures: Fixtures) -> Any:
    """sinusoidal_positional_encoding(N, d) equals PE(k, 2i) = sin(k / 10000^(2i/d)), PE(k, 2i+1) = cos(...);
    each (N, d) earns its share, and a (1, N, d) table is accepted, as the grader grades it."""
    tol, name = data.tolerance, "sinusoidal_positional_encoding"
    tables: dict[int, torch.Tensor] = {}
    figures: list[dict[str, Any]] = []
    failures: list[CheckFailed] = []
    errors: list[runtime.StudentCodeError] = []
    for k, request in enumerate(data.requests):
        n, d = request.args["args"]
        config = {"num_tokens": n, "embed_dim": d}
        try:
            got = answer(names, request)["output"]
            batched = tuple(got.shape) == (1, n, d)  # the table with the batch axis pos_embed has: accepted
            got = got[0] if batched else got
            require_shape(got, (n, d), f"{name}({n}, {d})", config)
        except runtime.StudentCodeError as error:
            errors.append(error)
            failures.append(CheckFailed(f"{name}({n}, {d}) raised {error.kind}: {error.message}"))
            figures.append({"config": config, "passed": False, "error": f"{error.kind}: {error.message}"})
            continue
        except CheckFailed as failure:
            failures.append(failure)
            figures.append({"config": config, "passed": False, "error": failure.message})
            continue
        tables[k] = got
        diff = difference(got, request.outputs["output"], tol)
        figures.append({"config": config, "passed": diff.within, "tolerance": str(tol), **diff.as_details()})
        if not diff.within:
            failures.append(CheckFailed(mismatch_message(f"{name}({n}, {d})", diff, tol, config)))
    hint, matched = data.default_hint, []
    if failures and tables:
        matched = _function_mistakes(data, tables, tol)
        if matched:
            hint = matched_hint("an encoding", [fixtures.mistakes[i] for i in matched])
    known = [[m] for m in matched]
    failures = [CheckFailed(f.message, hint=hint, details={"known_mistakes": known}) for f in failures]
    return configurations_outcome(figures, failures, errors, len(data.requests))


def _function_mistakes(data: CheckData, tables: dict[int, torch.Tensor], tol: Any) -> list[str]:
    """The encoding mistakes whose tables match yours at every (N, d) that ran (and differ somewhere)."""
    found = []
    for mistake_id in data.requests[0].variants:
        differs, matches = False, True
        for k, table in tables.items():
            request = data.requests[k]
            variant = request.variants.get(mistake_id)
            if variant is None:  # undefined at this (N, d): not a candidate
                matches = False
                break
            differs = differs or not is_close(variant, request.outputs["output"], tol)
            matches = matches and is_close(table, variant, tol)
        if matches and differs:
            found.append(mistake_id)
    return found
