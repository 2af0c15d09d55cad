"""What the Q1-Q6 checks ask of the sandboxed child: construct, (load,) forward, (backward), report.

Thin wrappers over ``ctx.sandbox.request`` (the ``forward`` and ``call`` ops of the protocol in
docs/architecture.md) that return typed results with every tensor already checked. The reference
never crosses: only its weights (``state.<key>``) and the inputs do.
"""

import json
import weakref
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from grader.checks.compare import fmt_config, require_tensor
from grader.checks.context import CheckContext
from grader.checks.registry import CheckFailed
from grader.sandbox.errors import StudentError

PROBE_SEED = 1234  # the child's own initialisation when only its keys and extra values are asked for
_PROBES: "weakref.WeakKeyDictionary[Any, dict[str, Probe]]" = weakref.WeakKeyDictionary()


@dataclass
class ForwardResult:
    """One forward in the child: the output, the input's gradient, and what the module reported."""

    output: torch.Tensor | None
    input_grad: torch.Tensor | None = None
    num_params: int | None = None
    state_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    substituted: list[str] = field(default_factory=list)  # sub-module paths the child replaced by stand-ins
    substitution_errors: dict[str, str] = field(default_factory=dict)  # path -> why it could not be replaced
    layer_norm_eps: dict[str, float] = field(default_factory=dict)  # path -> eps of each nn.LayerNorm
    state: dict[str, torch.Tensor] = field(default_factory=dict)  # the module's own init (when asked)


@dataclass
class Probe:
    """A module as the student's code builds it (keys, shapes, LayerNorm eps, own values), without input."""

    shapes: dict[str, tuple[int, ...]]
    own_state: dict[str, torch.Tensor]
    layer_norm_eps: dict[str, float]
    substituted: list[str]
    substitution_errors: dict[str, str]


def child_seed(ctx: CheckContext, salt: str) -> int:
    """A seed for the child's own initialisation, drawn from the check's generator."""
    return int(torch.randint(0, 2**31 - 1, (1,), generator=ctx.generator(f"child-seed:{salt}")))


def forward(
    ctx: CheckContext,
    name: str,
    kwargs: dict[str, Any],
    x: torch.Tensor | None,
    *,
    state: dict[str, torch.Tensor] | None = None,
    grad_output: torch.Tensor | None = None,
    attributes: tuple[str, ...] = (),
    salt: str = "",
    substitute: dict[str, Any] | None = None,
    return_state: bool = False,
    seed: int | None = None,
) -> ForwardResult:
    """Build ``name(**kwargs)`` in the child (with ``substitute``'s stand-ins in place of its sub-modules),
    load ``state`` strictly if given, run it on ``x`` (if given).

    With ``grad_output`` the child also backpropagates it and returns the input's gradient. A failed load
    is explained in the lab's terms, never with PyTorch's own message.
    """
    tensors: dict[str, torch.Tensor] = {} if x is None else {"input": x}
    if state is not None:
        tensors.update({f"state.{key}": value.detach() for key, value in state.items()})
    if grad_output is not None:
        tensors["grad_output"] = grad_output
    args = {
        "name": name,
        "kwargs": kwargs,
        "seed": child_seed(ctx, salt or name) if seed is None else seed,
        "load_state": state is not None,
        "backward": grad_output is not None,
        "return_state": return_state,
        "attributes": list(attributes),
        "train_mode": False,
    }
    if substitute:
        args["substitute"] = substitute
    fallback: dict[str, str] = {}
    try:
        try:
            reply = ctx.sandbox.request("forward", args, tensors=tensors)
        except StudentError as error:
            if not substitute or error.kind != "exception":
                raise
            # the composite cannot run with the stand-ins (it unpacks a tuple from its attention, say): the
            # same request with the student's own sub-modules, said so in the details
            fallback = {"*": f"your module raised with the grader's stand-ins in place ({error.message[:300]})"}
            own_args = {key: value for key, value in args.items() if key != "substitute"}
            reply = ctx.sandbox.request("forward", own_args, tensors=tensors)
    except StudentError as error:
        if error.kind != "state_dict":
            raise
        raise CheckFailed(
            f"{name}({fmt_config(kwargs)}): the grader could not load the reference weights into your module, "
            "although they were fitted to the parameters your module had when built with the same arguments.",
            hint="Build the same parameters every time: no random or input-dependent layers in __init__.",
        ) from None
    output = None
    if x is not None:
        output = require_tensor(reply.tensors.get("output"), f"{name}.forward output")
    input_grad = None
    if grad_output is not None:
        input_grad = require_tensor(reply.tensors.get("input_grad"), f"{name} gradient with respect to the input")
    values = reply.values or {}
    shapes = {key: tuple(int(d) for d in shape) for key, shape in (values.get("state_shapes") or {}).items()}
    num_params = values.get("num_params")
    own = {key[6:]: value for key, value in reply.tensors.items() if key.startswith("state.")}
    return ForwardResult(
        output=output,
        input_grad=input_grad,
        num_params=int(num_params) if num_params is not None else None,
        state_shapes=shapes,
        attributes=dict(values.get("attributes") or {}),
        substituted=[] if fallback else list(values.get("substituted") or []),
        substitution_errors=fallback or dict(values.get("substitution_errors") or {}),
        layer_norm_eps=dict(values.get("layer_norm_eps") or {}),
        state=own if return_state else {},
    )


def probe(ctx: CheckContext, name: str, kwargs: dict[str, Any], substitute: dict[str, Any] | None = None) -> Probe:
    """The student's module for ``kwargs`` as built (no input), asked once per sandbox and cached."""
    key = json.dumps([name, kwargs, substitute], sort_keys=True, default=str)
    try:
        cache = _PROBES.setdefault(ctx.sandbox, {})
    except TypeError:  # a sandbox that cannot be weakly referenced: no cache
        cache = {}
    if key not in cache:
        result = forward(ctx, name, kwargs, None, substitute=substitute, return_state=True, seed=PROBE_SEED)
        cache[key] = Probe(
            shapes=result.state_shapes,
            own_state=result.state,
            layer_norm_eps=result.layer_norm_eps,
            substituted=result.substituted,
            substitution_errors=result.substitution_errors,
        )
    return cache[key]


def call(ctx: CheckContext, name: str, *args: Any, **kwargs: Any) -> torch.Tensor:
    """Call the module-level function ``name(*args, **kwargs)`` in the child (JSON arguments only)."""
    reply = ctx.sandbox.request("call", {"name": name, "args": list(args), "kwargs": kwargs})
    return require_tensor(reply.tensors.get("output"), f"{name}(...) return value")


def state_shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    """The reference's state_dict keys and shapes, for comparing with the child's."""
    return {key: tuple(value.shape) for key, value in module.state_dict().items()}
