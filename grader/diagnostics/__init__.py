"""Known mistakes of Q1-Q6 as variants of the reference, and matching a wrong answer to them.

Importing the package registers every mistake in ``MISTAKES``.
"""

from grader.diagnostics import (  # noqa: F401 - importing registers the mistakes
    mlp,
    multi_head_attention,
    patch_embedding,
    positional,
    self_attention,
    transformer_block,
    vit,
)
from grader.diagnostics.catalog import MISTAKES, Mistake, applicable, with_mistakes
from grader.diagnostics.match import Diagnosis, diagnose_function, diagnose_module, hint_from

__all__ = [
    "MISTAKES",
    "Diagnosis",
    "Mistake",
    "applicable",
    "diagnose_function",
    "diagnose_module",
    "hint_from",
    "with_mistakes",
]
