"""Q3 checks: single-head self-attention SA(X) = softmax(Q K^T / sqrt(d)) V W_o."""

from grader.checks.attention_properties import permutation_and_mixing
from grader.checks.compare import Tolerance
from grader.checks.conformance import check_contract
from grader.checks.context import CheckContext
from grader.checks.flows import Case, check_equivalence, check_shapes
from grader.checks.registry import Outcome, check
from reference.self_attention import SelfAttention

NAME = "SelfAttention"
TOL = Tolerance(atol=1e-5, rtol=1e-4)  # float32, four linear layers and a softmax

SHAPE_CASES = [
    Case({"embed_dim": 32}, (2, 5, 32)),
    Case({"embed_dim": 16}, (1, 1, 16)),
    Case({"embed_dim": 24}, (3, 17, 24)),
]
EQUIVALENCE_CASES = [
    Case({"embed_dim": 32}, (2, 7, 32)),
    Case({"embed_dim": 48}, (1, 10, 48)),
]
DEFAULT_HINT = (
    "Q = self.q(x), K = self.k(x), V = self.v(x); A = softmax(Q K^T / sqrt(embed_dim), dim=-1) of shape "
    "(B, N, N); return self.proj(A @ V)."
)


@check("q3.shape", question="Q3", category="shape")
def shape(ctx: CheckContext) -> Outcome:
    """SelfAttention maps (B, N, D) to (B, N, D), one token included."""
    return Outcome(details=check_shapes(ctx, NAME, SHAPE_CASES, lambda case: case.input_shape))


@check("q3.equivalence", question="Q3", category="equivalence")
def equivalence(ctx: CheckContext) -> Outcome:
    """With the reference weights, the output and the input gradient equal the reference's."""
    return check_equivalence(ctx, NAME, SelfAttention, EQUIVALENCE_CASES, TOL, default_hint=DEFAULT_HINT)


@check("q3.contract", question="Q3", category="property")
def contract(ctx: CheckContext) -> Outcome:
    """The parameters are the contract's: q, k, v and proj, each nn.Linear(embed_dim, embed_dim) with a bias."""
    return check_contract(ctx, NAME, SelfAttention, EQUIVALENCE_CASES)


@check("q3.property", question="Q3", category="property")
def property_(ctx: CheckContext) -> Outcome:
    """Permuting the tokens permutes the outputs (equivariance), and every output token depends on the others."""
    kwargs, n = {"embed_dim": 32}, 8
    return Outcome(details=permutation_and_mixing(ctx, NAME, SelfAttention, kwargs, n, TOL))
