"""Weights returned by the child, checked in the parent against the architecture the contract names.

The child (student code) trains or builds a model and returns its state dict; the parent trusts none
of it until this module has checked it against a model the parent built itself with trusted code (the
reference ``ViT`` for Q7, timm's ViT-S for Q8): exactly the same names, the same shapes, a floating
dtype, finite values and a bounded size. Only then are the tensors loaded (strictly) into the parent's
own model, whose forward the parent runs itself (docs/architecture.md, "What the parent trusts").
"""

import contextlib
import math
from collections.abc import Iterator

import torch
from torch import nn

STATE_PREFIX = "state."
FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
SHOWN = 6  # names listed in a message before "... (N more)"


class WeightsRefused(ValueError):
    """The returned weights are not those of the expected architecture; the message says how."""


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return f"[{shown}{f', ... ({len(names) - SHOWN} more)' if len(names) > SHOWN else ''}]"


def state_from_reply(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The ``state.<key>`` tensors of a reply, keyed by ``<key>``."""
    return {k[len(STATE_PREFIX) :]: v for k, v in tensors.items() if k.startswith(STATE_PREFIX)}


def as_reply_tensors(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A state dict as request tensors (``state.<key>``), contiguous plain copies."""
    return {f"{STATE_PREFIX}{k}": v.detach().contiguous() for k, v in state.items()}


def expected_shapes(model: nn.Module) -> dict[str, tuple[int, ...]]:
    """Names and shapes of a trusted model's state dict."""
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


def checked_state(
    expected: dict[str, tuple[int, ...]], got: dict[str, torch.Tensor], what: str
) -> dict[str, torch.Tensor]:
    """``got`` as float32 tensors when it has exactly the names and shapes of ``expected``; else ``WeightsRefused``.

    ``what`` names the architecture in the message (e.g. "the contract's ViT(embed_dim=64, ...)").
    Each tensor must be a plain ``torch.Tensor`` of a floating dtype, finite; the total size may not
    exceed the expected one in float64 (what a legitimate state dict can weigh).
    """
    with one_thread():
        return _checked(expected, got, what)


def _checked(expected: dict[str, tuple[int, ...]], got: dict[str, torch.Tensor], what: str) -> dict[str, torch.Tensor]:
    missing = sorted(expected.keys() - got.keys())
    unexpected = sorted(got.keys() - expected.keys())
    if missing or unexpected:
        parts = [
            f"missing {_listed(missing)}" if missing else "",
            f"unexpected {_listed(unexpected)}" if unexpected else "",
        ]
        raise WeightsRefused(
            f"the weights are not those of {what}: "
            + "; ".join(p for p in parts if p)
            + f" (expected {len(expected)} tensors, got {len(got)})"
        )
    limit = 8 * sum(math.prod(shape) for shape in expected.values())
    size = sum(t.numel() * t.element_size() for t in got.values() if type(t) is torch.Tensor)
    if size > limit:
        raise WeightsRefused(f"the weights of {what} weigh {size} bytes, more than the {limit} bytes they can")
    wrong = [
        f"{key}: expected shape {shape}, got {tuple(got[key].shape)}"
        for key, shape in expected.items()
        if type(got[key]) is torch.Tensor and tuple(got[key].shape) != shape
    ]
    if wrong:
        more = f"; ... ({len(wrong) - SHOWN} more)" if len(wrong) > SHOWN else ""
        raise WeightsRefused(f"the weights are not those of {what}: " + "; ".join(wrong[:SHOWN]) + more)
    state = {}
    for key in expected:
        tensor = got[key]
        if type(tensor) is not torch.Tensor or tensor.dtype not in FLOATS:
            kind = tensor.dtype if type(tensor) is torch.Tensor else type(tensor).__name__
            raise WeightsRefused(f"{key} of {what}: expected a floating-point tensor, got {kind}")
        if not bool(torch.isfinite(tensor).all()):
            raise WeightsRefused(f"{key} of {what} holds NaN or inf")
        state[key] = tensor.detach().to(torch.float32).contiguous()
    return state


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the parent's own forward passes on one CPU thread (no spinning against the sandboxes), then restore."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
