"""Known mistakes written into a complete submission, the way a student would: used by the tests and by the
GPU acceptance script to check that every mistake is caught and named on a device."""

import inspect

from grader.diagnostics import positional
from grader.diagnostics.catalog import Mistake
from reference.bundle import bundle_submission


def mistake_source(mistake: Mistake) -> str:
    """The reference bundle with ``mistake`` made the way a student would: the variant class (or function)
    appended and bound to the contract's name, so every class that uses it (Q5, Q6) picks it up."""
    lines = ["", "", "import math", "import torch.nn.functional as F", ""]
    if mistake.function is not None:
        helpers = [positional._table, positional._interleave]
        lines += [inspect.getsource(f) for f in (*helpers, mistake.function)]
        lines.append(f"sinusoidal_positional_encoding = {mistake.function.__name__}")
    else:
        chain = [
            c for c in reversed(mistake.variant.__mro__) if issubclass(c, mistake.target) and c is not mistake.target
        ]
        lines += [inspect.getsource(c) for c in chain]
        lines.append(f"{mistake.target.__name__} = {mistake.variant.__name__}")
    return bundle_submission() + "\n".join(lines) + "\n"


def check_for(mistake: Mistake) -> str:
    """The check that must catch and name ``mistake`` first."""
    if mistake.function is not None:
        return "q6.sinusoidal"
    return f"{mistake.question.lower()}.equivalence"
