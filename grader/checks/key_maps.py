"""Mapping a student's parameter names onto the contract's: renamed sub-modules, a fused qkv, per-head layers.

Each finder returns how the student's keys hold the contract's (``grader.checks.contract`` turns that into a
plan, explained in the lab's terms). Shapes must agree exactly; where a name is ambiguous the mapping is
settled by spelling (``query`` is ``q``) or not made at all, so a mapping never credits different maths.
"""

Shapes = dict[str, tuple[int, ...]]


def close_names(a: str, b: str) -> bool:
    """``query`` and ``q``, ``attention`` and ``attn``, ``projection`` and ``proj``: one starts the other."""
    return a.startswith(b) or b.startswith(a) or (a[:1] == b[:1] and a[-1:] == b[-1:])


def find_renames(expected: Shapes, got: Shapes) -> dict[tuple[int, str, str], dict[str, str]]:
    """Sub-modules the student named differently: ``(position, student name, contract name) -> {student key:
    contract key}`` for a name at one position of the dotted path whose every key, renamed, is a missing
    contract key of the same shape. Ambiguous names (``query`` could be q, k or v by shape) are settled by
    similar spelling, then by elimination."""
    missing = set(expected) - set(got)
    unexpected = set(got) - set(expected)
    candidates: dict[tuple[int, str], set[str]] = {}
    for u in unexpected:
        for k in missing:
            a, b = u.split("."), k.split(".")
            diff = [i for i in range(len(a)) if len(a) == len(b) and a[i] != b[i]]
            if len(diff) == 1 and fits_key(k, expected[k], got[u]):
                candidates.setdefault((diff[0], a[diff[0]]), set()).add(b[diff[0]])

    def mapping(pos: int, old: str, new: str) -> dict[str, str] | None:
        keys = {
            u: ".".join(p[:pos] + [new] + p[pos + 1 :])
            for u in unexpected
            if len(p := u.split(".")) > pos and p[pos] == old
        }
        ok = keys and all(k in missing and fits_key(k, expected[k], got[u]) for u, k in keys.items())
        return keys if ok else None

    options = {key: [new for new in sorted(news) if mapping(key[0], key[1], new)] for key, news in candidates.items()}
    chosen: dict[tuple[int, str, str], dict[str, str]] = {}
    taken: set[tuple[int, str]] = set()
    for _ in range(len(options) + 1):
        progress = False
        for (pos, old), news in sorted(options.items()):
            free = [new for new in news if (pos, new) not in taken]
            if len(free) > 1:
                free = [new for new in free if close_names(old, new)]
            if len(free) == 1 and not any(c[:2] == (pos, old) for c in chosen):
                chosen[(pos, old, free[0])] = mapping(pos, old, free[0]) or {}
                taken.add((pos, free[0]))
                progress = True
        if not progress:
            break
    return chosen


def find_fused(expected: Shapes, got: Shapes) -> dict[str, list[str]]:
    """A fused ``qkv`` linear layer: the student key whose rows stack the contract's q, k and v (weight, bias)."""
    fused: dict[str, list[str]] = {}
    unexpected = set(got) - set(expected)
    for key in expected:
        if not key.endswith("q.weight") or key in got:
            continue
        prefix = key[: -len("q.weight")]
        parts = [f"{prefix}{n}.weight" for n in "qkv"]
        if any(part in got or part not in expected for part in parts):
            continue
        rows, columns = expected[key]
        depth = key.count(".")
        found = [
            u
            for u in unexpected
            if u.startswith(prefix)
            and u.endswith(".weight")
            and u.count(".") == depth
            and got[u] == (3 * rows, columns)
        ]
        if len(found) != 1:
            continue
        fused[found[0]] = parts
        bias, bias_parts = found[0][: -len("weight")] + "bias", [f"{prefix}{n}.bias" for n in "qkv"]
        if bias in unexpected and got[bias] == (3 * rows,) and all(p in expected and p not in got for p in bias_parts):
            fused[bias] = bias_parts
    return fused


def find_split(expected: Shapes, got: Shapes) -> dict[str, tuple[str, int, int]]:
    """Per-head layers: ``{list}.{i}.{name}.{leaf}`` keys (i = 0..h-1) whose rows, in order, are the rows of the
    missing contract key ``{name}.{leaf}`` at the same prefix: student key -> (contract key, start, stop)."""
    split: dict[str, tuple[str, int, int]] = {}
    unexpected = sorted(set(got) - set(expected))
    for key in sorted(set(expected) - set(got)):
        parts = key.split(".")
        if len(parts) < 2 or not expected[key]:
            continue
        prefix, name, leaf = parts[:-2], parts[-2], parts[-1]
        groups: dict[tuple[str, str], dict[int, str]] = {}
        for u in unexpected:
            up = u.split(".")
            if len(up) != len(prefix) + 4 or up[: len(prefix)] != prefix or up[-1] != leaf:
                continue
            listed, index, own_name = up[len(prefix)], up[len(prefix) + 1], up[len(prefix) + 2]
            if index.isdigit() and close_names(own_name, name) and tuple(got[u][1:]) == tuple(expected[key][1:]):
                groups.setdefault((listed, own_name), {})[int(index)] = u
        for members in groups.values():
            order = [members[i] for i in sorted(members)]
            rows = [got[u][0] for u in order]
            if sorted(members) != list(range(len(members))) or len(order) < 1 or sum(rows) != expected[key][0]:
                continue
            start = 0
            for u, count in zip(order, rows, strict=True):
                split[u] = (key, start, start + count)
                start += count
            break
    return split


def is_flattened(expected: tuple[int, ...], got: tuple[int, ...]) -> bool:
    """A layer whose weight is the contract's with every axis after the first flattened: an nn.Linear(C*p*p, D)
    of (D, C*p*p) where the contract has an nn.Conv2d(C, D, kernel_size=p, stride=p) of (D, C, p, p)."""
    tail = 1
    for size in expected[1:]:
        tail *= size
    return len(expected) > 2 and len(got) == 2 and tuple(got) == (expected[0], tail)


def is_unit_reshape(expected: tuple[int, ...], got: tuple[int, ...]) -> bool:
    """The contract's tensor with axes of size 1 dropped or added: a ``cls_token`` of (1, D) for (1, 1, D), a
    positional table of (N + 1, D) for (1, N + 1, D)."""
    return tuple(got) != tuple(expected) and [d for d in got if d != 1] == [d for d in expected if d != 1]


def is_without_cls_row(expected: tuple[int, ...], got: tuple[int, ...]) -> bool:
    """A positional table of N rows where the contract's has N + 1 ((1, N, D) or (N, D) for (1, N + 1, D)): the
    [CLS] token gets no position, a known mistake graded on the patches' rows."""
    e, g = [d for d in expected if d != 1], [d for d in got if d != 1]
    return len(e) == len(g) == 2 and g[1] == e[1] and g[0] == e[0] - 1


def fits_key(key: str, expected: tuple[int, ...], got: tuple[int, ...]) -> bool:
    """``fits``, and for the contract's ``pos_embed`` also a table without the [CLS] row."""
    return fits(expected, got) or (key.rpartition(".")[2] == "pos_embed" and is_without_cls_row(expected, got))


def fits(expected: tuple[int, ...], got: tuple[int, ...]) -> bool:
    """The student's tensor can hold the contract's: the same shape, a Conv2d weight flattened (``is_flattened``),
    or the same values with other axes of size 1 (``is_unit_reshape``)."""
    expected, got = tuple(expected), tuple(got)
    return got == expected or is_flattened(expected, got) or is_unit_reshape(expected, got)


def _same_leaves(wanted: dict[str, tuple[int, ...]], got: dict[str, tuple[int, ...]]) -> bool:
    return set(wanted) == set(got) and all(fits(wanted[leaf], got[leaf]) for leaf in wanted)


def _aligned(
    order: list[dict[str, tuple[int, ...]]], names: list[str], wanted: dict[str, dict[str, tuple[int, ...]]]
) -> list[tuple[int, str]] | None:
    """(position in ``order``, contract name) pairs where one list is a contiguous run of the other, layer by layer
    with the same leaves and shapes, at exactly one offset; None otherwise. Layers of the Sequential left over
    may only be norms (1-D parameters): another Linear is not the contract's layer set."""
    short, long = (order, names) if len(order) <= len(names) else (names, order)
    found = []
    for offset in range(len(long) - len(short) + 1):
        if len(order) <= len(names):
            pairs = [(j, names[offset + j]) for j in range(len(order))]
        else:
            pairs = [(offset + j, name) for j, name in enumerate(names)]
        rest = [order[j] for j in set(range(len(order))) - {j for j, _ in pairs}]
        norms_only = all(len(shape) == 1 for layer in rest for shape in layer.values())  # extra LayerNorms only
        if pairs and norms_only and all(_same_leaves(wanted[name], order[j]) for j, name in pairs):
            found.append(pairs)
    return found[0] if len(found) == 1 else None


def find_sequential(expected: Shapes, got: Shapes) -> dict[str, str]:
    """Layers held in an nn.Sequential (``net.0``, ``net.2``) where the contract names them (``fc1``, ``fc2``):
    student key -> contract key. At one prefix, the Sequential's parameterised layers, in index order, must have
    the leaves and shapes of the contract's missing layers, in the contract's order, one list being a contiguous
    run of the other (a classifier ``nn.Sequential(nn.LayerNorm, nn.Linear)`` is the contract's norm and head; a
    ``nn.Sequential(nn.LayerNorm, nn.Linear, nn.GELU, nn.Linear)`` MLP keeps its LayerNorm as an extra layer)."""
    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    mapped: dict[str, str] = {}
    prefixes = {tuple(k.split(".")[:-3]) for k in unexpected if len(k.split(".")) >= 3}
    for prefix in sorted(prefixes):
        depth = len(prefix)
        layers: dict[str, dict[int, dict[str, tuple[int, ...]]]] = {}
        for k in unexpected:
            parts = k.split(".")
            if len(parts) == depth + 3 and tuple(parts[:depth]) == prefix and parts[depth + 1].isdigit():
                layers.setdefault(parts[depth], {}).setdefault(int(parts[depth + 1]), {})[parts[-1]] = got[k]
        wanted: dict[str, dict[str, tuple[int, ...]]] = {}
        for k in missing:
            parts = k.split(".")
            if len(parts) == depth + 2 and tuple(parts[:depth]) == prefix:
                wanted.setdefault(parts[depth], {})[parts[-1]] = expected[k]
        for sequence, indexed in sorted(layers.items()):
            order = [indexed[i] for i in sorted(indexed)]
            pairs = _aligned(order, list(wanted), wanted)
            if pairs is None:
                continue
            base = ".".join(prefix + (sequence,))
            for position, name in pairs:
                i = sorted(indexed)[position]
                for leaf in indexed[i]:
                    mapped[f"{base}.{i}.{leaf}"] = ".".join(prefix + (name, leaf))
            break
    return mapped


ENCODER_LAYER_NAMES = (("linear1", "mlp.fc1"), ("linear2", "mlp.fc2"), ("norm1", "norm1"), ("norm2", "norm2"))


def _library_attention_prefix(expected: Shapes, got: Shapes, own: str) -> str | None:
    """The contract prefix (``attn.``, ``blocks.0.attn.``) whose q, k, v and proj an nn.MultiheadAttention at
    ``own`` (``attn.mha.``, ``blocks.0.layer.self_attn.``) holds: the nearest enclosing one, itself or its
    ``attn`` child, where all four are missing with the shapes the library's in_proj_weight implies."""
    parts = own.rstrip(".").split(".")
    rows, columns = got[own + "in_proj_weight"]
    for depth in range(len(parts), -1, -1):
        base = ".".join(parts[:depth]) + "." if depth else ""
        for prefix in (base, base + "attn."):
            keys = [f"{prefix}{name}.weight" for name in ("q", "k", "v", "proj")]
            if all(k in expected and k not in got and expected[k] == (columns, columns) for k in keys):
                return prefix if rows == 3 * columns else None
    return None


def find_library(expected: Shapes, got: Shapes) -> tuple[dict[str, str], dict[str, list[str]]]:
    """torch.nn library modules under their own parameter names: an nn.MultiheadAttention's ``in_proj_weight``
    (q, k, v stacked) and ``out_proj`` are the contract's q, k, v and proj; an nn.TransformerEncoderLayer's
    ``linear1``, ``linear2``, ``norm1``, ``norm2`` are the block's mlp.fc1, mlp.fc2, norm1, norm2.
    (renamed: student key -> contract key, fused: student key -> contract keys stacked in it)."""
    renamed: dict[str, str] = {}
    fused: dict[str, list[str]] = {}
    for key in sorted(got):
        if not key.endswith("in_proj_weight") or key in expected:
            continue
        own = key[: -len("in_proj_weight")]
        prefix = _library_attention_prefix(expected, got, own)
        if prefix is None:
            continue
        fused[key] = [f"{prefix}{name}.weight" for name in "qkv"]
        if own + "in_proj_bias" in got:
            fused[own + "in_proj_bias"] = [f"{prefix}{name}.bias" for name in "qkv"]
        pairs = {f"{own}out_proj.{leaf}": f"{prefix}proj.{leaf}" for leaf in ("weight", "bias")}
        if own.endswith("self_attn.") and prefix.endswith("attn."):  # an nn.TransformerEncoderLayer
            layer, block = own[: -len("self_attn.")], prefix[: -len("attn.")]
            for mine, theirs in ENCODER_LAYER_NAMES:
                pairs.update({f"{layer}{mine}.{leaf}": f"{block}{theirs}.{leaf}" for leaf in ("weight", "bias")})
        renamed.update(
            {
                mine: theirs
                for mine, theirs in pairs.items()
                if mine in got and theirs in expected and theirs not in got and got[mine] == expected[theirs]
            }
        )
    return renamed, fused
