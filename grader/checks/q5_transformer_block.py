"""Q5 checks: the pre-norm block x' = x + MHSA(LN_1(x)), y = x' + MLP(LN_2(x')).

Q5 grades the block's own wiring: its checks put the child's trusted stand-in attention and MLP (with
the same weights) in place of the student's ``attn`` and ``mlp`` (``grader.checks.substitution``), so
a mistake in Q2 or Q4 is not charged again here. ``q5.end_to_end`` runs the student's own sub-modules
and names which one causes a difference.
"""

import copy

import torch

from grader.checks import remote, substitution
from grader.checks.compare import Tolerance, difference, mismatch_message, require_shape
from grader.checks.composite import check_end_to_end
from grader.checks.conformance import check_contract, depends_on_input
from grader.checks.context import CheckContext
from grader.checks.flows import Case, check_equivalence, check_shapes, prepared_reference
from grader.checks.registry import CheckFailed, Outcome, check
from reference.transformer_block import TransformerBlock

NAME = "TransformerBlock"
TOL = Tolerance(atol=1e-5, rtol=1e-4)  # float32, two LayerNorms, attention and MLP

SHAPE_CASES = [
    Case({"embed_dim": 64, "num_heads": 4}, (2, 5, 64)),
    Case({"embed_dim": 32, "num_heads": 2, "mlp_ratio": 2.0}, (1, 1, 32)),
    Case({"embed_dim": 48, "num_heads": 3, "mlp_ratio": 1.5}, (3, 17, 48)),
]
EQUIVALENCE_CASES = [
    Case({"embed_dim": 32, "num_heads": 4}, (2, 7, 32)),
    Case({"embed_dim": 48, "num_heads": 3, "mlp_ratio": 2.0}, (1, 5, 48)),
]
DEFAULT_HINT = "Pre-norm with two residuals: x = x + self.attn(self.norm1(x)); return x + self.mlp(self.norm2(x))."


@check("q5.shape", question="Q5", category="shape")
def shape(ctx: CheckContext) -> Outcome:
    """TransformerBlock maps (B, N, D) to (B, N, D) for several widths, heads and MLP ratios."""
    details = check_shapes(ctx, NAME, SHAPE_CASES, lambda case: case.input_shape, substitution.block)
    return Outcome(details=details)


@check("q5.equivalence", question="Q5", category="equivalence")
def equivalence(ctx: CheckContext) -> Outcome:
    """With the reference weights and trusted attention and MLP, output and input gradient equal the reference's."""
    return check_equivalence(
        ctx,
        NAME,
        TransformerBlock,
        EQUIVALENCE_CASES,
        TOL,
        default_hint=DEFAULT_HINT,
        substitute=substitution.block,
        question="Q5",
    )


@check("q5.end_to_end", question="Q5", category="equivalence")
def end_to_end(ctx: CheckContext) -> Outcome:
    """With the student's own attention and MLP, the block equals the reference; a difference is traced to its
    sub-module."""
    case = EQUIVALENCE_CASES[1]  # mlp_ratio and num_heads off their defaults: the block must pass them on
    return check_end_to_end(ctx, NAME, TransformerBlock, case, TOL, substitution.BLOCK_PARTS)


@check("q5.contract", question="Q5", category="property")
def contract(ctx: CheckContext) -> Outcome:
    """The block's own parameters are the contract's (norm1 and norm2 are nn.LayerNorm(embed_dim)), and it builds
    its attention and MLP from its own arguments."""
    return check_contract(ctx, NAME, TransformerBlock, EQUIVALENCE_CASES, substitution.block)


@check("q5.property", question="Q5", category="property")
def property_(ctx: CheckContext) -> Outcome:
    """Residuals: with attn.proj and mlp.fc2 zeroed the block is the identity; with only attn.proj zeroed it is
    x + MLP(LN_2(x))."""
    kwargs = {"embed_dim": 32, "num_heads": 4}
    tol = TOL.on(ctx.device)
    reference, prepared = prepared_reference(ctx, NAME, TransformerBlock, kwargs, "property", substitution.block)
    change = depends_on_input(ctx, NAME, Case(kwargs, (2, 6, 32)), substitution.block)
    x = ctx.randn(2, 6, 32, salt="tokens")
    figures = {"output change between two inputs": change, **prepared.details()}
    cases = (
        ("attn.proj and mlp.fc2 zeroed", ("attn.proj", "mlp.fc2"), "the identity: y = x"),
        ("attn.proj zeroed", ("attn.proj",), "y = x + MLP(LN_2(x))"),
    )
    for label, zeroed, expected_form in cases:
        edited = copy.deepcopy(reference)  # weights, the student's accepted eps and eval mode included
        with torch.no_grad():
            for prefix in zeroed:
                edited.get_submodule(prefix).weight.zero_()
                edited.get_submodule(prefix).bias.zero_()
        expected = edited(x).detach()
        if len(zeroed) == 2 and not torch.equal(expected, x):
            raise RuntimeError("reference block with both branches zeroed is not the identity")  # grader bug
        state = prepared.fit(edited.state_dict())
        got = remote.forward(ctx, NAME, kwargs, x, state=state, substitute=prepared.substitute).output
        config = {**kwargs, "zeroed": list(zeroed)}
        require_shape(got, tuple(x.shape), f"{NAME} output", config)
        diff = difference(got, expected, tol)
        if not diff.within:
            raise CheckFailed(
                mismatch_message(f"{NAME} with {label}", diff, tol, config, against=f"the expected {expected_form}"),
                hint=(
                    "Each sub-layer sits on a residual path and LayerNorm only feeds the sub-layer: "
                    "x = x + attn(norm1(x)); y = x + mlp(norm2(x)). A post-norm block, a missing residual, or a "
                    "residual that carries norm1(x) instead of x breaks this."
                ),
                details={"zeroed": list(zeroed), **diff.as_details(), **prepared.details()},
            )
        figures[f"{label}: max abs error"] = diff.max_abs_error
    return Outcome(details=figures)
