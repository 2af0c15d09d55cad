"""Q8: ``vit_small_for_mnist`` is timm's ViT-S/16 adapted to 1x28x28 MNIST, and loads pretrained weights.

The parent makes the "pretrained" checkpoint itself (no hub here): a seeded random ViT-S/16 saved as
safetensors, cached in the cache dir. The child loads it through the student's function; the parent
computes what timm's adaptation must give and compares:
pos_embed = resample_abs_pos_embed(ckpt.pos_embed, new_size=[7, 7], num_prefix_tokens=1)   (1, 50, 384)
patch_weight = adapt_input_conv(1, resample_patch_embed(ckpt.patch_embed.proj.weight, [4, 4]))  (384, 1, 4, 4)
"""

import weakref
from functools import lru_cache
from pathlib import Path
from typing import Any

import timm
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from timm.layers import resample_abs_pos_embed, resample_patch_embed
from timm.models import adapt_input_conv

from grader.cache import write_atomically
from grader.checks.compare import require_tensor
from grader.checks.context import CheckContext
from grader.checks.registry import CheckFailed, check

TIMM_NAME = "vit_small_patch16_224"
CHECKPOINT_SEED = 8  # the checkpoint's own seed: one cached file for every grading seed
EXPECTED = {"embed_dim": 384, "depth": 12, "num_heads": 6, "num_classes": 10}
GRID = [7, 7]  # 28 / patch 4
PATCH = [4, 4]
ATOL, RTOL = 1e-5, 1e-4  # float32 resampling of the same weights; looser on CUDA below
BATCH = 3
HINT = (
    "Build it with timm.create_model('vit_small_patch16_224', img_size=28, in_chans=1, num_classes=10, "
    "patch_size=4, pretrained=..., pretrained_cfg_overlay=dict(file=weights_file)) so timm adapts the weights."
)
_unpretrained: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def checkpoint_path(cache_dir: Path) -> Path:
    """The cached test checkpoint (named by timm's version: a new timm may initialise differently)."""
    return Path(cache_dir) / "q8" / f"{TIMM_NAME}-seed{CHECKPOINT_SEED}-timm{timm.__version__}.safetensors"


def checkpoint_bytes(cache_dir: Path) -> bytes:
    """A seeded random ViT-S/16 state dict as safetensors bytes, created once (a few seconds) and cached."""
    path = checkpoint_path(cache_dir)
    if path.is_file():
        return path.read_bytes()
    with torch.random.fork_rng(devices=[]):  # the grader's own RNG state is left as it was
        torch.manual_seed(CHECKPOINT_SEED)
        model = timm.create_model(TIMM_NAME, pretrained=False)
    data = save_tensors({key: value.contiguous() for key, value in model.state_dict().items()})
    write_atomically(path, data)
    return data


@lru_cache(maxsize=2)
def expected_adaptation(cache_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """What timm's loader must make of the checkpoint for MNIST: (pos_embed, patch_weight)."""
    state = load_tensors(checkpoint_bytes(cache_dir))
    pos_embed = resample_abs_pos_embed(state["pos_embed"], new_size=GRID, num_prefix_tokens=1)  # (1, 50, 384)
    weight = adapt_input_conv(1, resample_patch_embed(state["patch_embed.proj.weight"], PATCH))  # (384, 1, 4, 4)
    return pos_embed, weight


def timm_reply(ctx: CheckContext, kwargs: dict[str, Any], x: torch.Tensor):
    """The ``timm`` op: the student's model built with ``kwargs`` and run on ``x``."""
    return ctx.sandbox.request("timm", {"kwargs": kwargs}, tensors={"input": x})


def unpretrained(ctx: CheckContext):
    """One ``vit_small_for_mnist()`` reply per sandbox, shared by q8.structure and q8.forward (ViT-S is slow)."""
    if ctx.sandbox not in _unpretrained:
        x = torch.randn(BATCH, 1, 28, 28, generator=ctx.generator("q8-input"))
        _unpretrained[ctx.sandbox] = (x, timm_reply(ctx, {}, x))
    return _unpretrained[ctx.sandbox]


@check("q8.structure", question="Q8", category="shape")
def structure(ctx: CheckContext) -> None:
    """vit_small_for_mnist() is a ViT-S: embed 384, depth 12, 6 heads, 10 classes."""
    _, reply = unpretrained(ctx)
    got = {key: reply.values.get(key) for key in EXPECTED}
    wrong = {key: f"expected {value}, got {got[key]}" for key, value in EXPECTED.items() if got[key] != value}
    if wrong:
        raise CheckFailed(
            "vit_small_for_mnist() is not ViT-S/16 for MNIST: " + "; ".join(f"{k} {v}" for k, v in wrong.items()),
            hint=HINT,
            details={"expected": EXPECTED, "got": got},
        )


@check("q8.forward", question="Q8", category="shape")
def forward(ctx: CheckContext) -> None:
    """vit_small_for_mnist() maps a (B, 1, 28, 28) batch to (B, 10) finite logits (require_tensor checks finiteness)."""
    x, reply = unpretrained(ctx)
    output = require_tensor(reply.tensors.get("output"), "vit_small_for_mnist(...) output")
    expected = (x.shape[0], 10)
    if tuple(output.shape) != expected:
        raise CheckFailed(
            f"vit_small_for_mnist() output shape: expected {expected}, got {tuple(output.shape)} "
            f"for an input of shape {tuple(x.shape)}",
            hint=HINT,
            details={"expected_shape": list(expected), "got_shape": list(output.shape)},
        )


@check("q8.pretrained", question="Q8", category="equivalence")
def pretrained(ctx: CheckContext) -> None:
    """With pretrained=True and a local ViT-S/16 checkpoint, pos_embed and the patch kernel are timm's resampling."""
    cache_dir = Path(ctx.cache_dir)
    path = ctx.sandbox.place_file("vit_small_patch16_224.safetensors", checkpoint_bytes(cache_dir))
    x = torch.randn(BATCH, 1, 28, 28, generator=ctx.generator("q8-pretrained-input"))
    reply = timm_reply(ctx, {"pretrained": True, "weights_file": path}, x)
    want_pos, want_weight = expected_adaptation(cache_dir)
    atol, rtol = (1e-4, 1e-3) if str(ctx.device).startswith("cuda") else (ATOL, RTOL)
    details: dict[str, Any] = {"atol": atol, "rtol": rtol}
    for name, want, how in (
        ("pos_embed", want_pos, "resampled from the 14x14 grid to 7x7 (timm.layers.resample_abs_pos_embed)"),
        ("patch_weight", want_weight, "resampled to 4x4 and summed over RGB (resample_patch_embed, adapt_input_conv)"),
    ):
        got = require_tensor(reply.tensors.get(name), f"vit_small_for_mnist(pretrained=True) {name}").float()
        if tuple(got.shape) != tuple(want.shape):
            raise CheckFailed(
                f"{name}: expected shape {tuple(want.shape)}, got {tuple(got.shape)}",
                hint=HINT,
                details={**details, "expected_shape": list(want.shape), "got_shape": list(got.shape)},
            )
        error = float((got - want).abs().max())
        details[f"{name}_max_abs_error"] = error
        if not torch.allclose(got, want, atol=atol, rtol=rtol):
            raise CheckFailed(
                f"{name} is not the checkpoint's {name} {how}: max abs error {error:.3g} "
                f"(tolerance atol={atol:g}, rtol={rtol:g})",
                hint="Pass the weights file to timm (pretrained=True, pretrained_cfg_overlay=dict(file=weights_file)) "
                "and let timm resample; do not re-initialise or copy the weights by hand.",
                details=details,
            )
