"""Library shortcuts in Q1-Q6, found by reading the submission's source with ``ast`` (never executing it).

Each use is charged to the question whose contract definition owns the code it sits in
(``grader.checks.ownership``): an SDPA call in a helper used by ``MultiHeadSelfAttention.forward`` is
Q4's, not Q3's.

A use is a name or attribute that resolves through the module's imports to a forbidden path
(``grader.checks.forbidden``: ``F.scaled_dot_product_attention``, ``sdpa`` imported under an alias,
``torch.nn.modules.activation.MultiheadAttention``, anything from timm), or a constant string naming one
where it is looked up (``getattr(nn, "MultiheadAttention")``, ``vars(F)[...]``, ``import_module("timm")``).
Comments, docstrings and other strings are not uses; neither is a method of the student's own that
happens to share a forbidden name (``self.scaled_dot_product_attention(q, k, v)``).
"""

import ast
from dataclasses import dataclass

from grader.checks.forbidden import FORBIDDEN_MODULES, FORBIDDEN_NAMES, FORBIDDEN_PATHS
from grader.checks.ownership import CONTRACT, definitions_of, is_alias, owned_by, scoped

LOOKUPS = {"getattr": 1, "import_module": 0, "__import__": 0}  # call name -> index of the looked-up string


@dataclass(frozen=True)
class Violation:
    """One use of a library shortcut where the lab asks for code written from scratch."""

    line: int
    where: str  # the definition (contract or helper) it sits in, or "module level"
    what: str  # the resolved name, e.g. torch.nn.MultiheadAttention
    question: str = ""  # the question whose own code it is, e.g. "Q4"

    def __str__(self) -> str:
        return f"line {self.line} in {self.where}: {self.what}"


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Name -> dotted path for every import and every renaming ``F = torch.nn.functional`` (nested ones included)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                head = alias.name.split(".")[0]  # import torch.nn binds torch
                names[alias.asname or head] = alias.name if alias.asname else head
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for _ in range(2):  # F = torch.nn.functional; attend = F.scaled_dot_product_attention
        for node in ast.walk(tree):
            if is_alias(node):
                path = _dotted(node.value, names)
                if path is not None:
                    names.setdefault(node.targets[0].id, path)
    return names


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``nn.MultiheadAttention`` -> ``torch.nn.MultiheadAttention`` when ``nn`` came from ``torch.nn``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def forbidden_path(path: str) -> bool:
    """A dotted path that is, or lies under, a forbidden one (or names a forbidden class or function)."""
    parts = path.split(".")
    return (
        any(path == p or path.startswith(p + ".") for p in FORBIDDEN_PATHS)
        or parts[0] in FORBIDDEN_MODULES
        or any(part in FORBIDDEN_NAMES for part in parts)
    )


def _looked_up_string(node: ast.AST) -> ast.Constant | None:
    """The constant string a call or subscript looks a name up by, if any."""
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        index = LOOKUPS.get(name or "")
        if index is None or len(node.args) <= index:
            return None
        if name == "getattr" and isinstance(node.args[0], ast.Name) and node.args[0].id in ("self", "cls"):
            return None  # the student's own attribute
        key = node.args[index]
    elif isinstance(node, ast.Subscript):
        key = node.slice
    else:
        return None
    return key if isinstance(key, ast.Constant) and isinstance(key.value, str) else None


def _base(node: ast.AST) -> ast.AST:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node


def _uses(root: ast.AST, aliases: dict[str, str]) -> list[tuple[int, str]]:
    """(line, what) for every forbidden use inside ``root``, the outermost name of a dotted chain only."""
    found = []
    for node, local in scoped(root):
        what = None
        if isinstance(node, ast.Attribute | ast.Name):
            base = _base(node)
            path = None if isinstance(base, ast.Name) and base.id in local else _dotted(node, aliases)
            if path is not None and forbidden_path(path):
                what = path
        else:
            key = _looked_up_string(node)
            if key is not None and forbidden_path(key.value):
                what = f"the string {key.value!r}"
        if what is not None:
            found.append((getattr(node, "lineno", 0), what))
    return [
        (line, what)
        for line, what in found
        if not any(o_line == line and o_what.startswith(what + ".") for o_line, o_what in found)
    ]


def by_question(source: str) -> dict[str, list[Violation]]:
    """Question -> the shortcuts its own code uses (questions without any are left out)."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    definitions, others = definitions_of(tree)
    found: dict[str, dict[tuple[int, str], Violation]] = {}
    for name, question in CONTRACT.items():
        if name not in definitions:
            continue
        for where, node in owned_by(name, definitions, others):
            for line, what in _uses(node, aliases):
                found.setdefault(question, {}).setdefault((line, what), Violation(line, where, what, question))
    return {q: sorted(v.values(), key=lambda v: (v.line, v.what)) for q, v in sorted(found.items())}


def scan(source: str) -> list[Violation]:
    """Every shortcut any Q1-Q6 question's own code uses, once per line and name."""
    unique: dict[tuple[int, str], Violation] = {}
    for violations in by_question(source).values():
        for v in violations:
            unique.setdefault((v.line, v.what), v)
    return sorted(unique.values(), key=lambda v: (v.line, v.where, v.what))
