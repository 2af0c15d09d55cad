"""The student's module: parsing with clear syntax errors, and sorting top-level statements.

A notebook's code cells become one module that keeps imports, function and class definitions and
simple constants (``EMBED_DIM = 64``, ``device = "cpu"``), so the grader never reruns a student's
training; everything else is dropped and noted. A ``.py`` module is taken as written, with a warning
for each top-level statement that would run when it is imported.
"""

import ast
import builtins
import re
import warnings

from grader.intake import limits
from grader.intake.models import DroppedLine, IntakeError

_MAGIC = re.compile(r"^\s*(?P<sigil>%|!)")
_MAGIC_ASSIGN = re.compile(r"^\s*[A-Za-z_][\w.,\s]*=\s*(?P<sigil>[%!])(?!=)")
_HELP = re.compile(r"^\s*(\?\??[\w.]+|[\w.]+\?\??)\s*$")
_SHOWN_CHARS = 200  # of a source line quoted in a message
_SIGIL_REASON = {"%": "IPython magic", "!": "shell command"}
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_IMPORTS = (ast.Import, ast.ImportFrom)
_LITERAL_NODES = (
    ast.Constant,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.Dict,
    ast.UnaryOp,
    ast.BinOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Subscript,
    ast.Slice,
    ast.JoinedStr,
    ast.FormattedValue,
    ast.Attribute,
    ast.Name,
    ast.Load,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
)


def parse_source(source: str, where: str) -> ast.Module:
    """``ast.parse``; a failure is an ``IntakeError`` naming ``where``, the line, the column and its text."""
    try:
        return parse_quietly(source)
    except SyntaxError as error:
        raise IntakeError(syntax_error_message(error, where)) from None
    except (RecursionError, MemoryError, ValueError) as error:
        raise IntakeError(f"{where} cannot be parsed as Python: {type(error).__name__}: {error}") from None


def parse_quietly(source: str) -> ast.Module:
    """``ast.parse`` without the warnings (invalid escape sequences...) it would print into the grader's log."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


def syntax_error_message(error: SyntaxError, where: str) -> str:
    """'vit.py has a syntax error on line 3, column 9: invalid syntax', then the line and a caret."""
    if error.lineno is None:
        return f"{where} cannot be parsed as Python: {error.msg}."
    message = f"{where} has a syntax error on line {error.lineno}, column {error.offset}: {error.msg}."
    if error.text:
        text = error.text.rstrip("\n")
        caret = " " * max((error.offset or 1) - 1 - (len(text) - len(text.lstrip())), 0) + "^"
        message += f"\n    {_shorten(text)}\n    {caret[:_SHOWN_CHARS]}"
    return message


def module_warnings(tree: ast.Module, where: str, lines: list[str]) -> list[str]:
    """Warnings for a ``.py`` module's top-level statements that run on import (calls, loops, prints)."""
    warnings = []
    statements = [node for node in tree.body if not _runs_nothing_on_import(node)]
    for node in statements[: limits.MAX_NOTES]:
        warnings.append(
            f"{where} line {node.lineno}: the top-level statement `{_shorten(lines[node.lineno - 1])}` runs when the "
            'grader imports your module; put it under `if __name__ == "__main__":` or in a function.'
        )
    if len(statements) > limits.MAX_NOTES:
        warnings.append(f"{where}: {len(statements) - limits.MAX_NOTES} more top-level statements are not listed.")
    return warnings


def _runs_nothing_on_import(node: ast.stmt) -> bool:
    """Definitions, imports, assignments, docstrings and the main guard: what a module normally holds."""
    if isinstance(node, _DEFINITIONS + _IMPORTS + (ast.Assign, ast.AnnAssign, ast.Pass)):
        return True
    return _is_docstring(node) or _is_main_guard(node)


class CellFilter:
    """Filters a notebook's code cells, one after the other, into the statements of one module."""

    def __init__(self, notebook_name: str):
        self.notebook_name = notebook_name
        self.known_names: set[str] = set(dir(builtins))
        self.future_imports: list[str] = []
        self.cells: list[tuple[int, list[tuple[str, bool]]]] = []
        self.dropped: list[DroppedLine] = []
        self.unlisted = 0

    def add_cell(self, index: int, source: str) -> None:
        """Keep the cell's imports, definitions and constants; record everything else in ``dropped``."""
        lines = source.splitlines()
        first = next((line for line in lines if line.strip()), "")
        if first.lstrip().startswith("%%"):
            reason = "IPython cell magic (the whole cell)"
            if first.lstrip().startswith(("%%writefile", "%%file")):
                reason = "%%writefile cell (its text is a file, not notebook code: submit that file instead)"
            self._drop(index, lines.index(first) + 1, first, reason)
            return
        tree, lines = self._parse_cell(index, source)
        kept: list[tuple[str, bool]] = []
        for node in tree.body:
            reason = self._drop_reason(node)
            start = node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno
            if reason is None:
                segment = _segment(lines, node)
                if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                    self.future_imports.append(segment)
                else:
                    kept.append((segment, isinstance(node, _DEFINITIONS)))
                self.known_names.update(_bound_names(node))
            elif reason:
                self._drop(index, start, lines[start - 1], reason)
        if kept:
            self.cells.append((index, kept))

    def module_source(self) -> str | None:
        """The assembled module, or None when no cell kept anything."""
        if not self.cells:
            return None
        header = '"""A notebook\'s code cells as the grader runs them: imports, definitions and constants."""'
        parts = [f"{header}\n# notebook: {self.notebook_name!r}", *self.future_imports]
        for index, segments in self.cells:
            text = segments[0][0]
            for (segment, is_definition), (_, after_definition) in zip(segments[1:], segments, strict=False):
                text += ("\n\n\n" if is_definition or after_definition else "\n") + segment
            parts.append(f"# --- cell {index} ---\n{text}")
        return "\n\n\n".join(parts) + "\n"

    def _parse_cell(self, index: int, source: str) -> tuple[ast.Module, list[str]]:
        where = f"{self.notebook_name}, cell {index}"
        try:
            return parse_quietly(source), source.splitlines()
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass  # IPython syntax (magics, shell lines, help) is turned into `pass` below, then parsed again.
        lines = source.splitlines()
        for number, line in enumerate(lines, start=1):
            reason = _magic_reason(line)
            if reason:
                self._drop(index, number, line, reason)
                lines[number - 1] = line[: len(line) - len(line.lstrip())] + "pass"
        return parse_source("\n".join(lines), where), lines

    def _drop_reason(self, node: ast.stmt) -> str | None:
        """None to keep the statement, '' to leave it out silently, else why it is dropped."""
        if isinstance(node, _IMPORTS + _DEFINITIONS):
            return None
        if isinstance(node, ast.Pass):
            return ""
        if _is_docstring(node):
            return None
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not all(_is_name_target(target) for target in targets):
                return "assignment to an attribute or item"
            if node.value is not None and not self._is_constant(node.value):
                return "assignment that runs code (only constants are kept)"
            return None
        if _is_main_guard(node):
            return 'if __name__ == "__main__" block'
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            return "top-level call"
        if isinstance(node, ast.For | ast.AsyncFor | ast.While):
            return "top-level loop"
        return "top-level statement"

    def _is_constant(self, value: ast.expr) -> bool:
        for node in ast.walk(value):
            if not isinstance(node, _LITERAL_NODES):
                return False
            if isinstance(node, ast.Name) and node.id not in self.known_names:
                return False
        return True

    def _drop(self, cell: int, line: int, text: str, reason: str) -> None:
        if len(self.dropped) >= limits.MAX_NOTES:
            self.unlisted += 1
            return
        self.dropped.append(DroppedLine(cell=cell, line=line, text=_shorten(text), reason=reason))


def _shorten(line: str) -> str:
    """A source line for a message: stripped, and cut to ``_SHOWN_CHARS`` characters."""
    line = line.strip()
    return line if len(line) <= _SHOWN_CHARS else line[: _SHOWN_CHARS - 3] + "..."


def _magic_reason(line: str) -> str | None:
    match = _MAGIC.match(line) or _MAGIC_ASSIGN.match(line)
    if match:
        return _SIGIL_REASON[match["sigil"]]
    return "IPython help" if _HELP.match(line) else None


def _segment(lines: list[str], node: ast.stmt) -> str:
    """The statement's text with decorators and a trailing comment; other statements on its lines left out."""
    decorators = getattr(node, "decorator_list", None)
    start_line, start_col = (decorators[0].lineno, 0) if decorators else (node.lineno, node.col_offset)
    end_line, end_col = node.end_lineno or node.lineno, node.end_col_offset
    chunk = [line.encode() for line in lines[start_line - 1 : end_line]]  # ast's columns count UTF-8 bytes
    if chunk[-1][end_col:].lstrip().startswith(b"#"):
        end_col = len(chunk[-1])
    if len(chunk) == 1:
        return chunk[0][start_col:end_col].decode()
    return b"\n".join([chunk[0][start_col:], *chunk[1:-1], chunk[-1][:end_col]]).decode()


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, _IMPORTS):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    if isinstance(node, _DEFINITIONS):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {
        name.id for target in targets if target is not None for name in ast.walk(target) if isinstance(name, ast.Name)
    }


def _is_name_target(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, ast.Tuple | ast.List) and all(isinstance(item, ast.Name) for item in target.elts)


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` (either operand order)."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare) or len(node.test.comparators) != 1:
        return False
    operands = [node.test.left, node.test.comparators[0]]
    names = [item.id for item in operands if isinstance(item, ast.Name)]
    constants = [item.value for item in operands if isinstance(item, ast.Constant)]
    return names == ["__name__"] and constants == ["__main__"] and isinstance(node.test.ops[0], ast.Eq)
