"""Mapping the student's names onto the contract's, one finder after another until nothing more maps.

A whole module under another name (``module_renames``), one layer under another name and the layers of an
nn.Sequential (``key_maps``): each mapping can make the next unambiguous (``self.transformer_blocks`` renamed
lets ``...attention`` be found inside it, a fused ``qkv`` taken leaves ``fc`` the only candidate for ``proj``).
``plan.renamed`` keeps, for each of the student's keys, the key it is graded as.
"""

from typing import Protocol

from grader.checks.key_maps import Shapes, find_renames, find_sequential
from grader.checks.module_renames import find_inlined, find_module_renames
from grader.checks.residual_wrappers import find_residual_wrappers


class Renames(Protocol):
    renamed: dict[str, str]
    differences: list[str]


def _rename(plan: Renames, got: Shapes, mapping: dict[str, str]) -> Shapes:
    """Apply ``mapping`` (current key -> new key) to ``got``, composing it into ``plan.renamed`` (student key ->
    the key it is graded as)."""
    already = set(plan.renamed.values())  # current names of keys renamed before: not the student's own names
    for own, current in list(plan.renamed.items()):
        plan.renamed[own] = mapping.get(current, current)
    plan.renamed.update({key: new for key, new in mapping.items() if key not in already and new != key})
    return {mapping.get(key, key): shape for key, shape in got.items()}


def map_names(plan: Renames, expected: Shapes, got: Shapes) -> Shapes:
    """Renamed modules, renamed layers and nn.Sequential layers, until nothing more maps (each step can make
    the next one unambiguous); each mapping is a difference the contract check reports."""
    for _ in range(4):
        wrapped = find_residual_wrappers(expected, got)  # before module renames: a wrapper is no renamed module
        if wrapped:
            got = _rename(plan, got, wrapped)
            pairs = sorted({_wrapper_pair(own, new) for own, new in wrapped.items()})
            plan.differences.append(
                "your block holds the contract's layers in residual wrappers ("
                + ", ".join(f"self.{own} as self.{new}" for own, new in pairs)
                + "); graded under the contract's names: name them norm1, attn, norm2, mlp in the block itself."
            )
        modules = find_module_renames(expected, got)
        if modules:
            got = _rename(plan, got, modules)
            for own, new in _renamed_modules(modules):
                plan.differences.append(
                    f"your self.{own} is the contract's {new} under another name (a whole sub-module); it was "
                    f"graded under the contract's name: rename it to {new}."
                )
        renames = find_renames(expected, got)
        for (pos, _old, new), keys in sorted(renames.items()):
            path = next(iter(keys)).split(".")[: pos + 1]
            got = _rename(plan, got, keys)
            plan.differences.append(
                f"your self.{'.'.join(path)} is the contract's self.{'.'.join(path[:-1] + [new])} under another "
                f"name; it was graded under the contract's name: rename it to {new}."
            )
        inlined = find_inlined(expected, got)
        if inlined:
            got = _rename(plan, got, inlined)
            names = sorted({key.rsplit(".", 1)[0] for key in inlined.values()})
            plan.differences.append(
                f"your module writes the contract's self.{', self.'.join(names)} inline (its layers sit in the "
                "module itself); graded as that sub-module: build it as its own nn.Module, as the contract does."
            )
        sequential = find_sequential(expected, got)
        if sequential:
            got = _rename(plan, got, sequential)
            owners = sorted({key.rsplit(".", 1)[0] for key in sequential})
            names = sorted({key.rsplit(".", 1)[0] for key in sequential.values()})
            plan.differences.append(
                f"your self.{', self.'.join(owners)} hold the contract's self.{', self.'.join(names)} inside an "
                "nn.Sequential; graded in that order under the contract's names: name each layer as the contract does."
            )
        if not (wrapped or modules or renames or inlined or sequential):
            break
    return got


def _wrapper_pair(own: str, new: str) -> tuple[str, str]:
    """(the student's module path, the contract's) for one mapped key: the paths without their common tail."""
    a, b = own.split("."), new.split(".")
    while len(a) > 1 and len(b) > 1 and a[-1] == b[-1]:
        a, b = a[:-1], b[:-1]
    head = 0
    while head < min(len(a), len(b)) - 1 and a[head] == b[head]:
        head += 1
    common = ["*" if part.isdigit() else part for part in a[:head]]  # one sentence for every block
    return ".".join(common + a[head:]), ".".join(common + b[head:])


def _renamed_modules(mapping: dict[str, str]) -> list[tuple[str, str]]:
    """(the student's module path, the contract's name for it), one per renamed module."""
    pairs = {
        (".".join("*" if part.isdigit() else part for part in a[: i + 1]), b[i])  # one sentence for every block
        for old, new in mapping.items()
        for a, b in [(old.split("."), new.split("."))]
        for i in range(min(len(a), len(b)))
        if a[i] != b[i]
    }
    return sorted(pairs)
