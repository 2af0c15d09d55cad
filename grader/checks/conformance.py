"""The ``qN.contract`` checks: the module's parameter set is the contract's, on a module that computes.

A module whose maths is right with another parameter set (no bias, an extra buffer) is graded on its
maths by the equivalence checks (``grader.checks.contract``); this small check is where the difference
costs, once, with every differing key explained in the lab's terms. It credits nothing on a module whose
output ignores its input (a stub that only declares the right layers).
"""

from typing import Any

from torch import nn

from grader.checks import remote
from grader.checks.compare import fmt_config
from grader.checks.context import CheckContext
from grader.checks.contract import contract_details, plan_state
from grader.checks.flows import Case, Substitute
from grader.checks.registry import CheckFailed, Outcome

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
    details["output_change_between_inputs"] = depends_on_input(ctx, name, cases[0], substitute)
    return Outcome(details=details)
