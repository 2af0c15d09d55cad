"""Q5's block written as residual wrappers, each holding a pre-norm and a sub-module.

Public ViT code often builds the block as ``nn.Sequential(ResidualAdd(nn.Sequential(nn.LayerNorm(D), MSA)),
ResidualAdd(nn.Sequential(nn.LayerNorm(D), MLP)))`` (keys ``0.fn.0.weight``, ``0.fn.1.q.weight``,
``1.fn.0.weight``, ``1.fn.1.fc1.weight``) or as ``Residual(PreNorm(D, MSA))`` (``0.fn.norm.weight``,
``0.fn.fn.q.weight``), where the contract names the same layers ``norm1``, ``attn``, ``norm2``, ``mlp``.

A wrapper is a student module, outside the contract's names, that holds exactly one module (``fn``, ``module``,
``layer``, ``block``...) which holds exactly two parameterised modules: a norm (1-D weight and/or bias only) and
another module. The contract's pairs are its norms each followed by a module (``norm1, attn``, ``norm2, mlp``).
A wrapper takes the pair whose module has its sub-module's key names and shapes (``q.weight``... for ``attn``);
failing that the wrappers, in the order the student defines them, take the pairs in the contract's order when
every norm has the contract norm's shapes and every module as many weight entries as the contract's; otherwise
each wrapper takes the one pair it fits, or nothing maps. Only names are mapped: the residual, the norm's place
(before or after the sub-module) and everything else is graded numerically with the reference's weights, so a
wrapper that drops the residual or normalises after adding still loses the block's maths.
"""

from grader.checks.key_maps import Shapes
from grader.checks.module_renames import _weight_size

Path = tuple[str, ...]
Pair = tuple[Path, Path]  # (the norm's path, the sub-module's path)


def _children(keys: Shapes, prefix: Path) -> dict[str, Shapes]:
    """Child module name -> {key below it, relative: shape}, in the order the keys come (definition order)."""
    n = len(prefix)
    found: dict[str, Shapes] = {}
    for key, shape in keys.items():
        parts = tuple(key.split("."))
        if len(parts) > n + 1 and parts[:n] == prefix:
            found.setdefault(parts[n], {})[".".join(parts[n + 1 :])] = shape
    return found


def _is_norm(leaves: Shapes) -> bool:
    """A LayerNorm's parameters: ``weight`` and/or ``bias``, 1-D, of one size."""
    return (
        bool(leaves)
        and set(leaves) <= {"weight", "bias"}
        and len({tuple(s) for s in leaves.values()}) == 1
        and (all(len(s) == 1 for s in leaves.values()))
    )


def _contract_pairs(expected: Shapes, prefix: Path) -> list[Pair]:
    """The contract's norms each directly followed by a module, at ``prefix`` (``norm1, attn``; ``norm2, mlp``)."""
    children = _children(expected, prefix)
    names = list(children)
    return [
        (prefix + (a,), prefix + (b,))
        for a, b in zip(names, names[1:], strict=False)
        if _is_norm(children[a]) and not _is_norm(children[b])
    ]


def _wrapped_pair(got: Shapes, wrapper: Path) -> Pair | None:
    """(norm, sub-module) inside ``wrapper``: one held module with exactly two parameterised modules, one a norm."""
    held = _children(got, wrapper)
    if len(held) != 1:
        return None
    inner = wrapper + (next(iter(held)),)
    layers = _children(got, inner)
    if any("." not in key for key in held[inner[-1]]):  # a parameter of the held module itself: not a container
        return None
    norms = [name for name, leaves in layers.items() if _is_norm(leaves)]
    others = [name for name in layers if name not in norms]
    if len(layers) != 2 or len(norms) != 1 or len(others) != 1:
        return None
    return inner + (norms[0],), inner + (others[0],)


def _fits(got: Shapes, expected: Shapes, own: Pair, theirs: Pair) -> bool:
    """The norm has the contract norm's shapes and the module as many weight entries as the contract's."""
    norm_own, norm_theirs = _children(got, own[0][:-1])[own[0][-1]], _children(expected, theirs[0][:-1])[theirs[0][-1]]
    same_norm = all(tuple(norm_theirs.get(leaf, ())) == tuple(shape) for leaf, shape in norm_own.items())
    size = _weight_size(got, own[1])
    return same_norm and size > 0 and size == _weight_size(expected, theirs[1])


def _relative(keys: Shapes, path: Path) -> Shapes:
    """{key below ``path``, relative: shape}."""
    n = len(path)
    return {".".join(p[n:]): shape for key, shape in keys.items() if (p := tuple(key.split(".")))[:n] == path}


def _assign(got: Shapes, expected: Shapes, own: list[Pair], theirs: list[Pair]) -> list[tuple[Pair, Pair]]:
    """Wrappers to contract pairs: by the sub-modules' own key names and shapes when they settle every wrapper,
    else in order when all fit, else each to the one pair it fits, else none."""
    named = {o: [t for t in theirs if _relative(got, o[1]) == _relative(expected, t[1])] for o in own}
    if all(len(ts) == 1 for ts in named.values()) and len({ts[0] for ts in named.values()}) == len(own):
        pairs = [(o, ts[0]) for o, ts in named.items()]
        if all(_fits(got, expected, o, t) for o, t in pairs):
            return pairs
    if len(own) == len(theirs) and all(_fits(got, expected, o, t) for o, t in zip(own, theirs, strict=True)):
        return list(zip(own, theirs, strict=True))
    options = {o: [t for t in theirs if _fits(got, expected, o, t)] for o in own}
    chosen = [(o, ts[0]) for o, ts in options.items() if len(ts) == 1]
    targets = [t for _, t in chosen]
    return chosen if chosen and len(targets) == len(set(targets)) and len(chosen) == len(own) else []


def _mapping(got: Shapes, pairs: list[tuple[Pair, Pair]]) -> dict[str, str]:
    """Student key -> the contract's key, for every key below the mapped norms and modules."""
    mapped: dict[str, str] = {}
    for own, theirs in pairs:
        for source, target in zip(own, theirs, strict=True):
            n = len(source)
            for key in got:
                parts = tuple(key.split("."))
                if parts[:n] == source and len(parts) > n:
                    mapped[key] = ".".join(target + parts[n:])
    return mapped


def find_residual_wrappers(expected: Shapes, got: Shapes) -> dict[str, str]:
    """Student key -> contract key for blocks written as residual wrappers (see the module's docstring), at every
    prefix where the contract has (norm, module) pairs that the student lacks."""
    prefixes = {tuple(key.split("."))[:depth] for key in expected for depth in range(key.count(".") + 1)}
    mapped: dict[str, str] = {}
    for prefix in sorted(prefixes):
        theirs = [
            pair
            for pair in _contract_pairs(expected, prefix)
            if not any(tuple(k.split("."))[: len(prefix) + 1] in pair for k in got)  # the student lacks both
        ]
        if not theirs:
            continue
        contract_names = set(_children(expected, prefix))
        own = [
            pair
            for name in _children(got, prefix)
            if name not in contract_names and (pair := _wrapped_pair(got, prefix + (name,))) is not None
        ]
        mapped.update(_mapping(got, _assign(got, expected, own, theirs)))
    return mapped
