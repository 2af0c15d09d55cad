"""What the Q1-Q6 checks ask of the sandboxed child: construct, (load,) forward, (backward), report.

Thin wrappers over ``ctx.sandbox.request`` (the ``forward`` and ``call`` ops of the protocol in
docs/architecture.md) that return typed results with every tensor already checked. The reference
never crosses: only its weights (``state.<key>``) and the inputs do.
"""

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from grader.checks.compare import require_tensor
from grader.checks.context import CheckContext


@dataclass
class ForwardResult:
    """One forward in the child: the output, the input's gradient, and what the module reported."""

    output: torch.Tensor
    input_grad: torch.Tensor | None = None
    num_params: int | None = None
    state_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)


def child_seed(ctx: CheckContext, salt: str) -> int:
    """A seed for the child's own initialisation, drawn from the check's generator."""
    return int(torch.randint(0, 2**31 - 1, (1,), generator=ctx.generator(f"child-seed:{salt}")))


def forward(
    ctx: CheckContext,
    name: str,
    kwargs: dict[str, Any],
    x: torch.Tensor,
    *,
    state: dict[str, torch.Tensor] | None = None,
    grad_output: torch.Tensor | None = None,
    attributes: tuple[str, ...] = (),
    salt: str = "",
) -> ForwardResult:
    """Build ``name(**kwargs)`` in the child, load ``state`` strictly if given, run it on ``x``.

    With ``grad_output`` the child also backpropagates it and returns the input's gradient.
    """
    tensors: dict[str, torch.Tensor] = {"input": x}
    if state is not None:
        tensors.update({f"state.{key}": value.detach() for key, value in state.items()})
    if grad_output is not None:
        tensors["grad_output"] = grad_output
    args = {
        "name": name,
        "kwargs": kwargs,
        "seed": child_seed(ctx, salt or name),
        "load_state": state is not None,
        "backward": grad_output is not None,
        "return_state": False,
        "attributes": list(attributes),
        "train_mode": False,
    }
    reply = ctx.sandbox.request("forward", args, tensors=tensors)
    output = require_tensor(reply.tensors.get("output"), f"{name}.forward output")
    input_grad = None
    if grad_output is not None:
        input_grad = require_tensor(reply.tensors.get("input_grad"), f"{name} gradient with respect to the input")
    values = reply.values or {}
    shapes = {key: tuple(int(d) for d in shape) for key, shape in (values.get("state_shapes") or {}).items()}
    num_params = values.get("num_params")
    return ForwardResult(
        output=output,
        input_grad=input_grad,
        num_params=int(num_params) if num_params is not None else None,
        state_shapes=shapes,
        attributes=dict(values.get("attributes") or {}),
    )


def call(ctx: CheckContext, name: str, *args: Any, **kwargs: Any) -> torch.Tensor:
    """Call the module-level function ``name(*args, **kwargs)`` in the child (JSON arguments only)."""
    reply = ctx.sandbox.request("call", {"name": name, "args": list(args), "kwargs": kwargs})
    return require_tensor(reply.tensors.get("output"), f"{name}(...) return value")


def state_shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    """The reference's state_dict keys and shapes, for comparing with the child's."""
    return {key: tuple(value.shape) for key, value in module.state_dict().items()}
