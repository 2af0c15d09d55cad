"""The two flows every Q1-Q6 module check shares: shapes over configurations, equivalence with the reference.

The parent builds the reference with seeded, deliberately non-default weights (LayerNorm affine
parameters, [CLS] and positional embeddings drawn at random, so that a swapped norm or a misplaced
token cannot hide behind an identity initialisation), sends those weights and seeded inputs to the
child, and compares. A wrong output is matched against the known mistakes of ``grader.diagnostics``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from grader.checks import remote
from grader.checks.compare import (
    Tolerance,
    difference,
    fmt_config,
    fmt_shape,
    mismatch_message,
    require_shape,
    state_mismatch,
)
from grader.checks.context import CheckContext
from grader.checks.registry import CheckFailed
from grader.diagnostics import diagnose_module, hint_from


@dataclass(frozen=True)
class Case:
    """One configuration: constructor kwargs and the input's shape."""

    kwargs: dict[str, Any]
    input_shape: tuple[int, ...]
    attributes: dict[str, Any] = field(default_factory=dict)  # expected attribute values, e.g. num_patches

    def config(self) -> dict[str, Any]:
        return {**self.kwargs, "input_shape": fmt_shape(self.input_shape)}


def seeded_reference(ctx: CheckContext, cls: type[nn.Module], kwargs: dict[str, Any], salt: str) -> nn.Module:
    """The reference ``cls(**kwargs)`` with weights drawn from the check's generator, in eval mode."""
    generator = ctx.generator(f"weights:{salt}")
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = cls(**kwargs)
    with torch.no_grad():
        for name, param in module.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            owner = module.get_submodule(name.rsplit(".", 1)[0]) if "." in name else module
            noise = torch.randn(param.shape, generator=generator)
            if isinstance(owner, nn.LayerNorm):
                param.copy_((1.0 if leaf == "weight" else 0.0) + 0.3 * noise)  # away from the identity
            elif leaf in ("cls_token", "pos_embed"):
                param.copy_(noise)  # as large as the patch tokens, so where they go matters
            elif leaf == "weight" and name.split(".")[-2:-1] in (["q"], ["k"]):
                param.mul_(2.0)  # sharper attention: a softmax over the wrong axis shows
    return module.eval()


def reference_outputs(
    reference: nn.Module, x: torch.Tensor, ctx: CheckContext, salt: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(output, grad_output, input gradient) of the reference, on CPU in float32."""
    x = x.clone().requires_grad_(True)
    output = reference(x)
    grad_output = ctx.randn(*output.shape, salt=f"grad:{salt}")
    output.backward(grad_output)
    return output.detach(), grad_output, x.grad.detach()


def check_shapes(
    ctx: CheckContext,
    name: str,
    cases: list[Case],
    expected_shape: Callable[[Case], tuple[int, ...]],
) -> dict[str, Any]:
    """Build ``name`` with the child's own initialisation for each case and check the output shape
    (and expected attribute values)."""
    seen = []
    for i, case in enumerate(cases):
        x = ctx.randn(*case.input_shape, salt=f"shape-input:{i}")
        result = remote.forward(ctx, name, case.kwargs, x, attributes=tuple(case.attributes), salt=f"shape:{i}")
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
    return {"configs": seen}


def check_equivalence(
    ctx: CheckContext,
    name: str,
    cls: type[nn.Module],
    cases: list[Case],
    tol: Tolerance,
    *,
    default_hint: str,
) -> dict[str, Any]:
    """Load the reference's weights strictly into ``name`` for each case; output and input gradient must
    match within ``tol``. A wrong output is matched against the known mistakes, and the hint names it."""
    tol = tol.on(ctx.device)
    figures = []
    for i, case in enumerate(cases):
        reference = seeded_reference(ctx, cls, case.kwargs, salt=f"case:{i}")
        x = ctx.randn(*case.input_shape, salt=f"input:{i}")
        expected, grad_output, expected_grad = reference_outputs(reference, x, ctx, salt=str(i))
        own = remote.forward(ctx, name, case.kwargs, x, salt=f"keys:{i}")  # the child's own keys, before loading
        failure = state_mismatch(remote.state_shapes(reference), own.state_shapes, name, case.kwargs)
        if failure is not None:
            raise failure
        got = remote.forward(ctx, name, case.kwargs, x, state=reference.state_dict(), grad_output=grad_output)
        require_shape(got.output, tuple(expected.shape), f"{name} output", case.config())
        diff = difference(got.output, expected, tol)
        details = {"config": case.config(), "tolerance": str(tol), **diff.as_details()}
        if not diff.within:
            diagnoses = diagnose_module(reference, x, got.output, tol)
            hint, matched = hint_from(diagnoses, f"a {cls.__name__}", default_hint)
            raise CheckFailed(
                mismatch_message(f"{name} output (reference weights loaded)", diff, tol, case.config()),
                hint=hint,
                details={**details, "known_mistakes": matched},
            )
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
        figures.append({**details, "grad_max_abs_error": grad_diff.max_abs_error})
    return {"cases": figures}


def permutation_and_mixing(
    ctx: CheckContext, name: str, cls: type, kwargs: dict, n: int, tol: Tolerance
) -> dict[str, float]:
    """One request on [x, x permuted, x with token 3 changed]: SA(P x) = P SA(x) and token 3 reaches the others."""
    tol = tol.on(ctx.device)
    d = kwargs["embed_dim"]
    reference = seeded_reference(ctx, cls, kwargs, salt="property")
    with torch.no_grad():  # soft attention, so that every token visibly reaches every other whatever the scaling
        reference.q.weight.mul_(0.125)
        reference.k.weight.mul_(0.125)
    x = ctx.randn(1, n, d, salt="tokens")
    perm = torch.randperm(n, generator=ctx.generator("permutation"))
    changed = x.clone()
    changed[:, 3] += 1 + ctx.randn(d, salt="token3")
    batch = torch.cat([x, x[:, perm], changed])  # (3, N, D)
    config = {**kwargs, "tokens": n, "permutation": perm.tolist()}
    got = remote.forward(ctx, name, kwargs, batch, state=reference.state_dict()).output
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
