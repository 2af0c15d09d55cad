"""Q6 checks: the ViT, [CLS] at index 0 read by the head after the final norm (the encoding: ``q6_sinusoidal``).

Q6 grades the ViT's own code ([CLS] token, positions, final norm, head): its checks put the child's
trusted stand-in patch embedding and blocks in place of the student's ``patch_embed`` and ``blocks``
(``grader.checks.substitution``); ``q6.end_to_end`` runs the student's own and names the sub-module
that causes a difference.
"""

import copy
from collections.abc import Callable

import torch

from grader.checks import remote, substitution
from grader.checks.compare import Tolerance, difference, fmt_config, require_shape
from grader.checks.composite import check_end_to_end
from grader.checks.conformance import check_contract, depends_on_input, plumbing
from grader.checks.context import CheckContext
from grader.checks.contract import plan_state
from grader.checks.flows import (
    Case,
    Prepared,
    check_equivalence,
    check_shapes,
    prepared_reference,
)
from grader.checks.registry import CheckFailed, Outcome, check
from reference.vit import ViT

NAME = "ViT"
TOL = Tolerance(atol=1e-4, rtol=1e-3)  # a deep float32 stack: summation order differs between implementations
MOVES = 1e-3  # a change of the logits larger than this (10x TOL.atol) counts as "the logits depend on it"

SMALL = {"embed_dim": 32, "nb_blocks": 2, "num_heads": 4}
SHAPE_CASES = [
    Case({}, (2, 1, 28, 28)),
    Case({**SMALL, "patch_size": 4, "num_heads": 2, "pos_embedding": "sinusoidal"}, (3, 1, 28, 28)),
    Case(
        {"img_size": 32, "patch_size": 8, "in_chans": 3, "num_classes": 5, "embed_dim": 48, "nb_blocks": 1,
         "num_heads": 3, "mlp_ratio": 2.0},
        (1, 3, 32, 32),
    ),
]  # fmt: skip
EQUIVALENCE_CASES = [
    Case(dict(SMALL), (3, 1, 28, 28)),
    Case({**SMALL, "patch_size": 4, "num_heads": 2, "pos_embedding": "sinusoidal"}, (2, 1, 28, 28)),
]
EXTRA_CASES = [
    Case(
        {"img_size": 32, "patch_size": 8, "in_chans": 3, "num_classes": 7, "embed_dim": 48, "nb_blocks": 3,
         "num_heads": 6, "mlp_ratio": 2.0, "pos_embedding": "sinusoidal"},
        (2, 3, 32, 32),
    ),
]  # fmt: skip
END_TO_END_CASE = Case(
    {"patch_size": 4, "embed_dim": 32, "nb_blocks": 2, "num_heads": 2, "mlp_ratio": 2.0, "pos_embedding": "sinusoidal"},
    (2, 1, 28, 28),
)  # every hyperparameter away from its default: the ViT must pass them on to its own blocks
PARAMETER_CASES = [
    {},
    {"patch_size": 4, "embed_dim": 32, "nb_blocks": 2, "num_heads": 2, "mlp_ratio": 2.0, "pos_embedding": "sinusoidal"},
    {"img_size": 32, "patch_size": 8, "in_chans": 3, "num_classes": 5, "embed_dim": 48, "nb_blocks": 3, "num_heads": 6},
]
DEFAULT_HINT = (
    "x = patch_embed(x); x = torch.cat([cls_token.expand(B, -1, -1), x], dim=1) + pos_embed; x = blocks(x); "
    "return head(norm(x)[:, 0])."
)


def _logits(case: Case) -> tuple[int, int]:
    return case.input_shape[0], case.kwargs.get("num_classes", 10)


@check("q6.shape", question="Q6", category="shape")
def shape(ctx: CheckContext) -> Outcome:
    """ViT returns logits (B, num_classes) for several configurations, learned and sinusoidal."""
    return Outcome(details=check_shapes(ctx, NAME, SHAPE_CASES, _logits, substitution.vit))


@check("q6.equivalence", question="Q6", category="equivalence")
def equivalence(ctx: CheckContext) -> Outcome:
    """With the reference weights, trusted patch embedding and blocks, logits and input gradients equal the
    reference's."""
    return check_equivalence(
        ctx, NAME, ViT, EQUIVALENCE_CASES, TOL, default_hint=DEFAULT_HINT, substitute=substitution.vit, question="Q6"
    )


@check("q6.end_to_end", question="Q6", category="equivalence")
def end_to_end(ctx: CheckContext) -> Outcome:
    """With the student's own patch embedding and blocks, the ViT equals the reference; a difference is traced
    to its sub-module."""
    return check_end_to_end(ctx, NAME, ViT, END_TO_END_CASE, TOL, substitution.VIT_PARTS)


@check("q6.extra", question="Q6", category="equivalence", hidden=True)
def extra(ctx: CheckContext) -> Outcome:
    """Equivalence at a configuration the visible checks do not use (3 channels, 32x32, sinusoidal)."""
    return check_equivalence(
        ctx, NAME, ViT, EXTRA_CASES, TOL, default_hint=DEFAULT_HINT, substitute=substitution.vit, question="Q6"
    )


@check("q6.parameters", question="Q6", category="property")
def parameters(ctx: CheckContext) -> Outcome:
    """The ViT's parameter count is the contract's (trusted blocks in place; a parameter it lacks, such as a
    bias, is counted out), on a ViT whose logits depend on the image."""
    change = depends_on_input(ctx, NAME, Case(PARAMETER_CASES[0], (2, 1, 28, 28)), substitution.vit)
    counts = []
    for i, kwargs in enumerate(PARAMETER_CASES):
        reference = ViT(**kwargs)
        size = kwargs.get("img_size", 28)
        x = ctx.randn(1, kwargs.get("in_chans", 1), size, size, salt=f"input:{i}")
        got = remote.forward(ctx, NAME, kwargs, x, salt=f"params:{i}", substitute=substitution.vit(kwargs))
        plan = plan_state(reference, got.state_shapes, NAME)
        owned = dict(reference.named_parameters())
        lacking = sum(owned[key].numel() for key in plan.neutral if key in owned)  # charged by q6.contract
        expected = sum(p.numel() for p in reference.parameters()) - lacking
        if got.num_params != expected:
            raise CheckFailed(
                f"{NAME}({fmt_config(kwargs)}) has {got.num_params} parameters, expected {expected}.",
                hint=(
                    "Only the contract's layers hold parameters; a sinusoidal pos_embed is a buffer "
                    "(register_buffer), not an nn.Parameter."
                ),
                details={"config": kwargs, "expected": expected, "got": got.num_params},
            )
        plumbing(ctx, NAME, reference, kwargs)
        counts.append({"config": kwargs, "parameters": expected, "substituted": got.substituted})
    return Outcome(details={"configs": counts, "output_change_between_inputs": change})


@check("q6.contract", question="Q6", category="property")
def contract(ctx: CheckContext) -> Outcome:
    """The ViT's own parameters are the contract's: cls_token, pos_embed, norm and head (trusted blocks in place)."""
    cases = [Case(kwargs, (2, kwargs.get("in_chans", 1), kwargs.get("img_size", 28), kwargs.get("img_size", 28)))
             for kwargs in PARAMETER_CASES]  # fmt: skip
    return check_contract(ctx, NAME, ViT, cases, substitution.vit)


@check("q6.property", question="Q6", category="property")
def property_(ctx: CheckContext) -> Outcome:
    """[CLS] sits at index 0 and is what the head reads; patch order matters only through pos_embed. The two
    invariances earn points only when the same check shows the logits depend on the image."""
    kwargs = dict(SMALL)
    tol = TOL.on(ctx.device)
    reference, prepared = prepared_reference(ctx, NAME, ViT, kwargs, "property", substitution.vit)
    x = ctx.randn(2, 1, 28, 28, salt="images")
    perm = torch.randperm(16, generator=ctx.generator("patch-permutation"))
    pair = torch.cat([x, permute_patches(x, perm, patch=7)])  # (4, 1, 28, 28): images, then patch-permuted
    config = {**kwargs, "patch_permutation": perm.tolist()}
    failures, figures = [], dict(prepared.details())

    got = _logits_of(ctx, kwargs, pair, reference.state_dict(), config, prepared)
    gap = float((got[:2] - got[2:]).abs().max())
    depends = float((got[0] - got[1]).abs().max())
    figures["learned pos_embed: change when patches are permuted"] = gap
    figures["change between two images"] = depends
    if gap <= MOVES:
        failures.append(
            f"with a random pos_embed, permuting the patches changed the logits by only {gap:.3g}: the positional "
            "embedding is not added to the tokens"
        )
    vacuous = depends <= MOVES
    if vacuous:
        failures.append(
            f"two different images give logits that differ by only {depends:.3g}: the logits do not depend on the "
            "image, so the [CLS] invariances below earn nothing"
        )

    state = _edited(reference, lambda s: s["pos_embed"][:, 1:].zero_())
    got = _logits_of(ctx, kwargs, pair, state, config, prepared)
    gap = float((got[:2] - got[2:]).abs().max())
    figures["pos_embed[1:] zeroed: change when patches are permuted"] = gap
    if gap > tol.atol + tol.rtol * float(got.abs().max()):
        failures.append(
            f"with pos_embed[1:] zeroed (only pos_embed[0] non-zero), permuting the patches changed the logits by "
            f"{gap:.3g}: [CLS] is not at index 0 (pos_embed[0] reached a patch) or the head reads a patch token"
        )

    def zero_branches(s: dict) -> None:
        for key in s:
            if key.startswith("blocks.") and key.split(".")[-2] in ("proj", "fc2"):  # attn.proj, mlp.fc2
                s[key].zero_()

    state = _edited(reference, zero_branches)
    got = _logits_of(ctx, kwargs, x, state, config, prepared)
    expected = _reference_logits(reference, state, x)  # head(norm(cls_token + pos_embed[0])) for every image
    diff = difference(got, expected, tol)
    figures["blocks reduced to the identity: max abs error vs head(norm(cls + pos_embed[0]))"] = diff.max_abs_error
    if not diff.within:
        failures.append(
            "with every block's attn.proj and mlp.fc2 zeroed (pre-norm residual blocks become the identity), the "
            "logits should be head(norm(cls_token + pos_embed[0])) for every image; max abs error "
            f"{diff.max_abs_error:.3g} (tolerance {tol}): the head does not read the [CLS] token alone "
            "(mean pooling?) or the final norm is missing"
        )
    lost = 3 if vacuous else len(failures)  # each failing property costs its third; a vacuous ViT earns none
    if not failures:
        return Outcome(details=figures)
    message = f"{NAME} ({fmt_config(kwargs)}): " + "; ".join(failures) + "."
    hint = "Prepend [CLS] at index 0, add pos_embed to all N + 1 tokens, and classify from head(norm(x)[:, 0])."
    if lost >= 3:
        raise CheckFailed(message, hint=hint, details=figures)
    return Outcome(fraction=(3 - lost) / 3, message=message, hint=hint, details=figures)


def permute_patches(x: torch.Tensor, perm: torch.Tensor, patch: int) -> torch.Tensor:
    """Move the patch at grid position perm[j] to position j (row-major), pixels inside patches untouched."""
    B, C, H, W = x.shape
    gh, gw = H // patch, W // patch
    tiles = x.view(B, C, gh, patch, gw, patch).permute(0, 1, 2, 4, 3, 5)  # (B, C, gh, gw, p, p)
    tiles = tiles.reshape(B, C, gh * gw, patch, patch)[:, :, perm]  # (B, C, N, p, p) in the new order
    grid = tiles.view(B, C, gh, gw, patch, patch).permute(0, 1, 2, 4, 3, 5)  # (B, C, gh, p, gw, p)
    return grid.reshape(B, C, H, W)  # (B, C, H, W)


def _edited(reference: ViT, edit: Callable[[dict[str, torch.Tensor]], object]) -> dict[str, torch.Tensor]:
    """A copy of the reference's state_dict, changed in place by ``edit``."""
    state = {k: v.clone() for k, v in reference.state_dict().items()}
    edit(state)
    return state


def _reference_logits(reference: ViT, state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    model = copy.deepcopy(reference)
    model.load_state_dict(state)
    with torch.no_grad():
        return model(x)


def _logits_of(
    ctx: CheckContext, kwargs: dict, x: torch.Tensor, state: dict, config: dict, prepared: Prepared
) -> torch.Tensor:
    got = remote.forward(ctx, NAME, kwargs, x, state=prepared.fit(state), substitute=prepared.substitute).output
    require_shape(got, (x.shape[0], 10), f"{NAME} logits", config)
    return got
