"""Hostile: a submission that records every configuration it is built with must not learn the hidden ones.

The attack (the reference plus spies) prints each constructor's keyword arguments, and makes a later
visible check fail with every configuration seen so far in its error message. The student view, and
every format a student is given (JSON, Gradescope, JUnit, text, and the service's renderings), must
hold none of the hidden checks' configurations; the instructor's report keeps the log that shows them.
"""

import re
from pathlib import Path

import pytest

from grader.api import grade_files
from grader.checks import q4_multi_head_attention as q4
from grader.checks import q6_vit as q6
from grader.formats import FORMATS, render
from grader.report import Report
from reference.bundle import bundle_submission
from service.formats import render_report
from service.stored_report import load

SELECT = ["q4.*", "q5.shape", "q6.shape", "q6.equivalence", "q6.extra"]
ATTACK = """
import os

_SEEN = []
_CHILD = os.urandom(6).hex()  # one per process that imports the module


def _token(kwargs):
    return "CFG(" + ",".join(f"{key}={kwargs[key]}" for key in sorted(kwargs)) + ")"


def _spy(cls):
    class Spy(cls):
        def __init__(self, *args, **kwargs):
            _SEEN.append(_token(kwargs))
            print("constructed", cls.__name__, _token(kwargs), "in child", _CHILD, flush=True)
            super().__init__(*args, **kwargs)

    Spy.__name__ = Spy.__qualname__ = cls.__name__
    return Spy


MultiHeadSelfAttention = _spy(MultiHeadSelfAttention)
ViT = _spy(ViT)


class TransformerBlock(TransformerBlock):
    def __init__(self, *args, **kwargs):
        raise ValueError("configurations seen so far: " + " ".join(_SEEN))
"""


def token(kwargs: dict) -> str:
    return "CFG(" + ",".join(f"{key}={kwargs[key]}" for key in sorted(kwargs)) + ")"


def hidden_tokens() -> set[str]:
    visible = [*q4.SHAPE_CASES, *q4.EQUIVALENCE_CASES, *q6.SHAPE_CASES, *q6.EQUIVALENCE_CASES]
    shown = {token(case.kwargs) for case in visible}
    return {token(case.kwargs) for case in [*q4.EXTRA_CASES, *q6.EXTRA_CASES]} - shown


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Report:
    module = Path(tmp_path_factory.mktemp("hidden")) / "vit.py"
    module.write_text(bundle_submission() + "\n\n# --- attack ---\n" + ATTACK)
    return grade_files([module], device="cpu", select=SELECT)


def test_the_attack_saw_the_hidden_configurations(report):
    secrets = hidden_tokens()
    assert secrets, "the hidden checks must use configurations the visible checks do not"
    assert report.succeeded, report.message
    missing = [secret for secret in secrets if secret not in report.log]
    assert not missing, f"the instructor's log should show what the submission printed; missing {missing}"


def test_student_facing_outputs_hold_no_hidden_configuration(report):
    view = report.student_view()
    outputs = {"student_view": view.model_dump_json()}
    for fmt in FORMATS:
        outputs[f"grader {fmt}"] = render(report, fmt, student_view=True)
    stored = load(report.model_dump(mode="json"))  # what the service reads back from its results table
    outputs["service json"] = str(render_report(stored, "json"))
    for fmt in ("gradescope", "junit"):
        outputs[f"service {fmt}"] = render_report(stored, fmt)
    leaks = {name: [s for s in hidden_tokens() if s in text] for name, text in outputs.items()}
    assert not any(leaks.values()), f"hidden configurations reach the student: {leaks}"
    assert view.log == "", "the student view never holds the submission's log"


def test_hidden_checks_run_after_every_visible_check_in_their_own_child(report):
    children: dict[str, set[str]] = {}
    for line in report.log.splitlines():
        match = re.search(r"constructed \w+ (CFG\(.*?\)) in child (\w+)", line)
        if match:
            children.setdefault(match.group(1), set()).add(match.group(2))
    secrets = hidden_tokens()
    hidden_children = set().union(*(children.get(s, set()) for s in secrets))
    visible_children = set().union(*(ids for cfg, ids in children.items() if cfg not in secrets))
    assert hidden_children and visible_children, report.log[-2000:]
    assert not hidden_children & visible_children, "a hidden check ran in a child that a visible check used"
    visible_messages = " ".join(check.message + check.hint for check in report.checks if not check.hidden)
    assert "configurations seen so far" in visible_messages, "the attack's channel through a visible message ran"
    assert not [s for s in secrets if s in visible_messages]
    ids = [check.id for check in report.checks]
    assert ids.index("q4.extra") < ids.index("q5.shape"), "the report keeps question order whatever the run order"
