"""Q1 checks: PatchEmbedding turns (B, C, H, W) into (B, N, D), one linear map per patch, row-major."""

import torch

from grader.checks import remote
from grader.checks.compare import Tolerance, difference, fmt_config
from grader.checks.conformance import check_contract
from grader.checks.context import CheckContext
from grader.checks.flows import Case, check_equivalence, check_shapes, prepared_reference
from grader.checks.registry import CheckFailed, Outcome, check
from reference.patch_embedding import PatchEmbedding

NAME = "PatchEmbedding"
TOL = Tolerance(atol=1e-5, rtol=1e-4)  # float32 conv of <= 3*8*8 products per output

SHAPE_CASES = [
    Case({"img_size": 28, "patch_size": 7, "in_chans": 1, "embed_dim": 64}, (3, 1, 28, 28), {"num_patches": 16}),
    Case({"img_size": 28, "patch_size": 4, "in_chans": 3, "embed_dim": 32}, (1, 3, 28, 28), {"num_patches": 49}),
    Case({"img_size": 32, "patch_size": 8, "in_chans": 3, "embed_dim": 48}, (5, 3, 32, 32), {"num_patches": 16}),
]
EQUIVALENCE_CASES = [
    Case({"img_size": 28, "patch_size": 7, "in_chans": 1, "embed_dim": 64}, (3, 1, 28, 28)),
    Case({"img_size": 28, "patch_size": 4, "in_chans": 3, "embed_dim": 32}, (2, 3, 28, 28)),
]
DEFAULT_HINT = (
    "Use self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size), then "
    "x.flatten(2).transpose(1, 2): (B, D, H/p, W/p) -> (B, D, N) -> (B, N, D)."
)


def _tokens(case: Case) -> tuple[int, int, int]:
    grid = case.kwargs["img_size"] // case.kwargs["patch_size"]
    return case.input_shape[0], grid * grid, case.kwargs["embed_dim"]


@check("q1.shape", question="Q1", category="shape")
def shape(ctx: CheckContext) -> Outcome:
    """PatchEmbedding returns (B, N, D) and sets num_patches, for patch 4 and 7, 1 and 3 channels."""
    return Outcome(details=check_shapes(ctx, NAME, SHAPE_CASES, _tokens))


@check("q1.equivalence", question="Q1", category="equivalence")
def equivalence(ctx: CheckContext) -> Outcome:
    """With the reference weights, the tokens and the input gradient equal the reference's."""
    return check_equivalence(ctx, NAME, PatchEmbedding, EQUIVALENCE_CASES, TOL, default_hint=DEFAULT_HINT)


@check("q1.contract", question="Q1", category="property")
def contract(ctx: CheckContext) -> Outcome:
    """The parameters are the contract's: proj = nn.Conv2d(in_chans, embed_dim, patch_size, stride=patch_size)."""
    return check_contract(ctx, NAME, PatchEmbedding, EQUIVALENCE_CASES)


@check("q1.property", question="Q1", category="property")
def property_(ctx: CheckContext) -> Outcome:
    """Changing one patch's pixels changes only that patch's token, token n being patch (n // w, n % w)."""
    kwargs = {"img_size": 28, "patch_size": 7, "in_chans": 1, "embed_dim": 32}
    p, grid = 7, 4
    reference, prepared = prepared_reference(ctx, NAME, PatchEmbedding, kwargs, salt="property")
    base = ctx.randn(1, 1, 28, 28, salt="image")
    patches = [(1, 2), (3, 0)]  # (row, column) of the patch to change
    images = [base]
    for r, c in patches:
        changed = base.clone()
        changed[..., r * p : (r + 1) * p, c * p : (c + 1) * p] += 1 + ctx.randn(1, 1, p, p, salt=f"patch{r}{c}")
        images.append(changed)
    x = torch.cat(images)  # (3, 1, 28, 28)
    got = remote.forward(ctx, NAME, kwargs, x, state=prepared.fit(reference.state_dict())).output
    if tuple(got.shape) != (3, grid * grid, 32):
        raise CheckFailed(f"{NAME} output: expected shape (3, 16, 32), got {tuple(got.shape)} ({fmt_config(kwargs)}).")
    tol = TOL.on(ctx.device)
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
    expected = reference(x).detach()
    diff = difference(got, expected, tol)
    return Outcome(details={"patches": patches, "max_abs_error_vs_reference": diff.max_abs_error})
