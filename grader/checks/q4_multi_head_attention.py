"""Q4 checks: multi-head self-attention, D split equally among h heads, heads concatenated then W_o.

Configurations where num_heads does not divide embed_dim are never asked: how to handle them is not
part of the contract.
"""

import torch

from grader.checks import remote
from grader.checks.attention_properties import permutation_and_mixing
from grader.checks.compare import Tolerance, difference, fmt_config, require_shape
from grader.checks.conformance import check_contract
from grader.checks.context import CheckContext
from grader.checks.flows import Case, check_equivalence, check_shapes, prepared_reference
from grader.checks.registry import CheckFailed, Outcome, check
from reference.multi_head_attention import MultiHeadSelfAttention

NAME = "MultiHeadSelfAttention"
TOL = Tolerance(atol=1e-5, rtol=1e-4)  # float32, four linear layers and a softmax per head

SHAPE_CASES = [
    Case({"embed_dim": 64, "num_heads": 4}, (2, 5, 64)),
    Case({"embed_dim": 32, "num_heads": 1}, (1, 3, 32)),
    Case({"embed_dim": 48, "num_heads": 6}, (3, 17, 48)),
]
EQUIVALENCE_CASES = [
    Case({"embed_dim": 64, "num_heads": 4}, (2, 9, 64)),
    Case({"embed_dim": 32, "num_heads": 8}, (1, 6, 32)),
    Case({"embed_dim": 24, "num_heads": 1}, (2, 5, 24)),
    Case({"embed_dim": 48, "num_heads": 3}, (3, 4, 48)),
]
EXTRA_CASES = [
    Case({"embed_dim": 40, "num_heads": 5}, (3, 11, 40)),
    Case({"embed_dim": 36, "num_heads": 2}, (2, 3, 36)),  # N > 1: every configuration can see a wrong attention
]
DEFAULT_HINT = (
    "Per head i (d_h = D / h): split with x.view(B, N, h, d_h).transpose(1, 2), "
    "A = softmax(Q_i K_i^T / sqrt(d_h), dim=-1), merge with out.transpose(1, 2).reshape(B, N, D), then self.proj."
)


@check("q4.shape", question="Q4", category="shape")
def shape(ctx: CheckContext) -> Outcome:
    """MultiHeadSelfAttention maps (B, N, D) to (B, N, D) for 1, 4 and 6 heads."""
    return Outcome(details=check_shapes(ctx, NAME, SHAPE_CASES, lambda case: case.input_shape))


@check("q4.equivalence", question="Q4", category="equivalence")
def equivalence(ctx: CheckContext) -> Outcome:
    """With the reference weights, output and input gradient equal the reference's for 1, 3, 4 and 8 heads."""
    return check_equivalence(ctx, NAME, MultiHeadSelfAttention, EQUIVALENCE_CASES, TOL, default_hint=DEFAULT_HINT)


@check("q4.contract", question="Q4", category="property")
def contract(ctx: CheckContext) -> Outcome:
    """The parameters are the contract's: q, k, v and proj, each nn.Linear(embed_dim, embed_dim) with a bias."""
    return check_contract(ctx, NAME, MultiHeadSelfAttention, EQUIVALENCE_CASES)


@check("q4.extra", question="Q4", category="equivalence", hidden=True)
def extra(ctx: CheckContext) -> Outcome:
    """Equivalence at configurations the visible checks do not use."""
    return check_equivalence(ctx, NAME, MultiHeadSelfAttention, EXTRA_CASES, TOL, default_hint=DEFAULT_HINT)


@check("q4.property", question="Q4", category="property")
def property_(ctx: CheckContext) -> Outcome:
    """Permutation-equivariant, and heads independent: head i's weights change only columns i*d_h..(i+1)*d_h."""
    kwargs, n, h = {"embed_dim": 32, "num_heads": 4}, 6, 4
    figures = permutation_and_mixing(ctx, NAME, MultiHeadSelfAttention, kwargs, n, TOL)
    if "own_initial_weights" in figures:  # head i's rows cannot be found in parameters that do not map
        return Outcome(
            fraction=0.5,
            message=(
                "Permutation-equivariant and mixing every token (checked with your module's own initial weights), "
                "but the heads' independence cannot be checked: " + figures["own_initial_weights"]
            ),
            hint="Use the contract's q, k, v and proj (nn.Linear(D, D) each) so that each head's rows can be found.",
            details=figures,
        )
    return Outcome(details={**figures, **heads_independent(ctx, kwargs, n, h)})


def heads_independent(ctx: CheckContext, kwargs: dict, n: int, h: int) -> dict[str, float]:
    """With W_o = I, the output is the concatenation of the heads: changing head i's q rows changes only
    slice i, and zeroing head i's v rows zeroes slice i and leaves the others as they were."""
    tol = TOL.on(ctx.device)
    d = kwargs["embed_dim"]
    dh = d // h
    reference, prepared = prepared_reference(ctx, NAME, MultiHeadSelfAttention, kwargs, salt="heads")
    with torch.no_grad():
        reference.proj.weight.copy_(torch.eye(d))
        reference.proj.bias.zero_()
        reference.v.bias.zero_()  # zeroing head i's v rows then zeroes its output, bias or not
    x = ctx.randn(2, n, d, salt="tokens")
    base_state = reference.state_dict()
    base = remote.forward(ctx, NAME, kwargs, x, state=prepared.fit(base_state)).output
    require_shape(base, (2, n, d), f"{NAME} output", kwargs)
    figures = {}
    for label, head, edit in (("q rows changed", 2, "q"), ("v rows zeroed", 1, "v")):
        state = {k: v.clone() for k, v in base_state.items()}
        rows = slice(head * dh, (head + 1) * dh)
        if edit == "q":
            state["q.weight"][rows] += ctx.randn(dh, d, salt="q-rows")
        else:
            state["v.weight"][rows] = 0.0
        got = remote.forward(ctx, NAME, kwargs, x, state=prepared.fit(state)).output
        require_shape(got, (2, n, d), f"{NAME} output", kwargs)
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
    diff = difference(base, reference(x).detach(), tol)
    figures["identity-proj output max abs error vs reference"] = diff.max_abs_error
    return figures
