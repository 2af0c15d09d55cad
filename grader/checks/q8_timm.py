"""Q8: ``vit_small_for_mnist`` is timm's ViT-S/16 adapted to 1x28x28 MNIST, and loads pretrained weights.

Nothing the child reports about its model is believed: the ``timm`` op returns the model's output on the
parent's input and its whole state dict, and the parent, with timm (trusted here), checks that
- the state dict has the names and shapes of ``timm.create_model('vit_small_patch16_224', img_size=28,
  in_chans=1, num_classes=10, patch_size=4)`` built in the parent (q8.structure);
- timm's own model loaded with that state dict gives the child's logits on the same input (q8.forward);
- with ``pretrained=True`` and the parent's checkpoint, every tensor but the re-initialised head equals
  what timm's loader makes of the same checkpoint in the parent, among them
  pos_embed = resample_abs_pos_embed(ckpt.pos_embed, new_size=[7, 7], num_prefix_tokens=1)   (1, 50, 384)
  patch_embed.proj.weight = adapt_input_conv(1, resample_patch_embed(ckpt weight, [4, 4]))   (384, 1, 4, 4)
  and the logits are those of timm's model with that state dict (q8.pretrained).
The "pretrained" checkpoint is made by the parent (no hub here): a seeded random ViT-S/16 saved as
safetensors, cached in the cache dir.
"""

import weakref
from functools import lru_cache
from pathlib import Path
from typing import Any

import timm
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from grader.cache import write_atomically
from grader.checks.compare import Tolerance, difference, require_tensor
from grader.checks.context import CheckContext
from grader.checks.registry import CheckFailed, check
from grader.weights import WeightsRefused, checked_state, expected_shapes, one_thread, state_from_reply

TIMM_NAME = "vit_small_patch16_224"
MNIST = {"img_size": 28, "in_chans": 1, "num_classes": 10, "patch_size": 4}  # the contract's defaults
WHAT = (
    "timm's ViT-S/16 for 1x28x28 MNIST (vit_small_patch16_224, img_size=28, in_chans=1, num_classes=10, patch_size=4)"
)
CHECKPOINT_SEED = 8  # the checkpoint's own seed: one cached file for every grading seed
ATOL, RTOL = 1e-5, 1e-4  # pretrained tensors: float32 resampling of the same weights by the same timm
LOGITS = Tolerance(atol=1e-4, rtol=1e-3)  # 12 float32 blocks, the same code in the child and here
LOGITS_CUDA = Tolerance(atol=1e-2, rtol=1e-2)  # the child on a GPU (TF32 convolutions), the parent on the CPU
HEAD = ("head.weight", "head.bias")  # re-initialised by timm for 10 classes: not the checkpoint's
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


def _meta_model() -> torch.nn.Module:
    """timm's ViT-S/16 for MNIST without memory behind its tensors (built in a fraction of a second)."""
    with torch.device("meta"):
        return timm.create_model(TIMM_NAME, **MNIST)


@lru_cache(maxsize=1)
def expected_names() -> dict[str, tuple[int, ...]]:
    """Names and shapes of timm's ViT-S/16 for 1x28x28, 10 classes, patch 4."""
    return expected_shapes(_meta_model())


@lru_cache(maxsize=1)
def expected_pretrained(cache_dir: Path) -> dict[str, torch.Tensor]:
    """What timm's loader makes of the checkpoint for MNIST, head excluded; computed once (seconds), then cached."""
    path = checkpoint_path(cache_dir).with_suffix(".mnist.safetensors")
    if path.is_file():
        return load_tensors(path.read_bytes())
    checkpoint = load_tensors(checkpoint_bytes(cache_dir))
    overlay = dict(state_dict=checkpoint)  # timm's own loading path, as with a weights file
    with torch.random.fork_rng(devices=[]):
        model = timm.create_model(TIMM_NAME, pretrained=True, pretrained_cfg_overlay=overlay, **MNIST)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items() if k not in HEAD}
    write_atomically(path, save_tensors(state))
    return state


def verified_state(reply, who: str) -> dict[str, torch.Tensor]:
    """The reply's state dict, checked against timm's ViT-S for MNIST; a wrong one fails naming the keys."""
    try:
        return checked_state(expected_names(), state_from_reply(reply.tensors), WHAT)
    except WeightsRefused as error:
        raise CheckFailed(f"{who}: {error}", hint=HINT) from None


def timm_logits(state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """timm's own model loaded (strictly) with ``state``: logits (B, 10) of ``x``, computed here."""
    model = _meta_model()
    model.load_state_dict(state, strict=True, assign=True)
    with one_thread(), torch.no_grad():
        return model.eval()(x)


def check_logits(ctx: CheckContext, reply, state: dict[str, torch.Tensor], x: torch.Tensor, who: str) -> dict:
    """The child's logits equal those of timm's model with the child's own state dict, on the same ``x``."""
    output = require_tensor(reply.tensors.get("output"), f"{who} output")
    expected = (x.shape[0], MNIST["num_classes"])
    if tuple(output.shape) != expected:
        raise CheckFailed(
            f"{who} output shape: expected {expected}, got {tuple(output.shape)} "
            f"for an input of shape {tuple(x.shape)}",
            hint=HINT,
            details={"expected_shape": list(expected), "got_shape": list(output.shape)},
        )
    tol = LOGITS_CUDA if str(ctx.device).startswith("cuda") else LOGITS
    diff = difference(output, timm_logits(state, x), tol)
    details = {"logits_max_abs_error": diff.max_abs_error, "tolerance": str(tol)}
    if not diff.within:
        raise CheckFailed(
            f"{who}: the logits your model returned are not those of timm's ViT-S with the weights it holds: "
            f"max abs error {diff.max_abs_error:.3g} (tolerance {tol})",
            hint="Return timm's model itself; its forward must not be replaced or wrapped.",
            details=details,
        )
    return details


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
    """vit_small_for_mnist() holds the parameters of ViT-S/16 for 1x28x28 (names and shapes, checked with timm)."""
    _, reply = unpretrained(ctx)
    verified_state(reply, "vit_small_for_mnist()")


@check("q8.forward", question="Q8", category="shape")
def forward(ctx: CheckContext) -> None:
    """vit_small_for_mnist() maps (B, 1, 28, 28) to the (B, 10) logits of timm's ViT-S with its own weights."""
    x, reply = unpretrained(ctx)
    state = verified_state(reply, "vit_small_for_mnist() (its logits cannot be checked)")
    check_logits(ctx, reply, state, x, "vit_small_for_mnist()")


@check("q8.pretrained", question="Q8", category="equivalence")
def pretrained(ctx: CheckContext) -> None:
    """With pretrained=True and a local ViT-S/16 checkpoint, the weights are what timm's loader makes of it."""
    cache_dir = Path(ctx.cache_dir)
    who = "vit_small_for_mnist(pretrained=True)"
    path = ctx.sandbox.place_file("vit_small_patch16_224.safetensors", checkpoint_bytes(cache_dir))
    x = torch.randn(BATCH, 1, 28, 28, generator=ctx.generator("q8-pretrained-input"))
    reply = timm_reply(ctx, {"pretrained": True, "weights_file": path}, x)
    state = verified_state(reply, who)
    details: dict[str, Any] = check_logits(ctx, reply, state, x, who)
    atol, rtol = (1e-4, 1e-3) if str(ctx.device).startswith("cuda") else (ATOL, RTOL)
    details.update(atol=atol, rtol=rtol)
    how = {
        "pos_embed": "resampled from the 14x14 grid to 7x7 (timm.layers.resample_abs_pos_embed)",
        "patch_embed.proj.weight": "resampled to 4x4 and summed over RGB (resample_patch_embed, adapt_input_conv)",
    }
    expected = expected_pretrained(cache_dir)
    for name in [*how, *(k for k in expected if k not in how)]:
        got, want = state[name], expected[name]
        with one_thread():
            error = float((got - want).abs().max())
            close = torch.allclose(got, want, atol=atol, rtol=rtol)
        label = "patch_weight" if name == "patch_embed.proj.weight" else name
        details[f"{label}_max_abs_error"] = error
        if not close:
            raise CheckFailed(
                f"{name} is not the checkpoint's {name} {how.get(name, 'as timm loads it')}: max abs error {error:.3g} "
                f"(tolerance atol={atol:g}, rtol={rtol:g})",
                hint="Pass the weights file to timm (pretrained=True, pretrained_cfg_overlay=dict(file=weights_file)) "
                "and let timm resample; do not re-initialise or copy the weights by hand.",
                details=details,
            )
