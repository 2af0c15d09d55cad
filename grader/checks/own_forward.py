"""Q7's second path: the ViT's own forward, asked in a fresh child, when the reference's forward does not fit.

The first path (``q7_accuracy``) loads the trained weights into the reference ``ViT`` and predicts in the
parent: exact whenever the student's forward is the reference's (Q6's equivalence). A ViT whose forward
differs (a known mistake, or code of its own) trained weights the reference forward does not fit, so
its logits are asked from its own code, in a *fresh* child that receives only those weights and the
test images (never the training digits, never a label):

1. logits equal to the reference's with those weights: nothing new, the first path stands;
2. logits reproduced here by the reference with one known mistake (``grader.diagnostics``) and the same
   weights: the parent's own logits are trusted, and scored like the first path;
3. a forward that is the reference's with the grader's weights (a seeded reference init) but not with its
   own trained weights switches on its weights: nothing is paid on it;
4. otherwise the child's logits are scored, for at most ``OWN_FORWARD_SHARE`` of Q7: code the parent
   cannot check computed them, and the weights it reads may carry a classifier trained by any code
   (docs/architecture.md, "What the parent trusts").
"""

from dataclasses import dataclass, field
from typing import Any

import torch

from grader.baseline import AccuracyRecipe, trusted_logits
from grader.checks.compare import Tolerance, is_close
from grader.checks.context import CheckContext
from grader.checks.flows import seeded_reference
from grader.diagnostics import applicable, with_mistakes
from grader.sandbox import Sandbox, SandboxError
from grader.settings import GraderSettings
from grader.weights import as_reply_tensors, one_thread
from reference.mnist import MnistSplit
from reference.vit import ViT

OWN_FORWARD_SHARE = 1 / 3  # the most Q7 pays for predictions only the student's code computed (5 of 15 points)
TOL = Tolerance(atol=1e-4, rtol=1e-3)  # Q6's tolerance: a 4-block float32 stack, summation order may differ
SCREEN = 64  # test digits compared first when looking for a known mistake (the rest only on a match)
BUDGET_S = 120.0  # wall seconds for the fresh child: start, import and two forward passes over the test digits


@dataclass
class OwnForward:
    """What the second path found: a share of Q7 (1 when the parent computed the logits itself) and why."""

    share: float
    logits: torch.Tensor | None = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def logits_in_child(box: Sandbox, recipe: AccuracyRecipe, state: dict, images: torch.Tensor) -> torch.Tensor:
    """The ``predict`` op: the child's ``ViT(**recipe.model)`` loaded with ``state``; logits (N, classes)."""
    args = {"kwargs": recipe.model}
    reply = box.request("predict", args, tensors={**as_reply_tensors(state), "images": images})
    logits = reply.tensors.get("logits")
    classes = recipe.model.get("num_classes", 10)
    if type(logits) is not torch.Tensor or tuple(logits.shape) != (len(images), classes):
        got = tuple(logits.shape) if type(logits) is torch.Tensor else type(logits).__name__
        raise ValueError(f"the logits of your ViT: expected shape {(len(images), classes)}, got {got}")
    if not logits.dtype.is_floating_point or not bool(torch.isfinite(logits).all()):
        raise ValueError(f"the logits of your ViT are not finite floating-point numbers (dtype {logits.dtype})")
    return logits.float()


def known_mistake(recipe: AccuracyRecipe, state: dict, images: torch.Tensor, own: torch.Tensor, tol: Tolerance):
    """(mistake, logits computed here) when the reference with one known mistake reproduces ``own``, else None."""
    reference = ViT(**recipe.model)
    reference.load_state_dict(state, strict=True)
    reference.eval()
    screen = images[:SCREEN]
    for mistake in applicable(reference):
        variant = with_mistakes(reference, [mistake])
        with one_thread(), torch.no_grad():
            if not is_close(own[:SCREEN], variant(_normalized(screen)), tol):
                continue
            logits = torch.cat([variant(_normalized(images[i : i + 500])) for i in range(0, len(images), 500)])
        if is_close(own, logits, tol):
            return mistake, logits
    return None


def _normalized(images: torch.Tensor) -> torch.Tensor:
    from grader.sandbox.harness import normalize

    return normalize(images, torch)  # (N, 1, 28, 28)


def own_forward(
    ctx: CheckContext, recipe: AccuracyRecipe, state: dict, test: MnistSplit, trusted: torch.Tensor, settings
) -> OwnForward:
    """The second path for ``state`` (the checked trained weights); ``trusted`` = the reference's logits with them."""
    settings = settings or GraderSettings()
    tol = TOL.on(ctx.device)
    probe = seeded_reference(ctx, ViT, recipe.model, salt="q7-probe").state_dict()
    limits = settings.limits.model_copy(update={"total_timeout_s": min(settings.limits.total_timeout_s, BUDGET_S)})
    try:
        with Sandbox(ctx.sandbox.module_source, device=ctx.device, limits=limits, seed=ctx.seed) as box:
            if box.import_error:
                return OwnForward(0.0, message=f"your module did not import in a fresh process: {box.import_error}")
            own = logits_in_child(box, recipe, state, test.images)
            probed = logits_in_child(box, recipe, probe, test.images)
    except (SandboxError, ValueError) as error:
        return OwnForward(0.0, message=f"your ViT's own forward could not be evaluated: {error}")
    if is_close(own, trusted, tol):
        return OwnForward(0.0, message="your ViT's own forward gives the reference's logits with these weights")
    found = known_mistake(recipe, state, test.images, own, tol)
    if found is not None:
        mistake, logits = found
        how = f"logits computed by the grader: the reference ViT with one known mistake ({mistake.name})"
        return OwnForward(1.0, logits, how, {"known_mistake": mistake.id})
    if is_close(probed, trusted_logits(recipe, probe, test.images), tol):
        return OwnForward(
            0.0,
            message=(
                "your ViT computes the reference's function with the grader's weights but another one with its own "
                "trained weights: a forward that depends on what its weights hold earns nothing here"
            ),
            details={"switching_forward": True},
        )
    how = (
        f"logits computed by your own forward in a fresh process, which the grader cannot verify: "
        f"worth at most {OWN_FORWARD_SHARE:.0%} of Q7"
    )
    return OwnForward(OWN_FORWARD_SHARE, own, how, {"own_forward": True})
