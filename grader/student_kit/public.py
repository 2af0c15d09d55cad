"""What of the grader the student kit may know: the public Q1-Q6 checks, their tolerances and default hints.

Read from the check modules (never copied), so a tolerance changed there changes the kit. Hidden
checks, Q7, Q8, the written answers and the from-scratch rule are not public checks here.
"""

import sys

from grader.checks.compare import Tolerance
from grader.checks.registry import REGISTRY, CheckSpec
from grader.questions import POINTS

LOCAL_QUESTIONS = ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6")


def public_checks() -> list[CheckSpec]:
    """The visible shape, equivalence and property checks of Q1-Q6, in the table's order."""
    import grader.checks  # noqa: F401 - importing registers every check

    return [
        REGISTRY[c]
        for c in POINTS
        if c in REGISTRY
        and REGISTRY[c].question in LOCAL_QUESTIONS
        and not REGISTRY[c].hidden
        and c.split(".")[0] in {q.lower() for q in LOCAL_QUESTIONS}
    ]


def kit_checks() -> list[CheckSpec]:
    """The public checks the kit replays: all but ``vitgrade_student.checks.SUBMIT_ONLY`` (checked at submission)."""
    from vitgrade_student.checks import SUBMIT_ONLY

    return [spec for spec in public_checks() if spec.id not in SUBMIT_ONLY]


def _module_of(spec: CheckSpec) -> object:
    return sys.modules[spec.func.__module__]


def tolerance_of(spec: CheckSpec) -> Tolerance:
    """The CPU tolerance the check compares with (the sinusoidal table has its own)."""
    module = _module_of(spec)
    return module.PE_TOL if spec.id == "q6.sinusoidal" else module.TOL


def default_hint_of(spec: CheckSpec) -> str:
    """The hint the check gives when no known mistake is recognised."""
    module = _module_of(spec)
    return module.PE_HINT if spec.id == "q6.sinusoidal" else module.DEFAULT_HINT


def public_seed(grading_seed: int) -> int:
    """The kit's seed: never the grading seed, so the shipped expected outputs are not the scored ones."""
    seed = (grading_seed * 7919 + 104729) % (2**31 - 1)
    return seed if seed != grading_seed else seed + 1
