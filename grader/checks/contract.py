"""The contract's parameter names, and grading the maths of a module whose parameter set differs a little.

The reference weights load into a student's module by name (``load_state_dict(strict=True)``). Some
students write the right maths with a slightly different parameter set: linear layers without bias
(``bias=False``), a LayerNorm without affine parameters, an extra registered buffer. ``plan_state``
says how to grade them anyway: a missing bias is graded as a zero bias (the reference's is set to 0), a
missing LayerNorm weight as 1, an extra key keeps the student's own value. What cannot be mapped (other
names, other shapes) is explained in the lab's terms, never with PyTorch's "Missing key(s)" text.
Each question's ``qN.contract`` check deducts the difference once, with these explanations.
"""

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from grader.checks.compare import fmt_shape
from grader.checks.key_maps import (
    Shapes,
    find_fused,
    find_library,
    find_split,
    is_flattened,
    is_unit_reshape,
    is_without_cls_row,
)
from grader.checks.name_mapping import map_names


@dataclass
class StatePlan:
    """How the reference's state maps onto the student's keys, and what differs from the contract."""

    neutral: dict[str, float] = field(default_factory=dict)  # reference key -> value it is graded at
    renamed: dict[str, str] = field(default_factory=dict)  # student key -> the contract key it is graded as
    fused: dict[str, list[str]] = field(default_factory=dict)  # student key -> contract keys stacked in it
    split: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # student key -> (contract key, rows)
    flattened: dict[str, tuple[int, ...]] = field(default_factory=dict)  # contract key -> the student's shape
    without_cls_row: dict[str, tuple[int, ...]] = field(default_factory=dict)  # pos_embed -> its N-row shape
    own_value: list[str] = field(default_factory=list)  # contract buffers the student computes but does not save
    extra: list[str] = field(default_factory=list)  # student keys outside the contract, kept at the student's value
    differences: list[str] = field(default_factory=list)  # lab-terms sentences, one per difference
    unresolved: list[str] = field(default_factory=list)  # the sentences of differences that cannot be graded

    @property
    def gradable(self) -> bool:
        return not self.unresolved

    @property
    def matches(self) -> bool:
        return not self.differences


def _owner(reference: nn.Module, key: str) -> tuple[str, nn.Module | None, str]:
    prefix, _, leaf = key.rpartition(".")
    try:
        return prefix, reference.get_submodule(prefix) if prefix else reference, leaf
    except AttributeError:
        return prefix, None, leaf


def _describe(module: nn.Module | None) -> str:
    if isinstance(module, nn.Linear):
        return f"nn.Linear({module.in_features}, {module.out_features})"
    if isinstance(module, nn.LayerNorm):
        return f"nn.LayerNorm({module.normalized_shape[0]})"
    if isinstance(module, nn.Conv2d):
        return f"nn.Conv2d({module.in_channels}, {module.out_channels}, kernel_size={module.kernel_size[0]})"
    return type(module).__name__ if module is not None else "module"


def _attr(prefix: str) -> str:
    return f"self.{prefix}" if prefix else "the module itself"


def plan_state(reference: nn.Module, got: Shapes, class_name: str) -> StatePlan:
    """Compare the reference's state_dict keys and shapes with the student's (``got``)."""
    expected = {key: tuple(value.shape) for key, value in reference.state_dict().items()}
    buffers = {key for key, _ in reference.named_buffers()}
    plan = StatePlan()
    library_renamed, library_fused = find_library(expected, got)
    if library_fused:
        plan.renamed.update(library_renamed)
        got = {library_renamed.get(key, key): shape for key, shape in got.items()}
        owners = sorted(key[: -len("in_proj_weight")].rstrip(".") for key in library_fused if key.endswith("_weight"))
        plan.differences.append(
            f"your self.{', self.'.join(owners)} are torch.nn library modules; graded with the contract's q, k and v "
            "stacked in their in_proj_weight and proj as their out_proj (and an encoder layer's linear1, linear2 "
            "as mlp.fc1, mlp.fc2): the contract has its own nn.Linear layers."
        )
    got = map_names(plan, expected, dict(got))  # a copy: the probe's shapes stay as the child reported them
    plan.fused = {**find_fused(expected, got), **library_fused}
    for own, keys in plan.fused.items():
        del got[own]
        got.update({key: expected[key] for key in keys})
        if own.endswith(".weight"):
            prefix, rows = own.rpartition(".")[0], expected[keys[0]][0]
            plan.differences.append(
                f"your self.{prefix} packs q, k and v in one nn.Linear (rows 0..{rows - 1} are q, then k, then v); "
                "graded with the contract's q, k and v stacked in that order: the contract has three "
                f"nn.Linear named q, k and v."
            )
    plan.split = find_split(expected, got)
    for own in plan.split:
        del got[own]
    for contract in dict.fromkeys(key for key, _, _ in plan.split.values()):
        got[contract] = expected[contract]
        if contract.endswith(".weight"):
            owners = sorted({own.rsplit(".", 3)[0] for own, (key, _, _) in plan.split.items() if key == contract})
            name = contract.rsplit(".", 2)[-2]
            plan.differences.append(
                f"your self.{', self.'.join(owners)} hold one {name} per head; graded with the rows of the contract's "
                f"{name} split among the heads in order (head i owns rows i*d_h..(i+1)*d_h - 1): the contract has "
                f"one nn.Linear(D, D) named {name}."
            )
    got = map_names(plan, expected, got)
    missing = sorted(set(expected) - set(got))
    unexpected = sorted(set(got) - set(expected))
    renamed: set[str] = set()
    for key in missing:
        prefix, owner, leaf = _owner(reference, key)
        what = _describe(owner)
        if leaf == "bias" and isinstance(owner, nn.Linear | nn.Conv2d | nn.LayerNorm) and f"{prefix}.weight" in got:
            plan.neutral[key] = 0.0
            plan.differences.append(
                f"{_attr(prefix)} has no bias (bias=False); the contract's {what} has one. Graded as a zero bias: "
                "drop bias=False."
            )
            continue
        if isinstance(owner, nn.LayerNorm) and leaf in ("weight", "bias") and not any(k in got for k in (
            f"{prefix}.weight", f"{prefix}.bias"
        )):  # fmt: skip
            plan.neutral[key] = 1.0 if leaf == "weight" else 0.0
            if leaf == "weight":
                plan.differences.append(
                    f"{_attr(prefix)} has no learnable weight and bias (elementwise_affine=False); the contract's "
                    f"{what} learns them. Graded as weight 1 and bias 0: use nn.LayerNorm(D)."
                )
            continue
        if key in buffers:
            plan.own_value.append(key)
            plan.differences.append(
                f"your {class_name} does not save the buffer {key} in its state_dict (persistent=False?); it was "
                "graded with the value your module computes: register it with register_buffer(name, tensor)."
            )
            continue
        candidates = [k for k in unexpected if k.rpartition(".")[2] == leaf and tuple(got[k]) == expected[key]]
        if len(candidates) == 1 and candidates[0] not in renamed:
            other = candidates[0].rpartition(".")[0]
            renamed.add(candidates[0])
            sentence = (
                f"the contract's {class_name}.{prefix} ({what}) is missing and your {_attr(other)} has the same "
                f"shape: rename {_attr(other)} to {_attr(prefix)} so the grader can load its weights."
            )
        else:
            sentence = (
                f"the contract's parameter {key} (shape {fmt_shape(expected[key])}, in {what} {_attr(prefix)}) is "
                f"missing from your {class_name}: define {_attr(prefix)} as the contract says."
            )
        if sentence not in plan.unresolved:
            plan.unresolved.append(sentence)
    for key in unexpected:
        if key in renamed:
            continue
        plan.extra.append(key)
        plan.differences.append(
            f"your {class_name} has {key} (shape {fmt_shape(got[key])}), which the contract does not list; it was "
            "kept at your module's own value. A constant belongs in forward or in "
            "register_buffer(..., persistent=False); the contract has no place for another parameter."
        )
    for key in sorted(set(expected) & set(got)):
        if tuple(expected[key]) != tuple(got[key]):
            prefix, owner, _ = _owner(reference, key)
            if is_flattened(expected[key], got[key]):
                plan.flattened[key] = tuple(got[key])
                plan.differences.append(
                    f"{key} has shape {fmt_shape(got[key])} in your {class_name}, the contract's {_describe(owner)} "
                    f"{_attr(prefix)} has {fmt_shape(expected[key])}; graded with the contract's weight flattened "
                    "row-major (patches flattened channel, then row, then column): use the contract's layer."
                )
                continue
            if key.rpartition(".")[2] == "pos_embed" and is_without_cls_row(expected[key], got[key]):
                plan.without_cls_row[key] = tuple(got[key])
                plan.differences.append(
                    f"{key} has shape {fmt_shape(got[key])} in your {class_name}, the contract's has "
                    f"{fmt_shape(expected[key])}: no row for the [CLS] token (it gets no position); graded with the "
                    "patches' rows 1..N: give the [CLS] token its own row 0."
                )
                continue
            if is_unit_reshape(expected[key], got[key]):
                plan.flattened[key] = tuple(got[key])
                plan.differences.append(
                    f"{key} has shape {fmt_shape(got[key])} in your {class_name}, the contract's has "
                    f"{fmt_shape(expected[key])}: the same values with other axes of size 1; graded reshaped: use "
                    "the contract's shape."
                )
                continue
            plan.unresolved.append(
                f"{key} has shape {fmt_shape(got[key])} in your {class_name}, the contract's {_describe(owner)} "
                f"{_attr(prefix)} has {fmt_shape(expected[key])}."
            )
    plan.differences = plan.unresolved + plan.differences
    return plan


def neutralise(reference: nn.Module, plan: StatePlan) -> None:
    """Set the reference's parameters the student lacks to the value they are graded at (in place)."""
    with torch.no_grad():
        for key, value in plan.neutral.items():
            prefix, owner, leaf = _owner(reference, key)
            getattr(owner, leaf).fill_(value)


def fit_state(
    state: dict[str, torch.Tensor], plan: StatePlan, own_state: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """The reference's ``state`` on the student's keys: neutral keys and unsaved buffers dropped, renamed keys
    under the student's names, extra keys at the student's values."""
    skipped = {key for keys in plan.fused.values() for key in keys} | set(plan.neutral) | set(plan.own_value)
    fitted = {key: value for key, value in state.items() if key not in skipped}  # the contract's names
    for own, keys in plan.fused.items():
        fitted[own] = torch.cat([state[key] for key in keys if key in state])  # (3 * rows, ...) q, then k, then v
    for own, (key, start, stop) in plan.split.items():
        fitted.pop(key, None)
        fitted[own] = state[key][start:stop]  # head i's rows of the contract's layer
    for key, shape in plan.flattened.items():
        if key in fitted:
            fitted[key] = fitted[key].reshape(shape)  # (D, C, p, p) -> (D, C*p*p) row-major; (1, 1, D) -> (1, D)
    for key, shape in plan.without_cls_row.items():
        if key in fitted:
            fitted[key] = fitted[key].reshape(-1, shape[-1])[1:].reshape(shape)  # (1, N + 1, D) -> rows 1..N
    student = {graded: own for own, graded in plan.renamed.items()}
    fitted.update({key: own_state[student.get(key, key)] for key in plan.extra if student.get(key, key) in own_state})
    return {student.get(key, key): value for key, value in fitted.items()}


def contract_details(plan: StatePlan, config: dict[str, Any]) -> dict[str, Any]:
    """What a report's details say about one configuration's parameter set."""
    return {
        "config": config,
        "differences": list(plan.differences),
        "graded_as_neutral": dict(plan.neutral),
        "kept_at_own_value": list(plan.extra),
    }
