"""Q2 checks: MLP(x) = fc2(GELU(fc1(x))), same input and output dimension."""

import torch

from grader.checks import remote
from grader.checks.compare import Tolerance, difference, mismatch_message, require_shape
from grader.checks.conformance import check_contract
from grader.checks.context import CheckContext
from grader.checks.flows import Case, check_equivalence, check_shapes, prepare
from grader.checks.registry import CheckFailed, Outcome, check
from grader.checks.variants import matching_variant
from grader.diagnostics import diagnose_module, hint_from
from reference.mlp import MLP

NAME = "MLP"
TOL = Tolerance(atol=1e-5, rtol=1e-4)  # float32, two linear layers

SHAPE_CASES = [
    Case({"in_features": 32, "hidden_features": 128}, (2, 5, 32)),
    Case({"in_features": 48, "hidden_features": 64}, (1, 1, 48)),
    Case({"in_features": 7, "hidden_features": 13}, (3, 4, 7)),
]
EQUIVALENCE_CASES = [
    Case({"in_features": 32, "hidden_features": 128}, (2, 5, 32)),
    Case({"in_features": 7, "hidden_features": 13}, (3, 4, 7)),
]
DEFAULT_HINT = "fc1 = nn.Linear(D, H), act = nn.GELU(), fc2 = nn.Linear(H, D); forward is fc2(act(fc1(x)))."


@check("q2.shape", question="Q2", category="shape")
def shape(ctx: CheckContext) -> Outcome:
    """MLP maps (B, N, D) to (B, N, D) for several widths."""
    return Outcome(details=check_shapes(ctx, NAME, SHAPE_CASES, lambda case: case.input_shape))


@check("q2.equivalence", question="Q2", category="equivalence")
def equivalence(ctx: CheckContext) -> Outcome:
    """With the reference weights, the output and the input gradient equal the reference's."""
    return check_equivalence(ctx, NAME, MLP, EQUIVALENCE_CASES, TOL, default_hint=DEFAULT_HINT)


@check("q2.contract", question="Q2", category="property")
def contract(ctx: CheckContext) -> Outcome:
    """The parameters are the contract's: fc1 = nn.Linear(D, H), fc2 = nn.Linear(H, D), with biases."""
    return check_contract(ctx, NAME, MLP, EQUIVALENCE_CASES)


@check("q2.property", question="Q2", category="property")
def property_(ctx: CheckContext) -> Outcome:
    """The activation is GELU: known pre-activations from -3 to 3 give GELU's values, negatives included."""
    d, h = 16, 32
    kwargs = {"in_features": d, "hidden_features": h}
    reference = MLP(d, h).eval()
    with torch.no_grad():
        reference.fc1.weight.zero_()
        reference.fc1.weight[:, 0] = torch.linspace(-3, 3, h)  # feature 0 is 1: the pre-activations, bias or not
        reference.fc1.bias.zero_()
        reference.fc2.weight.zero_()
        reference.fc2.weight[torch.arange(d), 2 * torch.arange(d)] = 1.0  # output j reads hidden unit 2j
        reference.fc2.bias.zero_()
    prepared = prepare(ctx, NAME, reference, kwargs)
    x = ctx.randn(1, 3, d, salt="input")
    x[..., 0] = 1.0
    got = remote.forward(ctx, NAME, kwargs, x, state=prepared.fit(reference.state_dict())).output
    config = {**kwargs, "pre_activations": "linspace(-3, 3, 32)[::2]"}
    require_shape(got, (1, 3, d), f"{NAME} output", config)
    expected = reference(x).detach()  # GELU(linspace(-3, 3, 32)[::2]) on every token
    tol = TOL.on(ctx.device)
    diff = difference(got, expected, tol)
    details = {"max_abs_error": diff.max_abs_error, "tolerance": str(tol), **prepared.details()}
    if diff.within:
        return Outcome(details=details)
    accepted = matching_variant(reference, x, got, diff, tol)
    if accepted is not None:
        return Outcome(details={**details, "notes": [*details.get("notes", []), accepted[0].note]})
    hint, matched = hint_from(diagnose_module(reference, x, got, tol, pairs=False), "an MLP", DEFAULT_HINT)
    raise CheckFailed(
        mismatch_message(f"{NAME} activation values", diff, tol, config, against="GELU of the pre-activations"),
        hint=hint,
        details={"expected": expected[0, 0].tolist(), "got": got[0, 0].tolist(), "known_mistakes": matched},
    )
