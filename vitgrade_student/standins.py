"""The grader's trusted stand-ins for Q5 and Q6, from torch primitives: Q5 is checked with them in place of
your ``attn`` and ``mlp``, Q6 with them in place of your ``patch_embed`` and blocks, as the grader does.

They carry the contract's parameter names (so the reference weights load strictly) and compute only while
``place`` has armed them for one request: a stand-in your own code builds or grabs computes nothing, and a
module of yours that runs this file's code is refused. A stand-in's output refuses to be unpacked.
"""

import os
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - torch's own convention

ARMED: set[int] = set()


class Borrowed(RuntimeError):
    """A module of the submission runs the stand-ins' code where they were not placed."""


THIS_FILE = os.path.abspath(__file__)


class StandInOutput(torch.Tensor):
    """One tensor that refuses to be unpacked (a composite written for a tuple-returning sub-module fails)."""

    def __iter__(self):  # noqa: ANN204 - as torch.Tensor
        raise TypeError("the grader's stand-in returns one tensor, not a tuple: it cannot be unpacked")


def _guard(module: nn.Module) -> None:
    if id(module) not in ARMED:
        raise RuntimeError("this is the grader's stand-in module; graded code must be your own")


def stand_in_classes() -> dict[str, type[nn.Module]]:
    """The stand-in classes, defined afresh for each request: an instance your code kept or built from an earlier
    request's classes is never armed, and is refused where the kit did not place it."""

    class StandInAttention(nn.Module):
        """Q4, computed by torch's own multi-head attention (``F.multi_head_attention_forward``) on the contract's
        q, k, v and proj layers: no lab code of Q4 ships with the kit."""

        def __init__(self, embed_dim: int, num_heads: int = 1, *args: Any, **kwargs: Any):
            super().__init__()
            self.embed_dim, self.num_heads = embed_dim, num_heads
            self.q, self.k, self.v, self.proj = (nn.Linear(embed_dim, embed_dim) for _ in range(4))

        def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
            _guard(self)
            tokens = x.transpose(0, 1)  # (B, N, D) -> (N, B, D): torch's own attention takes the sequence first
            biases = torch.cat([self.q.bias, self.k.bias, self.v.bias])  # (3D,)
            out, _ = F.multi_head_attention_forward(
                tokens, tokens, tokens, self.embed_dim, self.num_heads, None, biases, None, None, False, 0.0,
                self.proj.weight, self.proj.bias, training=False, need_weights=False, use_separate_proj_weight=True,
                q_proj_weight=self.q.weight, k_proj_weight=self.k.weight, v_proj_weight=self.v.weight,
            )  # fmt: skip
            return out.transpose(0, 1).as_subclass(StandInOutput)  # (N, B, D) -> (B, N, D)

    class StandInMLP(nn.Module):
        """Q2: fc2(GELU(fc1(x)))."""

        def __init__(self, in_features: int, hidden_features: int, *args: Any, **kwargs: Any):
            super().__init__()
            self.fc1, self.act = nn.Linear(in_features, hidden_features), nn.GELU()
            self.fc2 = nn.Linear(hidden_features, in_features)

        def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
            _guard(self)
            return self.fc2(self.act(self.fc1(x))).as_subclass(StandInOutput)  # (B, N, D)

    class StandInPatchEmbedding(nn.Module):
        """Q1: Conv2d with kernel = stride = patch, (B, D, h, w) -> (B, N, D) row-major."""

        def __init__(self, img_size: int = 28, patch_size: int = 7, in_chans: int = 1, embed_dim: int = 64, *args: Any,
                     **kwargs: Any):  # fmt: skip
            super().__init__()
            self.img_size, self.patch_size = img_size, patch_size
            self.num_patches = (img_size // patch_size) ** 2
            self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

        def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
            _guard(self)
            out = self.proj(x).flatten(2).transpose(1, 2)  # (B, D, h, w) -> (B, D, N) -> (B, N, D)
            return out.as_subclass(StandInOutput)

    class StandInBlock(nn.Module):
        """Q5: x + attn(norm1(x)), then + mlp(norm2(.))."""

        def __init__(self, embed_dim: int, num_heads: int = 1, mlp_ratio: float = 4.0, *args: Any, **kwargs: Any):
            super().__init__()
            self.norm1, self.norm2 = nn.LayerNorm(embed_dim), nn.LayerNorm(embed_dim)
            self.attn = StandInAttention(embed_dim, num_heads)
            self.mlp = StandInMLP(embed_dim, int(embed_dim * mlp_ratio))

        def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
            _guard(self)
            mixed = x + self.attn(self.norm1(x))  # (B, N, D): the pre-norm residuals of q5.equivalence's hint
            return (mixed + self.mlp(self.norm2(mixed))).as_subclass(StandInOutput)  # (B, N, D)

    return {
        "attention": StandInAttention,
        "mlp": StandInMLP,
        "patch_embedding": StandInPatchEmbedding,
        "block": StandInBlock,
    }


KINDS = ("attention", "mlp", "patch_embedding", "block")


def _runs_this_file(module: nn.Module) -> bool:
    forwards = [vars(klass).get("forward") for klass in type(module).__mro__ if klass is not nn.Module]
    forwards.append(vars(module).get("forward"))
    for function in forwards:
        code = getattr(getattr(function, "__func__", function), "__code__", None)
        if code is not None and os.path.abspath(code.co_filename) == THIS_FILE:
            return True
    return False


@contextmanager
def bound(
    namespace: MutableMapping[str, Any], names: dict[str, str], classes: dict[str, type[nn.Module]]
) -> Iterator[None]:
    """``namespace`` with contract class names bound to stand-in ``classes`` while the composite is built."""
    saved = {name: namespace.get(name) for name in names}
    namespace.update({name: classes[kind] for name, kind in names.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def resolve(model: nn.Module, path: str, standin: type | None = None) -> list[tuple[nn.Module, str, str]]:
    """``(parent, attribute, full path)`` of each sub-module ``path`` names (``*``: every block). Where a name is
    missing (``self.attention`` for ``attn``), the one child built from the contract class bound to ``standin``
    (or the one container of only such children, before a ``*``) stands for it, as in the grader's child."""
    parts = path.split(".")
    level: list[tuple[str, nn.Module, Any, str]] = [("", model, None, "")]
    for i, part in enumerate(parts):
        found = []
        for prefix, module, _, _ in level:
            if part == "*":
                if not isinstance(module, nn.Sequential | nn.ModuleList) or len(module) == 0:
                    raise LookupError(
                        f"'{prefix}' is a {type(module).__name__}, not a non-empty nn.Sequential or nn.ModuleList"
                    )
                children = list(module.named_children())
            else:
                child = module._modules.get(part)
                if child is None and standin is not None:
                    container = i + 1 < len(parts) and parts[i + 1] == "*"
                    own = [(n, c) for n, c in module.named_children() if _built_as(c, standin, container)]
                    part, child = own[0] if len(own) == 1 else (part, None)
                if child is None:
                    raise LookupError(f"{repr(prefix) if prefix else 'the module'} has no sub-module named '{part}'")
                children = [(part, child)]
            found += [(f"{prefix}.{n}".lstrip("."), c, module, n) for n, c in children]
        level = found
    return [(parent, attr, full) for full, _, parent, attr in level]


def _built_as(module: nn.Module, standin: type, container: bool) -> bool:
    """``module`` is a stand-in built from a bound contract name (or, for a container, holds only those)."""
    if not container:
        return type(module) is standin
    return (
        isinstance(module, nn.Sequential | nn.ModuleList)
        and len(module) > 0
        and all(type(block) is standin for block in module)
    )


def place(
    model: nn.Module, paths: list[dict[str, Any]], classes: dict[str, type[nn.Module]], bound: bool = False
) -> tuple[list[str], dict[str, str]]:
    """Replace each path's sub-module by a fresh stand-in and arm this request's stand-ins (``classes``); refuse a
    module that runs this file's code elsewhere. Returns (placed paths, paths that name nothing)."""
    done, errors = [], {}
    for item in paths:
        try:
            targets = resolve(model, item["path"], classes[item["kind"]] if bound else None)
        except LookupError as error:
            errors[item["path"]] = str(error)
            continue
        for parent, attr, full in targets:
            setattr(parent, attr, classes[item["kind"]](**item.get("kwargs", {})))
            done.append(full)
    ARMED.update(id(sub) for sub in model.modules() if isinstance(sub, tuple(classes.values())))
    borrowed = [path or "(the module itself)" for path, sub in model.named_modules()
                if id(sub) not in ARMED and _runs_this_file(sub)]  # fmt: skip
    if borrowed:
        ARMED.clear()
        raise Borrowed(f"the module(s) at {borrowed} run the grader's stand-in code, not yours")
    return done, errors
