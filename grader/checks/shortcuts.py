"""Library shortcuts in Q1-Q6, found by reading the submission's source with ``ast`` (never executing it).

Each question owns its contract definitions (``CONTRACT``): a class's methods and bases, and every
module-level helper they reach by name, except another question's contract definition (an SDPA call
in a helper used by ``MultiHeadSelfAttention.forward`` is Q4's, not Q3's, and Q5's block that builds
the student's own attention does not own that attention's code). A contract base class counts with
the methods the subclass does not override. Module-level statements that touch a question's code
(``ViT.forward = ...``) are that question's too. The last definition of a name wins, as at import.

A use is a name or attribute that resolves through the module's imports to a forbidden path
(``grader.checks.forbidden``: ``F.scaled_dot_product_attention``, ``sdpa`` imported under an alias,
``torch.nn.modules.activation.MultiheadAttention``, anything from timm), or a constant string naming one
where it is looked up (``getattr(nn, "MultiheadAttention")``, ``vars(F)[...]``, ``import_module("timm")``).
Comments, docstrings and other strings are not uses; neither is a method of the student's own that
happens to share a forbidden name (``self.scaled_dot_product_attention(q, k, v)``).
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from grader.checks.forbidden import ALLOWED_IN, FORBIDDEN_MODULES, FORBIDDEN_NAMES, FORBIDDEN_PATHS

CONTRACT = {
    "PatchEmbedding": "Q1",
    "MLP": "Q2",
    "SelfAttention": "Q3",
    "MultiHeadSelfAttention": "Q4",
    "TransformerBlock": "Q5",
    "ViT": "Q6",
    "sinusoidal_positional_encoding": "Q6",
}
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
            if _is_alias(node):
                path = _dotted(node.value, names)
                if path is not None:
                    names.setdefault(node.targets[0].id, path)
    return names


def _is_alias(node: ast.AST) -> bool:
    """``name = dotted.path``: an assignment that only renames."""
    return (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Attribute | ast.Name)
    )


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


def _bound(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """Names a function binds itself: arguments and assignment targets (imports and renamings keep their path)."""
    args = function.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    names = {a.arg for a in every if a is not None}
    body = function.body if isinstance(function.body, list) else [function.body]
    for statement in body:
        renames = {id(n.targets[0]) for n in ast.walk(statement) if _is_alias(n)}
        names |= {
            n.id
            for n in ast.walk(statement)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and id(n) not in renames
        }
    return names


def _scoped(root: ast.AST) -> Iterator[tuple[ast.AST, frozenset[str]]]:
    """Every node under ``root`` with the names its enclosing functions bind locally (iterative: no depth limit)."""
    stack: list[tuple[ast.AST, frozenset[str]]] = [(root, frozenset())]
    while stack:
        node, local = stack.pop()
        yield node, local
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            args = node.args
            outer = [*getattr(node, "decorator_list", []), *args.defaults, *(d for d in args.kw_defaults if d)]
            stack += [(child, local) for child in outer]
            inner = local | _bound(node)
            stack += [(child, inner) for child in (node.body if isinstance(node.body, list) else [node.body])]
        else:
            stack += [(child, local) for child in ast.iter_child_nodes(node)]


def _base(node: ast.AST) -> ast.AST:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node


def _uses(root: ast.AST, aliases: dict[str, str]) -> list[tuple[int, str]]:
    """(line, what) for every forbidden use inside ``root``, the outermost name of a dotted chain only."""
    found = []
    for node, local in _scoped(root):
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


def defined_names(node: ast.stmt) -> set[str]:
    """Names a module-level statement defines (``ViT.forward = ...`` defines ``ViT`` too)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    targets: list[ast.AST] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    return {t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name)}


def _used_names(node: ast.AST) -> set[str]:
    """Module-level names ``node`` reads (a function's own locals excluded)."""
    return {
        n.id
        for n, local in _scoped(node)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in local
    }


def _definitions(tree: ast.Module) -> tuple[dict[str, list[ast.stmt]], list[ast.stmt]]:
    """Module-level name -> its statements (from its last def or class on), and the other statements."""
    definitions: dict[str, list[ast.stmt]] = {}
    others: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        defined = defined_names(node)
        for name in defined:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                definitions[name] = [node]  # a later definition replaces an earlier one, as at import
            else:
                definitions.setdefault(name, []).append(node)
        if not defined:
            others.append(node)
    return definitions, others


def _inherited(base: ast.stmt, child: ast.ClassDef) -> list[ast.stmt]:
    """The statements of a contract base class that ``child`` does not override."""
    if not isinstance(base, ast.ClassDef):
        return [base]
    own = {n.name for n in child.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    kept = [n for n in base.body if not (isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name in own)]
    return [*base.bases, *kept]


def _owned(root: str, definitions: dict[str, list[ast.stmt]], others: list[ast.stmt]) -> list[tuple[str, ast.AST]]:
    """(where, node) for all the code ``root`` owns: its statements, helpers, contract bases, monkeypatches."""
    owned: list[tuple[str, ast.AST]] = []
    seen: set[str] = set()
    frontier: list[tuple[str, list[ast.AST]]] = [(root, list(definitions.get(root, [])))]
    patches = list(others)
    while frontier:
        where, nodes = frontier.pop()
        owned += [(where, node) for node in nodes]
        seen.add(where)
        for node in nodes:
            bases = {b.id for b in node.bases if isinstance(b, ast.Name)} if isinstance(node, ast.ClassDef) else set()
            for name in sorted(_used_names(node) - seen):
                if name not in definitions or name in ALLOWED_IN:
                    continue
                if name in CONTRACT and name != root:
                    if name in bases:
                        seen.add(name)
                        inherited = [s for d in definitions[name] for s in _inherited(d, node)]
                        frontier.append((f"{name} (inherited by {root})", inherited))
                    continue
                seen.add(name)
                frontier.append((name, list(definitions[name])))
        touching = [p for p in patches if _used_names(p) & (seen - set(CONTRACT) | {root})]
        patches = [p for p in patches if p not in touching]
        if touching:
            frontier.append(("module level", touching))
    return owned


def by_question(source: str) -> dict[str, list[Violation]]:
    """Question -> the shortcuts its own code uses (questions without any are left out)."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    definitions, others = _definitions(tree)
    found: dict[str, dict[tuple[int, str], Violation]] = {}
    for name, question in CONTRACT.items():
        if name not in definitions:
            continue
        for where, node in _owned(name, definitions, others):
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
