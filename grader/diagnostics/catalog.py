"""The catalogue of known mistakes: what each one is, which reference class it alters, how to fix it.

A module mistake is a subclass of a reference class that overrides ``forward`` (or a helper) and adds
no parameter, so it loads the very same state_dict as the reference (``variant(**kwargs)
.load_state_dict(reference.state_dict(), strict=True)``). ``with_mistakes`` applies mistakes to a copy
of any reference module tree by swapping the class of every instance of the target: a ViT whose
attention lacks the 1/sqrt(d_h) scaling is the reference ViT with each ``MultiHeadSelfAttention``
swapped for its no-scaling variant. A function mistake replaces ``sinusoidal_positional_encoding``.
"""

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Mistake:
    """One known mistake, recognisable by reproducing it on the reference's weights and inputs."""

    id: str  # stable, e.g. "q4.no_scaling"
    question: str  # "Q1".."Q6": where the mistake lives
    name: str  # short noun phrase: "no 1/sqrt(d_h) scaling of the attention scores"
    hint: str  # what the student probably did and how to fix it
    target: type[nn.Module] | None = None  # the reference class it alters (module mistakes)
    variant: type[nn.Module] | None = None  # subclass of target with the mistake, same parameters
    function: Callable[[int, int], torch.Tensor] | None = None  # (num_tokens, embed_dim) -> table

    def applies_to(self, module: nn.Module) -> bool:
        """True when ``module`` contains an instance of exactly the target class."""
        return self.target is not None and any(type(m) is self.target for m in module.modules())


MISTAKES: dict[str, Mistake] = {}


def register(*mistakes: Mistake) -> None:
    """Add mistakes to the catalogue (ids are unique; a module mistake's variant subclasses its target)."""
    for mistake in mistakes:
        if mistake.id in MISTAKES:
            raise ValueError(f"Duplicate mistake id {mistake.id!r}.")
        if mistake.target is not None and (mistake.variant is None or not issubclass(mistake.variant, mistake.target)):
            raise TypeError(f"Mistake {mistake.id!r}: variant must subclass {mistake.target!r}.")
        MISTAKES[mistake.id] = mistake


def applicable(module: nn.Module) -> list[Mistake]:
    """The module mistakes that can be reproduced inside ``module`` (its own class or any sub-module's)."""
    return [m for m in MISTAKES.values() if m.applies_to(module)]


def for_function() -> list[Mistake]:
    """The mistakes of ``sinusoidal_positional_encoding``."""
    return [m for m in MISTAKES.values() if m.function is not None]


def with_mistakes(module: nn.Module, mistakes: Iterable[Mistake]) -> nn.Module:
    """A deep copy of ``module`` where every instance of each mistake's target runs the variant's code."""
    variant = copy.deepcopy(module)
    for mistake in mistakes:
        for sub in variant.modules():
            if type(sub) is mistake.target:
                sub.__class__ = mistake.variant
    return variant
