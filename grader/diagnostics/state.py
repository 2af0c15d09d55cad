"""Known mistakes recognised from the state_dict's keys and shapes, before any output can be compared.

Some mistakes change the parameters, so the reference's weights cannot load and no output variant can
be tried: a ViT whose ``pos_embed`` has N rows ([CLS] gets no position), an attention without ``proj``,
per-head q/k/v layers of shape (d_h, d_h) that see only their head's slice of the input. Each rule
names the same catalogue entry as the output variant of that mistake. The criterion is structural and
strict: the shapes the mistake produces, and no other explanation in the keys (e.g. a projection
under another name is a naming problem, not a missing projection).
"""

from collections.abc import Callable
from typing import Any

from grader.diagnostics.catalog import MISTAKES, Mistake

Shapes = dict[str, tuple[int, ...]]


def _pos_embed_without_cls(expected: Shapes, got: Shapes, config: dict[str, Any]) -> bool:
    """pos_embed of (1, N, D) (or (N, D)) where the contract has (1, N + 1, D)."""
    want, have = expected.get("pos_embed"), got.get("pos_embed")
    if want is None or have is None or len(want) != 3:
        return False
    _, rows, dim = want
    return tuple(have) in ((1, rows - 1, dim), (rows - 1, dim))


def _no_projection(expected: Shapes, got: Shapes, config: dict[str, Any]) -> bool:
    """proj.weight and proj.bias missing, and no other (D, D) matrix besides q, k and v that could be it."""
    if "proj.weight" not in expected or "proj.weight" in got:
        return False
    square = tuple(expected["proj.weight"])
    others = [k for k, s in got.items() if tuple(s) == square and k not in ("q.weight", "k.weight", "v.weight")]
    return not others


def _block_diagonal(expected: Shapes, got: Shapes, config: dict[str, Any]) -> bool:
    """At least one (d_h, d_h) matrix per head for each of q, k and v, and no q.weight of (D, D)."""
    heads, dim = config.get("num_heads"), config.get("embed_dim")
    if not isinstance(heads, int) or not isinstance(dim, int) or heads < 2 or dim % heads:
        return False
    block = (dim // heads, dim // heads)
    per_head = [k for k, s in got.items() if tuple(s) == block and k.endswith("weight")]
    return tuple(got.get("q.weight", ())) != (dim, dim) and len(per_head) >= 3 * heads


RULES: dict[str, tuple[str, Callable[[Shapes, Shapes, dict[str, Any]], bool]]] = {
    # catalogue id -> (the class whose state it reads, the rule)
    "q6.pos_embed_patches_only": ("ViT", _pos_embed_without_cls),
    "q3.no_projection": ("SelfAttention", _no_projection),
    "q4.no_projection": ("MultiHeadSelfAttention", _no_projection),
    "q4.block_diagonal_projections": ("MultiHeadSelfAttention", _block_diagonal),
}
WHY = {
    "q6.pos_embed_patches_only": "pos_embed has N rows instead of N + 1, so the [CLS] token gets no position",
    "q3.no_projection": "there is no proj layer",
    "q4.no_projection": "there is no proj layer",
    "q4.block_diagonal_projections": "q, k and v are per-head (d_h, d_h) layers",
}


def diagnose_state(class_name: str, expected: Shapes, got: Shapes, config: dict[str, Any]) -> list[Mistake]:
    """The catalogue mistakes whose parameter layout ``got`` shows, for the contract class ``class_name``."""
    return [
        MISTAKES[mistake_id]
        for mistake_id, (owner, rule) in RULES.items()
        if owner == class_name and rule(expected, got, config)
    ]


def state_hint(class_name: str, expected: Shapes, got: Shapes, config: dict[str, Any]) -> tuple[str, list[list[str]]]:
    """``("It looks like <mistake> (Q6): <why>. <hint>", [[id]])``, or ``("", [])`` when no rule applies."""
    found = diagnose_state(class_name, expected, got, config)
    if not found:
        return "", []
    text = " ".join(f"It looks like {m.name} ({m.question}): {WHY[m.id]}. {m.hint}" for m in found)
    return text, [[m.id] for m in found]
