"""The ``qN.contract`` checks: the module's parameter set is the contract's, on a module that computes.

A module whose maths is right with another parameter set (no bias, an extra buffer) is graded on its
maths by the equivalence checks (``grader.checks.contract``); this small check is where the difference
costs, once, with every differing key explained in the lab's terms. It credits nothing on a module whose
output ignores its input (a stub that only declares the right layers). For a composite graded with
stand-ins (Q5, Q6), it also checks that the composite passes its arguments on to its own sub-modules, which
the stand-ins would hide.
"""

from typing import Any

from torch import nn

from grader.checks import remote
from grader.checks.compare import fmt_config, fmt_shape
from grader.checks.context import CheckContext
from grader.checks.contract import contract_details, plan_state
from grader.checks.flows import Case, Substitute
from grader.checks.key_maps import fits
from grader.checks.registry import CheckFailed, Outcome
from grader.sandbox.errors import StudentError

DEPENDS_ATOL = 1e-6  # two different random inputs must move some output by more than this


def depends_on_input(ctx: CheckContext, name: str, case: Case, substitute: Substitute = None) -> float:
    """The largest change of the output between two different inputs (the module's own init), or CheckFailed."""
    x = ctx.randn(2, *case.input_shape[1:], salt="depends-input")
    sub = substitute(case.kwargs) if substitute else None
    out = remote.forward(ctx, name, case.kwargs, x, salt="depends", substitute=sub).output
    change = float((out[0] - out[1]).abs().max()) if out.shape[:1] == (2,) else 0.0
    if change <= DEPENDS_ATOL:
        raise CheckFailed(
            f"{name}({fmt_config(case.kwargs)}) gives the same output for two different inputs (largest change "
            f"{change:.3g}, needs > {DEPENDS_ATOL:g}): a module that ignores its input earns no property or "
            "contract points.",
            hint="Compute the output from the input x with the layers the contract lists.",
            details={"output_change": change, "config": case.config()},
        )
    return change


def plumbing(ctx: CheckContext, name: str, reference: nn.Module, kwargs: dict[str, Any]) -> None:
    """A composite passes its arguments on: built with the student's own sub-modules, every parameter the
    contract names has the reference's shape (other names are the sub-module's own contract matter)."""
    try:
        own = remote.probe(ctx, name, kwargs).shapes
    except StudentError:
        return  # its own sub-modules cannot be built: their own questions say so
    expected = {key: tuple(value.shape) for key, value in reference.state_dict().items()}
    wrong = {
        key: (own[key], shape) for key, shape in expected.items() if key in own and not fits(shape, tuple(own[key]))
    }  # a flattened or reshaped layer (a contract matter) still follows the composite's arguments
    if wrong:
        key, (got, shape) = sorted(wrong.items())[0]
        raise CheckFailed(
            f"{name}({fmt_config(kwargs)}) builds {key} with shape {fmt_shape(got)}, expected {fmt_shape(shape)} "
            f"({len(wrong)} parameter(s) differ): it does not pass its own arguments on to its sub-modules.",
            hint="Build each sub-module from the composite's own arguments: MLP(embed_dim, int(embed_dim * "
            "mlp_ratio)), TransformerBlock(embed_dim, num_heads, mlp_ratio), PatchEmbedding(img_size, patch_size, "
            "in_chans, embed_dim).",
            details={"config": kwargs, "shape_mismatch": {k: [list(g), list(e)] for k, (g, e) in wrong.items()}},
        )


def check_contract(
    ctx: CheckContext, name: str, cls: type[nn.Module], cases: list[Case], substitute: Substitute = None
) -> Outcome:
    """Every configuration's state_dict keys and shapes are the contract's, and the output depends on the input."""
    configs: list[dict[str, Any]] = []
    differing = []
    for case in cases:
        found = remote.probe(ctx, name, case.kwargs, substitute(case.kwargs) if substitute else None)
        plan = plan_state(cls(**case.kwargs), found.shapes, name)
        configs.append(contract_details(plan, case.kwargs))
        if plan.differences:
            differing.append(f"({fmt_config(case.kwargs)}): " + " ".join(plan.differences))
    details: dict[str, Any] = {"configs": configs}
    if differing:
        more = f" (and at {len(differing) - 1} other configuration(s); see details)" if len(differing) > 1 else ""
        raise CheckFailed(
            f"{name}: the parameters differ from the contract's {differing[0]}{more}",
            hint=(
                "Use exactly the attribute names and layer types of the template, with their default bias, so that "
                "the reference weights load with load_state_dict(strict=True)."
            ),
            details=details,
        )
    if substitute is not None:  # the stand-ins are built right whatever the composite passes them
        for case in cases:
            plumbing(ctx, name, cls(**case.kwargs), case.kwargs)
    details["output_change_between_inputs"] = depends_on_input(ctx, name, cases[0], substitute)
    return Outcome(details=details)
