"""Which code each Q1-Q6 contract name owns, read with ``ast``: the basis of the from-scratch rule.

A contract class or function owns its body, its bases, and every module-level helper it reaches by
name, transitively, except another contract definition (Q5's block that builds the student's own
attention does not own that attention's code). A contract base class counts with the methods the
subclass does not override. Module-level statements that touch owned code (``ViT.forward = ...``)
are owned too. The last definition of a name wins, as at import. Names a function binds itself
(its arguments and assignments) are locals, never module-level helpers.
"""

import ast
from collections.abc import Iterator

from grader.checks.forbidden import ALLOWED_IN

CONTRACT = {
    "PatchEmbedding": "Q1",
    "MLP": "Q2",
    "SelfAttention": "Q3",
    "MultiHeadSelfAttention": "Q4",
    "TransformerBlock": "Q5",
    "ViT": "Q6",
    "sinusoidal_positional_encoding": "Q6",
}


def is_alias(node: ast.AST) -> bool:
    """``name = dotted.path``: an assignment that only renames."""
    return (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Attribute | ast.Name)
    )


def _bound(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """Names a function binds itself: arguments and assignment targets (imports and renamings keep their path)."""
    args = function.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    names = {a.arg for a in every if a is not None}
    body = function.body if isinstance(function.body, list) else [function.body]
    for statement in body:
        renames = {id(n.targets[0]) for n in ast.walk(statement) if is_alias(n)}
        names |= {
            n.id
            for n in ast.walk(statement)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and id(n) not in renames
        }
    return names


def scoped(root: ast.AST) -> Iterator[tuple[ast.AST, frozenset[str]]]:
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
        for n, local in scoped(node)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in local
    }


def definitions_of(tree: ast.Module) -> tuple[dict[str, list[ast.stmt]], list[ast.stmt]]:
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


def owned_by(root: str, definitions: dict[str, list[ast.stmt]], others: list[ast.stmt]) -> list[tuple[str, ast.AST]]:
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
