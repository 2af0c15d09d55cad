"""The expected shape of each op's reply: values and tensor names are checked before a check sees them.

Everything in a reply came from the child and is untrusted; this turns a malformed one (forged,
or from a patched harness) into ``StudentError("bad_output")`` instead of a grader crash later.
"""

import math
from typing import Any

import torch

from grader.sandbox.errors import StudentError


def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _is_finite_number(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value)


def _is_attribute(value: Any) -> bool:
    return type(value) in (int, float, bool, str) or (isinstance(value, list) and all(map(_is_int, value)))


def _is_shape_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, list) and all(map(_is_int, v)) for v in value.values())


VALUE_RULES: dict[str, dict[str, Any]] = {
    "names": {
        "names": lambda v: isinstance(v, list) and all(isinstance(n, str) for n in v),
        "import_error": lambda v: v is None or isinstance(v, str),
    },
    "forward": {
        "num_params": _is_int,
        "state_shapes": _is_shape_map,
        "attributes": lambda v: isinstance(v, dict) and all(map(_is_attribute, v.values())),
        "attribute_errors": lambda v: isinstance(v, dict) and all(isinstance(e, str) for e in v.values()),
    },
    "call": {},
    "train_predict": {"seconds": _is_number, "final_loss": lambda v: v is None or _is_number(v)},
    "timm": {"embed_dim": _is_int, "depth": _is_int, "num_heads": _is_int, "num_classes": _is_int},
}

# Values checked only when present (the parent reads a missing one as empty).
OPTIONAL_RULES: dict[str, dict[str, Any]] = {
    "forward": {
        "substituted": lambda v: isinstance(v, list) and all(isinstance(p, str) for p in v),
        "substitution_errors": lambda v: isinstance(v, dict) and all(isinstance(e, str) for e in v.values()),
        "layer_norm_eps": lambda v: isinstance(v, dict) and all(map(_is_finite_number, v.values())),
    },
}


def expected_tensors(op: str, args: dict[str, Any], sent: dict[str, torch.Tensor] | None) -> set[str]:
    """Tensor names the reply must hold."""
    sent = sent or {}
    if op == "forward":
        names = {"output"} if "input" in sent else set()
        if "input" in sent and args.get("backward"):
            names.add("input_grad")
        return names
    return {"call": {"output"}, "train_predict": {"predictions"}, "timm": {"output", "pos_embed", "patch_weight"}}.get(
        op, set()
    )


def check_reply(
    op: str, args: dict[str, Any], sent: dict[str, torch.Tensor] | None, values: Any, tensors: dict[str, torch.Tensor]
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Validated (values, tensors) of a reply, with unexpected tensor names dropped."""
    if not isinstance(values, dict):
        raise StudentError("bad_output", f"the reply's values are a {type(values).__name__}, not an object")
    for key, rule in VALUE_RULES.get(op, {}).items():
        if key not in values or not rule(values[key]):
            raise StudentError(
                "bad_output", f"the reply's value {key!r} is missing or malformed: {values.get(key)!r:.200}"
            )
    for key, rule in OPTIONAL_RULES.get(op, {}).items():
        if key in values and not rule(values[key]):
            raise StudentError("bad_output", f"the reply's value {key!r} is malformed: {values.get(key)!r:.200}")
    missing = expected_tensors(op, args, sent) - tensors.keys()
    if missing:
        raise StudentError("bad_output", f"the reply lacks the tensors {sorted(missing)}")
    keep = expected_tensors(op, args, sent) | (
        {k for k in tensors if k.startswith("state.")} if op == "forward" else set()
    )
    if op == "train_predict" and tensors["predictions"].dtype != torch.int64:
        raise StudentError("bad_output", f"predictions have dtype {tensors['predictions'].dtype}, expected torch.int64")
    return values, {k: v for k, v in tensors.items() if k in keep}
