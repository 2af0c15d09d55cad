"""The expected shape of each op's reply: values and tensor names are checked before a check sees them.

Everything in a reply came from the child and is untrusted; this turns a malformed one (forged,
or from a patched harness) into ``StudentError("bad_output")`` instead of a grader crash later.
"""

import math
from typing import Any

import torch

from grader.sandbox.errors import StudentError

MIB = 1 << 20
# Names a reply may hold beyond expected_tensors: a prefix per op (state dicts, as ``state.<key>``; the check
# compares the names with a model the parent built, grader/weights.py, so they are kept whatever they are).
OPTIONAL_PREFIXES: dict[str, tuple[str, ...]] = {
    "forward": ("state.",),
    "train": ("state.",),
    "timm": ("state.",),
}


def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _is_finite_number(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value)


def _is_attribute(value: Any) -> bool:
    return type(value) in (int, float, bool, str) or (isinstance(value, list) and all(map(_is_int, value)))


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(n, str) for n in value)


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
    "train": {"seconds": _is_number, "final_loss": lambda v: v is None or _is_number(v)},
    "predict": {},
    "timm": {},
}

# Values checked only when present: asked for by the request, or read as empty when missing.
OPTIONAL_VALUE_RULES: dict[str, dict[str, Any]] = {
    "forward": {
        "module_types": lambda v: isinstance(v, dict) and all(map(_is_str_list, v.values())),
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
    return {"call": {"output"}, "predict": {"logits"}, "timm": {"output"}}.get(op, set())


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
    for key, rule in OPTIONAL_VALUE_RULES.get(op, {}).items():
        if key in values and not rule(values[key]):
            raise StudentError("bad_output", f"the reply's value {key!r} is malformed: {values.get(key)!r:.200}")
    expected = expected_tensors(op, args, sent)
    missing = expected - tensors.keys()
    if missing:
        raise StudentError("bad_output", f"the reply lacks the tensors {sorted(missing)}")
    prefixes = OPTIONAL_PREFIXES.get(op, ())
    return values, {k: v for k, v in tensors.items() if k in expected or k.startswith(prefixes)}


def tensor_allowed(op: str, args: dict[str, Any], sent: dict[str, torch.Tensor] | None):
    """Whether a tensor name may appear in the reply to ``op`` (checked before its data is read).

    None for an op without rules here: its names are then not restricted before reading, only its size.
    """
    if op not in VALUE_RULES:
        return None
    names, prefixes = expected_tensors(op, args, sent), OPTIONAL_PREFIXES.get(op, ())
    return lambda name: name in names or name.startswith(prefixes)


def payload_cap(op: str, args: dict[str, Any], sent: dict[str, torch.Tensor] | None, ceiling: int) -> int:
    """The most bytes the reply to ``op`` may carry, at most ``ceiling``: a function of what was sent.

    forward: 16 x the bytes sent + 1 MiB (+ 64 MiB for a state dict); call: 16 x sent + 16 MiB;
    train: 64 MiB (the trained weights: a contract ViT is ~1 MB in float32); predict: 8 x 100 bytes per image
    (logits, up to 100 classes in float64) + 1 MiB; timm: 16 x
    the bytes sent + 128 MiB (a ViT-S state dict is 88 MB in float32); names: no tensors (table room only).
    """
    sent = sent or {}
    sent_bytes = sum(t.numel() * t.element_size() for t in sent.values())
    if op == "names":
        cap = 64 * 1024
    elif op == "forward":
        cap = 16 * sent_bytes + MIB + (64 * MIB if args.get("return_state") else 0)
    elif op == "call":
        cap = 16 * sent_bytes + 16 * MIB
    elif op == "train":
        cap = 64 * MIB
    elif op == "predict":
        images = sent.get("images")
        cap = 800 * (images.shape[0] if images is not None and images.dim() else 0) + MIB
    elif op == "timm":
        cap = 16 * sent_bytes + 128 * MIB
    else:
        cap = ceiling
    return min(cap, ceiling)
