"""Generated fixtures for the similarity tests: copies of one solution, renamed and reordered."""

import io
import keyword
import random
import re
import tokenize
from pathlib import Path

from reference.bundle import bundle_submission

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "similarity"
KEEP = {"self", "torch", "nn", "math", "timm", "F", "super", "range", "int", "float", "str", "Path", "ValueError"}


def reference_solution() -> str:
    return bundle_submission()


def independent_solution() -> str:
    return (FIXTURES / "independent_vit.py").read_text()


def renamed(source: str, seed: int = 0) -> str:
    """Every identifier of the module's own (not keywords, builtins or library names) renamed."""
    own = {
        t.string
        for t in tokenize.generate_tokens(io.StringIO(source).readline)
        if t.type == tokenize.NAME and not keyword.iskeyword(t.string) and t.string not in KEEP
    }
    rng = random.Random(seed)
    for name in sorted(own):
        source = re.sub(rf"\b{re.escape(name)}\b", f"n{rng.randrange(10**6)}_{len(name)}", source)
    return source


def reordered(source: str, seed: int = 0) -> str:
    """The module's top-level classes and functions in another order."""
    head, *definitions = re.split(r"\n(?=class |def )", source)
    random.Random(seed).shuffle(definitions)
    return "\n".join([head, *definitions])


def with_comments(source: str) -> str:
    """The same code with a comment after every non-blank line and a docstring-like string removed."""
    return "\n".join(
        f"{line}  # note {i}" if line.strip() and not line.rstrip().endswith(("\\", ",")) else line
        for i, line in enumerate(source.splitlines())
    )
