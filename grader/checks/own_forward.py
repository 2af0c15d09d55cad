"""Q7: which forward the trained weights are scored with, and how much of Q7 each answer can earn.

The parent predicts the test digits itself with trusted code and the trained weights; that measures the
student's ViT only if the student's forward computes the same function. So, before training (nothing in
the child has seen a label yet), the student's ``ViT`` is probed with weights the grader draws (a seeded
reference init) on ``PROBE`` training digits, and its logits are compared with the parent's:

1. its logits are the reference's: the parent's predictions with the reference ``ViT`` are the ViT's,
   scored in full;
2. they are the reference's with one known mistake (``grader.diagnostics``): the parent predicts with
   that variant and the trained weights, scored in full (still the parent's code);
3. otherwise the forward is code the parent cannot reproduce: a *fresh* child, which never held a
   training digit or a label, returns its own logits for the trained weights, and Q7 pays at most
   ``OWN_FORWARD_SHARE`` on them (docs/architecture.md, "What the parent trusts", says what remains
   possible). The parent's logits are not used here: with weights trained for another function they
   measure nothing of the student's ViT, and they would pay a hidden ViT trained in its place.
"""

from dataclasses import dataclass, field
from typing import Any

import torch

from grader.baseline import AccuracyRecipe, module_logits, reference_vit, trusted_logits
from grader.checks.compare import Tolerance, is_close
from grader.checks.context import CheckContext
from grader.checks.flows import seeded_reference
from grader.diagnostics import Mistake, applicable, with_mistakes
from grader.sandbox import Sandbox, SandboxError, StudentError
from grader.settings import GraderSettings
from grader.weights import as_reply_tensors
from reference.vit import ViT

OWN_FORWARD_SHARE = 1 / 3  # the most Q7 pays when the parent cannot reproduce the forward (5 of 15 points)
TOL = Tolerance(atol=1e-4, rtol=1e-3)  # Q6's tolerance: a 4-block float32 stack, summation order may differ
PROBE = 200  # training digits the forward is probed on (10 logits each: plenty to tell functions apart)
PROBE_TIMEOUT_S = 30.0  # the probe is 200 digits through a small ViT: 0.1 s for the reference
BUDGET_S = 60.0  # wall seconds for the fresh child: start, import and one forward pass (0.5 s for the reference)


@dataclass
class Forward:
    """Which forward scores the trained weights: ``share`` of Q7 at most, its logits (None: it failed), and why."""

    share: float
    logits: torch.Tensor | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def logits_in_child(
    box: Sandbox, recipe: AccuracyRecipe, state: dict, images: torch.Tensor, timeout: float | None = None
) -> torch.Tensor:
    """The ``predict`` op: the child's ``ViT(**recipe.model)`` loaded with ``state``; logits (N, classes)."""
    tensors = {**as_reply_tensors(state), "images": images}
    reply = box.request("predict", {"kwargs": recipe.model}, tensors=tensors, timeout=timeout)
    logits = reply.tensors.get("logits")
    classes = recipe.model.get("num_classes", 10)
    if type(logits) is not torch.Tensor or tuple(logits.shape) != (len(images), classes):
        got = tuple(logits.shape) if type(logits) is torch.Tensor else type(logits).__name__
        raise ValueError(f"the logits of your ViT: expected shape {(len(images), classes)}, got {got}")
    if not logits.dtype.is_floating_point or not bool(torch.isfinite(logits).all()):
        raise ValueError(f"the logits of your ViT are not finite floating-point numbers (dtype {logits.dtype})")
    return logits.float()


def matching_mistake(recipe: AccuracyRecipe, probe: dict, images: torch.Tensor, got: torch.Tensor, tol: Tolerance):
    """The known mistake whose variant, with the probe weights, gives the child's probe logits; else None."""
    reference = reference_vit(recipe, probe)
    for mistake in applicable(reference):
        if is_close(got, module_logits(with_mistakes(reference, [mistake]), images), tol):
            return mistake
    return None


def with_mistake(recipe: AccuracyRecipe, state: dict, mistake: Mistake) -> torch.nn.Module:
    """The reference ``ViT`` with ``mistake``, loaded with the trained weights, in eval mode."""
    return with_mistakes(reference_vit(recipe, state), [mistake])


@dataclass
class Probe:
    """What the ViT's forward is, as probed before training: ``reference``, ``known_mistake`` or ``own``."""

    kind: str
    mistake: Mistake | None = None
    why: str = ""


def probe_forward(ctx: CheckContext, recipe: AccuracyRecipe, images: torch.Tensor) -> Probe:
    """Ask the child's ViT, before it trains, for its logits with the grader's weights; compare them here.

    The student's errors (not implemented, exceptions, timeouts) propagate: Q7 needs a working forward; a
    ViT that does not load the contract's weights is probed as "own" (its trained weights are then refused).
    """
    tol = TOL.on(ctx.device)
    probe = seeded_reference(ctx, ViT, recipe.model, salt="q7-probe").state_dict()
    try:
        got = logits_in_child(ctx.sandbox, recipe, probe, images, timeout=PROBE_TIMEOUT_S)
    except ValueError as error:
        return Probe("own", why=str(error))
    except StudentError as error:
        if error.kind != "state_dict":
            raise
        return Probe("own", why=f"your ViT does not load the contract's weights: {error.message[:500]}")
    if is_close(got, trusted_logits(recipe, probe, images), tol):
        return Probe("reference")
    mistake = matching_mistake(recipe, probe, images, got, tol)
    if mistake is not None:
        return Probe("known_mistake", mistake)
    return Probe("own", why="your ViT's forward is neither the reference's nor the reference's with one known mistake")


def scored_forward(
    ctx: CheckContext,
    recipe: AccuracyRecipe,
    probe: Probe,
    state: dict,
    images: torch.Tensor,
    trusted: torch.Tensor,
    settings: GraderSettings,
) -> Forward:
    """The logits the trained weights are scored with (``trusted``: the reference's, computed here)."""
    if probe.kind == "reference":
        message = "logits computed by the grader: the reference ViT with your trained weights"
        return Forward(1.0, trusted, message, {"forward": "reference"})
    if probe.kind == "known_mistake":
        logits = module_logits(with_mistake(recipe, state, probe.mistake), images)
        message = f"logits computed by the grader: the reference ViT with your mistake ({probe.mistake.name})"
        return Forward(1.0, logits, message, {"forward": "known_mistake", "known_mistake": probe.mistake.id})
    return own_forward(ctx, recipe, state, images, probe.why, settings)


def own_forward(
    ctx: CheckContext, recipe: AccuracyRecipe, state: dict, images: torch.Tensor, why: str, settings: GraderSettings
) -> Forward:
    """The capped path: the ViT's own logits for the trained weights, from a fresh child (none if it fails)."""
    capped = f"{why}; worth at most {OWN_FORWARD_SHARE:.0%} of Q7, as the grader cannot verify it"
    details: dict[str, Any] = {"forward": "own", "own_forward_share": OWN_FORWARD_SHARE}
    limits = settings.limits.model_copy(update={"total_timeout_s": min(settings.limits.total_timeout_s, BUDGET_S)})
    try:
        placement = settings.sandbox_placement()
        with Sandbox(ctx.sandbox.module_source, device=ctx.device, limits=limits, seed=ctx.seed, **placement) as box:
            if box.import_error:
                raise ValueError(f"your module did not import in a fresh process: {box.import_error[:500]}")
            own = logits_in_child(box, recipe, state, images)
    except (SandboxError, ValueError) as error:
        return Forward(
            OWN_FORWARD_SHARE, None, f"{why}, and its own forward failed in a fresh process: {error}", details
        )
    return Forward(OWN_FORWARD_SHARE, own, f"logits computed by your own forward in a fresh process; {capped}", details)
