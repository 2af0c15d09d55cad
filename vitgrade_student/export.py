"""A notebook -> ``vit.py`` and ``answers.md``, by the grader's rules for notebooks (a minimal copy).

From the code cells the grader keeps imports, function and class definitions, docstrings and
assignments of literal constants (``EMBED_DIM = 64``); it drops everything else (training loops,
calls, prints, ``%magics``, ``!shell`` lines, ``%%`` cells). The kit's own imports are dropped too:
the grader does not have this package. The written answers are the markdown from the first
``## Q..`` heading on. Outputs are never read.
"""

import ast
import builtins
import json
import re
from pathlib import Path

KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
LITERALS = (
    ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.UnaryOp, ast.BinOp, ast.Name, ast.Load,
    ast.USub, ast.UAdd, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Pow, ast.Mod,
)  # fmt: skip
MAGIC = re.compile(r"^\s*(%|!|\?)|\?\s*$")
QUESTION_HEADING = re.compile(r"^##\s+Q\d", re.MULTILINE)
KIT = "vitgrade_student"


def _is_kit_import(node: ast.stmt) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == KIT
    return isinstance(node, ast.Import) and any(a.name.split(".")[0] == KIT for a in node.names)


def _is_constant(value: ast.expr | None, known: set[str]) -> bool:
    if value is None:
        return True
    return all(isinstance(n, LITERALS) and (not isinstance(n, ast.Name) or n.id in known) for n in ast.walk(value))


def _segment(lines: list[str], node: ast.stmt) -> str:
    """The statement's text, decorators included (ast's columns count UTF-8 bytes)."""
    decorators = getattr(node, "decorator_list", None)
    start_line, start_col = (decorators[0].lineno, 0) if decorators else (node.lineno, node.col_offset)
    chunk = [line.encode() for line in lines[start_line - 1 : node.end_lineno]]
    if len(chunk) == 1:
        return chunk[0][start_col : node.end_col_offset].decode()
    return b"\n".join([chunk[0][start_col:], *chunk[1:-1], chunk[-1][: node.end_col_offset]]).decode()


def cell_statements(source: str, known: set[str]) -> list[str]:
    """The statements of one code cell the grader keeps (``known``: names bound so far, updated)."""
    if source.lstrip().startswith("%%"):
        return []
    lines = [("pass" if MAGIC.search(line) else line) for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []  # the grader reports it; the upload carries what parses
    kept = []
    for node in tree.body:
        keep = isinstance(node, KEEP) and not _is_kit_import(node)
        keep = keep or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        )
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            keep = all(isinstance(t, ast.Name) for t in targets) and _is_constant(node.value, known)
        if keep:
            kept.append(_segment(lines, node))
            for target in ast.walk(node):
                if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store):
                    known.add(target.id)
            if isinstance(node, KEEP[2:]):
                known.add(node.name)
            if isinstance(node, KEEP[:2]):
                known.update((a.asname or a.name).split(".")[0] for a in node.names)
    return kept


def export_notebook(notebook: str | Path) -> tuple[str, str]:
    """(module source, answers markdown) of a saved notebook."""
    data = json.loads(Path(notebook).read_text(encoding="utf-8"))
    known = set(dir(builtins))
    code, markdown = [], []
    for cell in data.get("cells", []):
        source = cell.get("source", "")
        source = source if isinstance(source, str) else "".join(source)
        if cell.get("cell_type") == "code":
            code += cell_statements(source, known)
        elif cell.get("cell_type") == "markdown":
            markdown.append(source)
    text = "\n\n".join(markdown)
    first = QUESTION_HEADING.search(text)
    answers = text[first.start() :] if first else ""
    header = f'"""The code cells of {Path(notebook).name} as the grader keeps them (exported by vitgrade_student)."""'
    return header + "\n\n" + "\n\n\n".join(code) + "\n", answers + ("\n" if answers else "")


def write_submission(notebook: str | Path, directory: str | Path) -> list[Path]:
    """Write ``vit.py`` (and ``answers.md`` when the notebook has answers) into ``directory``."""
    module, answers = export_notebook(notebook)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = [directory / "vit.py"]
    files[0].write_text(module, encoding="utf-8")
    if answers.strip():
        files.append(directory / "answers.md")
        files[1].write_text(answers, encoding="utf-8")
    return files
