"""The property shared by Q3 and Q4: self-attention is permutation-equivariant and mixes every token."""

import torch

from grader.checks import remote
from grader.checks.compare import Tolerance, difference, fmt_config, mismatch_message, require_shape
from grader.checks.context import CheckContext
from grader.checks.flows import prepared_reference
from grader.checks.registry import CheckFailed


def permutation_and_mixing(
    ctx: CheckContext, name: str, cls: type, kwargs: dict, n: int, tol: Tolerance
) -> dict[str, float]:
    """One request on [x, x permuted, x with token 3 changed]: SA(P x) = P SA(x) and token 3 reaches the others.

    The equivariance earns nothing alone: the same request must show that the output depends on the tokens.
    A module whose parameters cannot be mapped runs with its own initial weights (``own_weights_if_unmappable``)."""
    tol = tol.on(ctx.device)
    d = kwargs["embed_dim"]
    state, figures, unmapped = own_weights_if_unmappable(ctx, name, cls, kwargs)
    try:
        return {**figures, **_equivariant_and_mixing(ctx, name, kwargs, n, d, state, tol)}
    except CheckFailed:
        if unmapped is not None:  # its own weights may be what fails (a saturated softmax): say what is known
            raise unmapped from None
        raise


def _equivariant_and_mixing(
    ctx: CheckContext, name: str, kwargs: dict, n: int, d: int, state: dict | None, tol: Tolerance
) -> dict[str, float]:
    x = ctx.randn(1, n, d, salt="tokens")
    perm = torch.randperm(n, generator=ctx.generator("permutation"))
    changed = x.clone()
    changed[:, 3] += 1 + ctx.randn(d, salt="token3")
    batch = torch.cat([x, x[:, perm], changed])  # (3, N, D)
    config = {**kwargs, "tokens": n, "permutation": perm.tolist()}
    got = remote.forward(ctx, name, kwargs, batch, state=state).output
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


def own_weights_if_unmappable(
    ctx: CheckContext, name: str, cls: type, kwargs: dict
) -> tuple[dict | None, dict, CheckFailed | None]:
    """The reference's weights fitted to the student's module (q and k scaled down: soft attention, so that every
    token visibly reaches every other whatever the scaling), or None where its parameters cannot be mapped onto
    the contract's (per-head layers on slices of x, say): equivariance and mixing hold for any weights, so the
    module then runs with its own initial weights and earns the points if they show both (the details say so);
    otherwise the mapping's failure (third item) is what the check reports."""
    try:
        reference, prepared = prepared_reference(ctx, name, cls, kwargs, salt="property")
    except CheckFailed as error:
        if "contract" not in error.details:
            raise
        return (
            None,
            {"own_initial_weights": "the parameters cannot be mapped onto the contract's: " + error.message},
            error,
        )
    with torch.no_grad():
        reference.q.weight.mul_(0.125)
        reference.k.weight.mul_(0.125)
    return prepared.fit(reference.state_dict()), {}, None
