"""Q5 checks: the pre-norm block x' = x + MHSA(LN_1(x)), y = x' + MLP(LN_2(x'))."""

import torch

from grader.checks import remote
from grader.checks.compare import Tolerance, difference, mismatch_message, require_shape
from grader.checks.context import CheckContext
from grader.checks.flows import Case, check_equivalence, check_shapes, seeded_reference
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
    return Outcome(details=check_shapes(ctx, NAME, SHAPE_CASES, lambda case: case.input_shape))


@check("q5.equivalence", question="Q5", category="equivalence")
def equivalence(ctx: CheckContext) -> Outcome:
    """With the reference weights, the output and the input gradient equal the reference's."""
    details = check_equivalence(ctx, NAME, TransformerBlock, EQUIVALENCE_CASES, TOL, default_hint=DEFAULT_HINT)
    return Outcome(details=details)


@check("q5.property", question="Q5", category="property")
def property_(ctx: CheckContext) -> Outcome:
    """Residuals: with attn.proj and mlp.fc2 zeroed the block is the identity; with only attn.proj zeroed it is
    x + MLP(LN_2(x))."""
    kwargs = {"embed_dim": 32, "num_heads": 4}
    tol = TOL.on(ctx.device)
    reference = seeded_reference(ctx, TransformerBlock, kwargs, salt="property")
    x = ctx.randn(2, 6, 32, salt="tokens")
    figures = {}
    cases = (
        ("attn.proj and mlp.fc2 zeroed", ("attn.proj", "mlp.fc2"), "the identity: y = x"),
        ("attn.proj zeroed", ("attn.proj",), "y = x + MLP(LN_2(x))"),
    )
    for label, zeroed, expected_form in cases:
        state = {k: v.clone() for k, v in reference.state_dict().items()}
        for prefix in zeroed:
            state[f"{prefix}.weight"].zero_()
            state[f"{prefix}.bias"].zero_()
        edited = TransformerBlock(**kwargs).eval()
        edited.load_state_dict(state)
        expected = edited(x).detach()
        if len(zeroed) == 2 and not torch.equal(expected, x):
            raise RuntimeError("reference block with both branches zeroed is not the identity")  # grader bug
        got = remote.forward(ctx, NAME, kwargs, x, state=state).output
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
                details={"zeroed": list(zeroed), **diff.as_details()},
            )
        figures[f"{label}: max abs error"] = diff.max_abs_error
    return Outcome(details=figures)
