"""Whole sub-modules under another name: ``self.attention`` for ``self.attn``, ``self.transformer_blocks`` for
``self.blocks``, ``self.linear_mapper`` for a patch embedding's ``self.proj``.

``key_maps.find_renames`` renames one path component when every key below it lands on a contract key of the
same shape. A renamed module whose inside is laid out differently too (a fused ``qkv`` inside
``self.attention``, an ``nn.Sequential`` MLP inside ``self.feed_forward``) never passes that test, so the
module is matched first on its own: a student module and a contract module that are both unmatched, under the
same parent, with as many weight entries (every tensor of two or more axes) in total. The inside is then
mapped by the other finders, and the maths is still tested numerically, so a wrong match cannot earn points:
it only leaves the parameters unloadable, as they were.
"""

from math import prod

from grader.checks.key_maps import Shapes, close_names, fits

Path = tuple[str, ...]


def _modules(keys: Shapes, depth: int) -> set[Path]:
    """The sub-module paths of ``depth + 1`` components (paths with keys below them, not leaves)."""
    return {tuple(parts[: depth + 1]) for key in keys if len(parts := key.split(".")) > depth + 1}


def _weight_size(shapes: Shapes, path: Path) -> int:
    """How many weight entries (tensors of two or more axes) sit below ``path``."""
    n = len(path)
    return sum(prod(shape) for key, shape in shapes.items() if len(shape) >= 2 and tuple(key.split(".")[:n]) == path)


def _choose(options: dict[Path, list[Path]]) -> dict[Path, Path]:
    """One contract module per student module: unique candidates first, then by spelling, then by elimination."""
    chosen: dict[Path, Path] = {}
    for _ in range(len(options) + 1):
        progress = False
        for own, targets in sorted(options.items()):
            if own in chosen:
                continue
            free = [t for t in targets if t not in chosen.values()]
            if len(free) > 1:
                free = [t for t in free if close_names(own[-1], t[-1])]
            if len(free) == 1:
                chosen[own] = free[0]
                progress = True
        if not progress:
            break
    return chosen


def find_module_renames(expected: Shapes, got: Shapes) -> dict[str, str]:
    """Student key -> the key it has once its renamed modules carry the contract's names (top-down)."""
    current = dict(got)
    renamed = {key: key for key in got}
    depth = 0
    while depth < max((key.count(".") for key in current), default=0):
        theirs, ours = _modules(expected, depth), _modules(current, depth)
        options: dict[Path, list[Path]] = {}
        for own in ours - theirs:
            size = _weight_size(current, own)
            options[own] = [
                t
                for t in sorted(theirs - ours)
                if t[:-1] == own[:-1] and size > 0 and _weight_size(expected, t) == size
            ]
        chosen = _choose(options)
        for key in list(renamed):
            parts = renamed[key].split(".")
            target = chosen.get(tuple(parts[: depth + 1]))
            if target is not None:
                renamed[key] = ".".join(target + tuple(parts[depth + 1 :]))
        current = {renamed[key]: shape for key, shape in got.items()}
        depth += 1
    return {key: new for key, new in renamed.items() if new != key}


def find_inlined(expected: Shapes, got: Shapes) -> dict[str, str]:
    """A contract sub-module written inline in its parent (``self.fc1``, ``self.fc2`` in the block for the
    contract's ``self.mlp.fc1``, ``self.mlp.fc2``): student key -> contract key, when every key of a missing
    contract module, its own name dropped, is an unmatched student key of a shape that fits, claimed by no other
    missing module."""
    claims: dict[str, list[str]] = {}
    theirs_all = {
        path for depth in range(max((k.count(".") for k in expected), default=0)) for path in _modules(expected, depth)
    }
    ours_all = {
        path for depth in range(max((k.count(".") for k in got), default=0) + 1) for path in _modules(got, depth)
    }
    for module in sorted(theirs_all - ours_all):
        n = len(module)
        keys = [k for k in expected if tuple(k.split(".")[:n]) == module]
        inline = {k: ".".join(module[:-1] + tuple(k.split(".")[n:])) for k in keys}
        if all(own in got and own not in expected and fits(expected[k], got[own]) for k, own in inline.items()):
            for k, own in inline.items():
                claims.setdefault(own, []).append(k)
    return {own: keys[0] for own, keys in claims.items() if len(keys) == 1}
