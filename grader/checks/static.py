"""The from-scratch rule: library shortcuts in Q1-Q6, read from the source and seen in the modules built.

Q1-Q6 must be built from linear layers, convolutions and tensor ops: no ``nn.MultiheadAttention``,
``nn.Transformer*``, ``F.scaled_dot_product_attention`` or timm (the list: ``grader.checks.forbidden``).
``grader.checks.shortcuts`` reads the source with ``ast`` (never executing it) and names the question
whose own code uses each shortcut; the check also builds each contract class in the sandbox and looks
for forbidden module types among its sub-modules (a shortcut reached by a name the source hides).
The findings per question cap that question's equivalence and property points
(``grader.checks.scratch_cap``).
"""

import ast
from typing import Any

from grader.checks.context import CheckContext
from grader.checks.forbidden import FORBIDDEN_MODULE_TYPES
from grader.checks.ownership import CONTRACT, defined_names
from grader.checks.registry import CheckFailed, Outcome, Skip, check
from grader.checks.shortcuts import Violation, by_question, scan
from grader.sandbox.errors import SandboxCrashed, SandboxTimeout, StudentError

__all__ = ["FROM_SCRATCH", "Violation", "built_shortcuts", "scan", "unimplemented"]

FROM_SCRATCH = tuple(CONTRACT)
# Small configurations to build each contract class with (no forward is run).
BUILD_KWARGS: dict[str, dict[str, Any]] = {
    "PatchEmbedding": {"img_size": 28, "patch_size": 7, "in_chans": 1, "embed_dim": 16},
    "MLP": {"in_features": 16, "hidden_features": 32},
    "SelfAttention": {"embed_dim": 16},
    "MultiHeadSelfAttention": {"embed_dim": 16, "num_heads": 2},
    "TransformerBlock": {"embed_dim": 16, "num_heads": 2},
    "ViT": {"embed_dim": 16, "nb_blocks": 1, "num_heads": 2},
}
SUBMISSION_MODULE = "submission"  # the name the sandbox imports the student's module under


def _forbidden_type(names: list[str]) -> str | None:
    return next((n for n in names if any(n == p or n.startswith(p) for p in FORBIDDEN_MODULE_TYPES)), None)


def built_shortcuts(
    name: str, module_types: dict[str, list[str]], foreign: set[str] | frozenset[str] = frozenset()
) -> list[Violation]:
    """Forbidden module types inside the student's ``name`` as built (path -> the classes of its MRO),
    leaving out the sub-trees whose class is another contract class (``foreign``: another question's own code)."""
    foreign = {f"{SUBMISSION_MODULE}.{other}" for other in CONTRACT if other != name} | set(foreign)
    roots = [path for path, mro in module_types.items() if path not in ("", ".") and mro and mro[0] in foreign]
    violations = []
    for path, mro in sorted(module_types.items()):
        if any(path == root or path.startswith(root + ".") for root in roots):
            continue
        what = _forbidden_type(list(mro))
        if what is not None:
            where = f"{name}.{path}" if path not in ("", ".") else name
            violations.append(Violation(0, f"{where} (built in the sandbox)", what, CONTRACT[name]))
    return violations


def _probe(ctx: CheckContext, names: set[str]) -> dict[str, list[Violation]]:
    """Question -> forbidden module types found by building each contract class the module defines."""
    built: dict[str, dict[str, list[str]]] = {}
    for name, kwargs in BUILD_KWARGS.items():
        if name not in names:
            continue
        args = {"name": name, "kwargs": kwargs, "seed": 0, "module_types": True}
        try:
            reply = ctx.sandbox.request("forward", args, tensors={})
        except (StudentError, SandboxTimeout, SandboxCrashed):
            continue  # the question's own checks report why it cannot be built
        built[name] = (reply.values or {}).get("module_types") or {}
    # The class each contract name really builds (``MultiHeadSelfAttention = MyAttention`` included).
    own_types = {name: (types.get("") or ["?"])[0] for name, types in built.items()}
    found: dict[str, list[Violation]] = {}
    for name, types in built.items():
        foreign = {t for other, t in own_types.items() if other != name and t != own_types[name]}
        for violation in built_shortcuts(name, types, foreign):
            found.setdefault(violation.question, []).append(violation)
    return found


def unimplemented(source: str) -> list[str]:
    """The Q1-Q6 definitions that still raise NotImplementedError (the template's stubs)."""
    last = {}  # a later definition replaces an earlier one, as at import
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in FROM_SCRATCH:
            last[node.name] = node
    stubs = []
    for name, node in last.items():
        raises = [n for n in ast.walk(node) if isinstance(n, ast.Raise) and n.exc is not None]
        if "NotImplementedError" in {_raised_name(n.exc) for n in raises}:
            stubs.append(name)
    return stubs


def _raised_name(node: ast.expr) -> str | None:
    target = node.func if isinstance(node, ast.Call) else node
    return target.id if isinstance(target, ast.Name) else None


@check("static.from_scratch", question="Q4", category="static")
def from_scratch(ctx: CheckContext) -> Outcome:
    """Q1-Q6 are written from scratch: no nn.MultiheadAttention, nn.Transformer*, scaled_dot_product_attention
    or timm; credit in proportion to the Q1-Q6 definitions implemented."""
    source = getattr(ctx.submission, "module_source", None)
    if not source:
        raise Skip("no module source to analyse")
    try:
        violations = scan(source)
        stubs = unimplemented(source)
    except SyntaxError as error:
        raise CheckFailed(f"The module does not parse: {error.msg} (line {error.lineno}).") from None
    except (RecursionError, MemoryError, ValueError) as error:  # nesting too deep for Python's own parser
        raise CheckFailed(f"The module cannot be analysed: {type(error).__name__}.") from None
    if ctx.sandbox is not None:  # what the source hides, for the questions whose source shows nothing
        seen = {v.question for v in violations}
        built = _probe(ctx, set(ctx.defined_names))
        violations += [v for question, found in sorted(built.items()) if question not in seen for v in found]
    if violations:
        listed = "; ".join(f"{v} ({v.question})" for v in violations)
        raise CheckFailed(
            f"Q1-Q6 must be written from scratch, but they use library shortcuts: {listed}.",
            hint=HINT,
            details={"violations": [v.__dict__ for v in violations], "by_question": _grouped(violations)},
        )
    present = [name for name in FROM_SCRATCH if f"{name}" in _defined(source)]
    done = [name for name in present if name not in stubs]
    details = {"implemented": done, "not_implemented": [n for n in FROM_SCRATCH if n not in done]}
    if not done:
        raise CheckFailed("Q1-Q6 are not implemented yet: there is no code of yours to check.", details=details)
    if len(done) < len(FROM_SCRATCH):
        return Outcome(
            fraction=len(done) / len(FROM_SCRATCH),
            message=f"No library shortcuts; credit for the {len(done)} of {len(FROM_SCRATCH)} Q1-Q6 definitions "
            f"implemented (not yet: {', '.join(details['not_implemented'])}).",
            details=details,
        )
    return Outcome(details=details)


def _defined(source: str) -> set[str]:
    return {name for node in ast.parse(source).body for name in defined_names(node)}


def _grouped(violations: list[Violation]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for v in violations:
        grouped.setdefault(v.question, []).append(dict(v.__dict__))
    return grouped


def findings(source: str | None, static_details: dict[str, Any] | None = None) -> dict[str, list[Violation]]:
    """Question -> its shortcuts: the source's, and for the questions whose source shows none, those
    ``static.from_scratch`` saw in the built modules (its ``details``)."""
    try:
        found = by_question(source) if source else {}
    except (SyntaxError, RecursionError, MemoryError, ValueError):  # it does not import either
        found = {}
    grouped = (static_details or {}).get("by_question") or {}
    for question, items in grouped.items():
        if question not in found and isinstance(items, list):
            found[question] = [
                Violation(int(item.get("line", 0)), str(item.get("where", "")), str(item.get("what", "")), question)
                for item in items
                if isinstance(item, dict)
            ]
    return {question: items for question, items in found.items() if items}


HINT = (
    "Build attention from nn.Linear layers and tensor ops: softmax(Q K^T / sqrt(d_h)) V. "
    "nn.MultiheadAttention, nn.TransformerEncoderLayer, F.scaled_dot_product_attention and timm are "
    "allowed only in vit_small_for_mnist (Q8)."
)
