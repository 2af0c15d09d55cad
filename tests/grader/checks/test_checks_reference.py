"""The reference scores full marks on every Q1-Q6 check, and the untouched template scores zero without errors."""

import pytest
from checks_support import Q1_Q6_CHECKS, InProcessSandbox, grade

from grader.checks.registry import REGISTRY


@pytest.mark.parametrize("check_id", Q1_Q6_CHECKS)
def test_reference_passes_with_full_marks(check_id, reference_box, reference_source):
    verdict = grade(check_id, reference_box, reference_source)
    assert (verdict.status, verdict.fraction) == ("passed", 1.0), verdict.message


@pytest.mark.parametrize("seed", [1, 7])
def test_reference_passes_at_other_seeds(seed, reference_box, reference_source):
    failed = [c for c in Q1_Q6_CHECKS if grade(c, reference_box, reference_source, seed=seed).status != "passed"]
    assert failed == []


def test_template_scores_zero_without_errors(repo_root):
    source = (repo_root / "student_template" / "vit.py").read_text()
    box = InProcessSandbox(source)
    try:
        verdicts = {c: grade(c, box, source) for c in Q1_Q6_CHECKS}
    finally:
        box.close()
    assert {c: v.status for c, v in verdicts.items() if v.status != "failed"} == {}
    assert sum(v.fraction for v in verdicts.values()) == 0.0


def test_hidden_checks_exist_and_are_graded():
    hidden = sorted(c for c in Q1_Q6_CHECKS if REGISTRY[c].hidden)
    assert hidden == ["q4.extra", "q6.extra"]


def test_inputs_depend_on_the_seed(reference_box, reference_source):
    a = grade("q3.equivalence", reference_box, reference_source, seed=0).details["cases"][0]
    b = grade("q3.equivalence", reference_box, reference_source, seed=1).details["cases"][0]
    assert a["expected_value"] != b["expected_value"]
