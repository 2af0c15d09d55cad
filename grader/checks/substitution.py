"""Each question graded on its own code: trusted stand-ins in place of a composite's sub-modules.

Q5 grades the block's wiring (norms, residuals, order) with the child's stand-in attention and MLP in
place of the student's ``attn`` and ``mlp``; Q6 grades the [CLS] token, positions, final norm and head
with stand-in ``patch_embed`` and blocks. The stand-ins live in the child's harness (built from torch
primitives, with the contract's parameter names, so the reference weights load strictly) and compute
only where the harness placed them. A ``Part`` is one replaceable sub-module and the question it belongs
to; the end-to-end checks use them to name which sub-question's module causes a difference.
"""

from dataclasses import dataclass
from typing import Any

# Stand-in kind -> the contract class name bound to it while the composite is built.
CONTRACT_NAMES = {
    "attention": "MultiHeadSelfAttention",
    "mlp": "MLP",
    "patch_embedding": "PatchEmbedding",
    "block": "TransformerBlock",
}
VIT_DEFAULTS = {"img_size": 28, "patch_size": 7, "in_chans": 1, "embed_dim": 64, "num_heads": 4, "mlp_ratio": 4.0}


@dataclass(frozen=True)
class Part:
    """A sub-module of a composite: its path (``*`` = every block), stand-in kind, question and name."""

    path: str
    kind: str
    question: str
    label: str


BLOCK_PARTS = (
    Part("attn", "attention", "Q4", "multi-head attention"),
    Part("mlp", "mlp", "Q2", "MLP"),
)
VIT_PARTS = (
    Part("patch_embed", "patch_embedding", "Q1", "patch embedding"),
    Part("blocks.*", "block", "Q5", "transformer blocks"),
)
VIT_INNER_PARTS = (
    Part("blocks.*.attn", "attention", "Q4", "multi-head attention"),
    Part("blocks.*.mlp", "mlp", "Q2", "MLP"),
)


def _standin_kwargs(kind: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments of a stand-in, from the composite's own kwargs (contract defaults filled in)."""
    config = {**VIT_DEFAULTS, **kwargs}
    d, ratio = config["embed_dim"], float(config["mlp_ratio"])
    if kind == "attention":
        return {"embed_dim": d, "num_heads": config["num_heads"]}
    if kind == "mlp":
        return {"in_features": d, "hidden_features": int(d * ratio)}
    if kind == "block":
        return {"embed_dim": d, "num_heads": config["num_heads"], "mlp_ratio": ratio}
    keys = ("img_size", "patch_size", "in_chans", "embed_dim")
    return {key: config[key] for key in keys}


def substitute(parts: tuple[Part, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The ``substitute`` argument of the child's forward op for ``parts`` of a composite built with ``kwargs``."""
    return {
        "names": {CONTRACT_NAMES[part.kind]: part.kind for part in parts},
        "paths": [{"path": p.path, "kind": p.kind, "kwargs": _standin_kwargs(p.kind, kwargs)} for p in parts],
    }


def block(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Q5: stand-in attention and MLP inside the student's TransformerBlock."""
    return substitute(BLOCK_PARTS, kwargs)


def vit(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Q6: stand-in patch embedding and blocks inside the student's ViT."""
    return substitute(VIT_PARTS, kwargs)


def fallback_note(errors: dict[str, str]) -> str:
    """What the details say when some sub-modules could not be replaced."""
    reasons = "; ".join(f"{path}: {why}" for path, why in sorted(errors.items()))
    return (
        f"the grader could not put its trusted sub-modules in place ({reasons}), so this check ran with your own "
        "sub-modules: a difference may come from them rather than from this question's code."
    )
