"""The public checks of Q1-Q6, run locally: ``check("q3")``, ``check_all()``.

Each check replays the grader's requests (from the shipped fixtures) on your code and gives the
grader's verdict: passed, failed (with the message and hint, "not implemented yet" for a
``NotImplementedError``) or error (your code raised). Nothing is trained; each question takes well
under a second on a laptop CPU. The service's score also counts hidden configurations, Q7, Q8 and
the written answers, which never run here.
"""

import time
from collections.abc import Callable, Mapping
from typing import Any

from vitgrade_student import flows, properties, runtime
from vitgrade_student.compare import CheckFailed
from vitgrade_student.fixtures import CheckData, Fixtures, load_fixtures
from vitgrade_student.results import LocalResult, Results

Names = Mapping[str, Any]
CheckFunction = Callable[[Names, CheckData, Fixtures], Any]

CHECKS: dict[str, CheckFunction] = {
    "q1.shape": flows.check_shapes,
    "q1.equivalence": flows.check_equivalence,
    "q1.property": properties.q1_property,
    "q2.shape": flows.check_shapes,
    "q2.equivalence": flows.check_equivalence,
    "q2.property": properties.q2_property,
    "q3.shape": flows.check_shapes,
    "q3.equivalence": flows.check_equivalence,
    "q3.property": properties.q3_property,
    "q4.shape": flows.check_shapes,
    "q4.equivalence": flows.check_equivalence,
    "q4.property": properties.q4_property,
    "q5.shape": flows.check_shapes,
    "q5.equivalence": flows.check_equivalence,
    "q5.property": properties.q5_property,
    "q6.sinusoidal": properties.q6_sinusoidal,
    "q6.shape": flows.check_shapes,
    "q6.equivalence": flows.check_equivalence,
}
# Public checks the kit does not replay: their requests depend on your module's answers (a reference fitted
# to your parameter set, sub-modules swapped one at a time to trace a difference), so a replay could show a
# verdict the grader would not give. They are checked when you submit.
SUBMIT_ONLY: dict[str, str] = {
    "q1.contract": "the parameter set against the contract",
    "q2.contract": "the parameter set against the contract",
    "q3.contract": "the parameter set against the contract",
    "q4.contract": "the parameter set against the contract",
    "q5.contract": "the parameter set against the contract",
    "q6.contract": "the parameter set against the contract",
    "q5.end_to_end": "the block with your own attention and MLP, traced to the sub-module that differs",
    "q6.end_to_end": "the ViT with your own patch embedding and blocks, traced to the sub-module that differs",
    "q6.property": "[CLS] at index 0 and the positional embedding, on a ViT whose logits depend on the image",
    "q6.parameters": "the parameter count, counted on your own parameter set",
}
ERROR_HINTS = {
    "not_implemented": "Replace the `raise NotImplementedError` with your implementation.",
    "state_dict": "Use the attribute names and shapes of the student API (docs: Student API contract).",
    "missing_name": "Define every name of the student API at the top level of your module.",
    "bad_output": "Return a plain torch.Tensor of the documented shape.",
}


def run_check(check_id: str, names: Names, fixtures: Fixtures) -> LocalResult:
    """One public check on the names in ``names``; never raises for what your code does."""
    data = fixtures.checks[check_id]
    start = time.perf_counter()
    fields: dict[str, Any] = {}
    try:
        outcome = CHECKS[check_id](names, data, fixtures)
        if isinstance(outcome, tuple):  # partial credit: (fraction, message, hint, details)
            fraction, message, hint, details = outcome
            status = "passed" if fraction >= 1.0 - 1e-9 else "failed"
            fields = {"status": status, "fraction": fraction, "message": message, "hint": hint, "details": details}
        else:
            fields = {"status": "passed", "fraction": 1.0, "details": outcome or {}}
    except CheckFailed as failure:
        fields = {"status": "failed", "message": failure.message, "hint": failure.hint, "details": failure.details}
    except runtime.StudentCodeError as error:
        fields = _error_fields(error)
    return LocalResult(
        id=check_id,
        question=data.question,
        category=data.category,
        points=data.points,
        seconds=round(time.perf_counter() - start, 4),
        **fields,
    )


def _error_fields(error: runtime.StudentCodeError) -> dict[str, Any]:
    if error.kind == "not_implemented":
        return {"status": "failed", "message": f"not implemented yet: {error.message}", "hint": ERROR_HINTS[error.kind]}
    if error.kind in ERROR_HINTS:
        return {"status": "failed", "message": error.message, "hint": ERROR_HINTS[error.kind]}
    message = error.message if not error.trace else f"{error.message}\n{error.trace}"
    return {
        "status": "error",
        "message": f"your code raised {message}",
        "hint": "Run this part of your module on a small input to reproduce the error.",
    }


def check(question: str, code: Any = None, *, fixtures: Fixtures | None = None) -> Results:
    """Run the public checks of one question (``"q3"``, ``"Q3"``) or one check (``"q3.equivalence"``).

    ``code``: where your classes are; by default the notebook's (or script's) own globals, else a
    module, a dict of names or the path of a ``.py`` file.
    """
    fixtures = fixtures or load_fixtures()
    wanted = question.lower()
    ids = [c for c in fixtures.checks if c == wanted or c.split(".")[0] == wanted]
    if not ids and (wanted in SUBMIT_ONLY or any(c.split(".")[0] == wanted for c in SUBMIT_ONLY)):
        raise ValueError(f"{question!r} is checked when you submit, not locally: {SUBMIT_ONLY.get(wanted, '')}.")
    if not ids:
        questions = sorted({c.split(".")[0] for c in fixtures.checks})
        raise ValueError(f"No public checks for {question!r}; the local checks cover {questions}.")
    names = runtime.namespace_of(code)
    later = tuple(c for c in SUBMIT_ONLY if c.split(".")[0] == wanted)
    return Results(tuple(run_check(c, names, fixtures) for c in ids), submit_only=later)


def check_all(code: Any = None, *, fixtures: Fixtures | None = None) -> Results:
    """Every public check of Q1-Q6, in the grader's order."""
    fixtures = fixtures or load_fixtures()
    names = runtime.namespace_of(code)
    return Results(tuple(run_check(c, names, fixtures) for c in fixtures.checks), submit_only=tuple(SUBMIT_ONLY))
