"""The from-scratch rule, read from the submission's source with ``ast`` in the parent (never executed).

Q1-Q6 must be built from linear layers, convolutions and tensor ops: no ``nn.MultiheadAttention``,
``nn.Transformer*``, ``F.scaled_dot_product_attention`` or timm. Only ``vit_small_for_mnist`` (Q8),
and helpers that nothing of Q1-Q6 uses, may touch them. The scan covers the Q1-Q6 definitions, every
module-level helper they reach by name, and module-level statements that mention them (monkeypatching).
"""

import ast
from dataclasses import dataclass

from grader.checks.context import CheckContext
from grader.checks.registry import CheckFailed, Outcome, Skip, check

FROM_SCRATCH = (
    "PatchEmbedding",
    "MLP",
    "SelfAttention",
    "MultiHeadSelfAttention",
    "TransformerBlock",
    "ViT",
    "sinusoidal_positional_encoding",
)
ALLOWED_TIMM = ("vit_small_for_mnist",)
BANNED_PATHS = (
    "torch.nn.MultiheadAttention",
    "torch.nn.modules.activation.MultiheadAttention",
    "torch.nn.Transformer",
    "torch.nn.TransformerEncoder",
    "torch.nn.TransformerEncoderLayer",
    "torch.nn.TransformerDecoder",
    "torch.nn.TransformerDecoderLayer",
    "torch.nn.functional.scaled_dot_product_attention",
    "torch.nn.functional.multi_head_attention_forward",
    "torch._C._nn.scaled_dot_product_attention",
    "torch.ops.aten._scaled_dot_product_attention",
)
BANNED_ATTRIBUTES = frozenset(
    {
        "MultiheadAttention",
        "TransformerEncoder",
        "TransformerEncoderLayer",
        "TransformerDecoder",
        "TransformerDecoderLayer",
        "scaled_dot_product_attention",
        "_scaled_dot_product_attention",
        "multi_head_attention_forward",
    }
)
BANNED_MODULES = ("timm",)


@dataclass(frozen=True)
class Violation:
    """One use of a library shortcut where the lab asks for code written from scratch."""

    line: int
    where: str  # the Q1-Q6 definition (or helper) it sits in
    what: str  # the resolved name, e.g. torch.nn.MultiheadAttention

    def __str__(self) -> str:
        return f"line {self.line} in {self.where}: {self.what}"


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted path for every import in the module (nested ones included)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    names[head] = head
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``nn.MultiheadAttention`` -> ``torch.nn.MultiheadAttention`` when ``nn`` came from ``torch.nn``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    base = aliases.get(node.id)
    if base is None:
        return None
    return ".".join([base, *reversed(parts)])


def _banned(path: str) -> bool:
    return any(path == p or path.startswith(p + ".") for p in BANNED_PATHS) or path.split(".")[0] in BANNED_MODULES


def _banned_string(node: ast.AST) -> bool:
    """A string naming a banned class or timm, as in getattr(nn, "MultiheadAttention") or importlib."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return False
    return node.value in BANNED_ATTRIBUTES or node.value.split(".")[0] in BANNED_MODULES


def _top_level_names(node: ast.stmt) -> set[str]:
    """Names a module-level statement defines."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    targets: list[ast.AST] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    return {t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name)}


def _used_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def scan(source: str) -> list[Violation]:
    """Every banned construct reachable from the Q1-Q6 definitions of ``source``."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    definitions: dict[str, list[ast.stmt]] = {}
    others: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        defined = _top_level_names(node)
        for name in defined:
            definitions.setdefault(name, []).append(node)
        if not defined:
            others.append(node)
    # Reach: the Q1-Q6 names, then any module-level definition they mention, transitively.
    reached: dict[str, list[ast.stmt]] = {}
    frontier = [name for name in FROM_SCRATCH if name in definitions]
    while frontier:
        name = frontier.pop()
        if name in reached or name in ALLOWED_TIMM:
            continue
        reached[name] = definitions[name]
        for node in definitions[name]:
            frontier.extend(n for n in _used_names(node) if n in definitions and n not in reached)
    # Module-level statements (not definitions) that touch a reached name, e.g. ViT.forward = ...
    scanned = [(name, node) for name, nodes in reached.items() for node in nodes]
    scanned += [("module level", node) for node in others if _used_names(node) & set(reached)]
    violations = []
    for where, root in scanned:
        for node in ast.walk(root):
            what = None
            if isinstance(node, ast.Attribute | ast.Name):
                path = _dotted(node, aliases)
                if path is not None and _banned(path):
                    what = path
                elif isinstance(node, ast.Attribute) and node.attr in BANNED_ATTRIBUTES:
                    what = node.attr
            elif _banned_string(node):
                what = f"the string {node.value!r}"
            if what is not None:
                violations.append(Violation(getattr(node, "lineno", 0), where, what))
    unique = {(v.line, v.where, v.what): v for v in violations}  # nested attributes report once per line
    return _outermost(sorted(unique.values(), key=lambda v: (v.line, v.where, v.what)))


def _outermost(violations: list[Violation]) -> list[Violation]:
    """Drop ``timm`` when ``timm.layers.Attention`` on the same line was reported."""
    kept = []
    for v in violations:
        longer = any(
            o is not v and o.line == v.line and o.where == v.where and o.what.startswith(v.what + ".")
            for o in violations
        )
        if not longer:
            kept.append(v)
    return kept


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
    if violations:
        listed = "; ".join(str(v) for v in violations)
        raise CheckFailed(
            f"Q1-Q6 must be written from scratch, but they use library shortcuts: {listed}.",
            hint=(
                "Build attention from nn.Linear layers and tensor ops: softmax(Q K^T / sqrt(d_h)) V. "
                "nn.MultiheadAttention, nn.TransformerEncoderLayer, F.scaled_dot_product_attention and timm are "
                "allowed only in vit_small_for_mnist (Q8)."
            ),
            details={"violations": [v.__dict__ for v in violations]},
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
    return {name for node in ast.parse(source).body for name in _top_level_names(node)}
