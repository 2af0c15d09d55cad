"""A reference fitted to the student's module: seeded weights, the student's parameter set and LayerNorm eps.

The parent builds the reference with seeded, deliberately non-default weights (LayerNorm affine
parameters, [CLS] and positional embeddings drawn at random, so that a swapped norm or a misplaced
token cannot hide behind an identity initialisation), then fits it to the student's module as built in
the child (``grader.checks.contract``: a missing bias graded as zero, another name graded under the
contract's; ``grader.checks.variants``: the student's LayerNorm eps).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from grader.checks import remote
from grader.checks.compare import fmt_config, fmt_shape
from grader.checks.context import CheckContext
from grader.checks.contract import StatePlan, fit_state, neutralise, plan_state
from grader.checks.registry import CheckFailed
from grader.checks.substitution import fallback_note
from grader.checks.variants import adapt_eps
from grader.diagnostics.state import state_hint

Substitute = Callable[[dict[str, Any]], dict[str, Any]] | None  # kwargs -> the child's substitute argument


@dataclass(frozen=True)
class Case:
    """One configuration: constructor kwargs and the input's shape."""

    kwargs: dict[str, Any]
    input_shape: tuple[int, ...]
    attributes: dict[str, Any] = field(default_factory=dict)  # expected attribute values, e.g. num_patches

    def config(self) -> dict[str, Any]:
        return {**self.kwargs, "input_shape": fmt_shape(self.input_shape)}


def seeded_reference(ctx: CheckContext, cls: type[nn.Module], kwargs: dict[str, Any], salt: str) -> nn.Module:
    """The reference ``cls(**kwargs)`` with weights drawn from the check's generator, in eval mode."""
    generator = ctx.generator(f"weights:{salt}")
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = cls(**kwargs)
    with torch.no_grad():
        for name, param in module.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            owner = module.get_submodule(name.rsplit(".", 1)[0]) if "." in name else module
            noise = torch.randn(param.shape, generator=generator)
            if isinstance(owner, nn.LayerNorm):
                param.copy_((1.0 if leaf == "weight" else 0.0) + 0.3 * noise)  # away from the identity
            elif leaf in ("cls_token", "pos_embed"):
                param.copy_(noise)  # as large as the patch tokens, so where they go matters
            elif leaf == "weight" and name.split(".")[-2:-1] in (["q"], ["k"]):
                param.mul_(2.0)  # sharper attention: a softmax over the wrong axis shows
    return module.eval()


@dataclass
class Prepared:
    """A reference fitted to the student's module: how its state maps, and what was accepted on the way."""

    plan: StatePlan
    probe: remote.Probe
    notes: list[str] = field(default_factory=list)
    substitute: dict[str, Any] | None = None

    def fit(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The reference's ``state`` on the student's keys, ready for a strict load."""
        return fit_state(state, self.plan, self.probe.own_state)

    @property
    def fell_back(self) -> bool:
        return bool(self.probe.substitution_errors)

    def details(self) -> dict[str, Any]:
        figures: dict[str, Any] = {}
        if self.notes:
            figures["notes"] = list(self.notes)
        if self.substitute is not None:
            figures["substituted"] = list(self.probe.substituted)
            if self.fell_back:
                figures["substitution_fallback"] = dict(self.probe.substitution_errors)
        return figures


def prepare(
    ctx: CheckContext,
    name: str,
    reference: nn.Module,
    kwargs: dict[str, Any],
    substitute: dict[str, Any] | None = None,
) -> Prepared:
    """Fit ``reference`` (in place) to the student's ``name(**kwargs)``: neutral values for the parameters it
    lacks, its LayerNorm eps; a parameter set that cannot be mapped fails here, in the lab's terms."""
    found = remote.probe(ctx, name, kwargs, substitute)
    plan = plan_state(reference, found.shapes, name)
    inside = norms_inside(ctx, name, reference, kwargs, plan, found) if substitute is not None else None
    if inside is not None:  # its own sub-modules carry the norms the stand-ins would drop
        found, substitute = inside
        plan = plan_state(reference, found.shapes, name)
    if not plan.gradable:
        expected = {key: tuple(shape) for key, shape in _shapes(reference).items()}
        named, known = state_hint(name, expected, found.shapes, kwargs)  # a known mistake that changes the parameters
        raise CheckFailed(
            f"{name}({fmt_config(kwargs)}): the grader cannot load the reference weights into your module "
            "(its state_dict does not match the contract): " + " ".join(plan.unresolved),
            hint=named
            or (
                "Use exactly the attribute names and layer types of the template (e.g. self.q, self.k, self.v, "
                "self.proj as nn.Linear(embed_dim, embed_dim)) so the reference weights load."
            ),
            details={
                "config": kwargs,
                "contract": plan.unresolved,
                "expected_keys": _shapes(reference),
                "known_mistakes": known,
            },
        )
    neutralise(reference, plan)
    notes = adapt_eps(reference, found.layer_norm_eps)
    if plan.differences:
        notes.append("graded on its maths despite parameters that differ from the contract: " + " ".join(
            plan.differences
        ))  # fmt: skip
    if substitute is not None and found.substitution_errors:
        notes.append(fallback_note(found.substitution_errors))
    if inside is not None:
        notes.append(NORMS_INSIDE_NOTE)
    return Prepared(plan, found, notes, substitute)


PRE_NORMS = {"TransformerBlock": ("norm1", "norm2")}  # the norms that feed a composite's replaced sub-modules
NORMS_INSIDE_NOTE = (
    "your module has no LayerNorm of its own where the contract has one, and its sub-modules hold LayerNorms "
    "(a pre-norm written inside the attention and MLP modules): graded with its own sub-modules, not the "
    "grader's stand-ins, so a difference may come from them."
)


def norms_inside(
    ctx: CheckContext, name: str, reference: nn.Module, kwargs: dict[str, Any], plan: StatePlan, found: remote.Probe
) -> tuple[remote.Probe, None] | None:
    """(the probe of the student's own module, no substitution) when the block lacks the pre-norms that feed its
    attention and MLP and the sub-modules the stand-ins replaced hold LayerNorms of their own (lucidrains'
    PreNorm, an attention "block" that normalises its input); None otherwise."""
    lacks = [key for key in plan.neutral if key.rpartition(".")[0] in PRE_NORMS.get(name, ())]
    if not lacks or not found.substituted:
        return None
    own = remote.probe(ctx, name, kwargs)
    placed = tuple(f"{path}." for path in found.substituted)
    return (own, None) if any(path.startswith(placed) for path in own.layer_norm_eps) else None


def _shapes(module: nn.Module) -> dict[str, list[int]]:
    return {key: list(value.shape) for key, value in module.state_dict().items()}


def prepared_reference(
    ctx: CheckContext, name: str, cls: type[nn.Module], kwargs: dict[str, Any], salt: str, substitute: Substitute = None
) -> tuple[nn.Module, Prepared]:
    """``seeded_reference`` fitted to the student's module (see ``prepare``)."""
    reference = seeded_reference(ctx, cls, kwargs, salt)
    sub = substitute(kwargs) if substitute else None
    return reference, prepare(ctx, name, reference, kwargs, sub)


def outputs_of(module: nn.Module, x: torch.Tensor, grad_output: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(output, input gradient) of ``module`` on ``x`` for ``grad_output``."""
    x = x.clone().requires_grad_(True)
    output = module(x)
    output.backward(grad_output)
    return output.detach(), x.grad.detach()


def reference_outputs(
    reference: nn.Module, x: torch.Tensor, ctx: CheckContext, salt: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(output, grad_output, input gradient) of the reference, on CPU in float32."""
    x = x.clone().requires_grad_(True)
    output = reference(x)
    grad_output = ctx.randn(*output.shape, salt=f"grad:{salt}")
    output.backward(grad_output)
    return output.detach(), grad_output, x.grad.detach()
