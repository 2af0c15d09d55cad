"""Hostile submissions against the grades of Q7 and Q8: whatever the child claims, the parent's verdict stands.

Each attack (see cases.py) is graded end to end through ``grade_files`` with only the question it
targets; the forged points must be gone, and the reference graded the same way keeps full credit.
"""

import importlib.util
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from grader.api import grade_files
from grader.report import CheckStatus, Report
from reference.bundle import bundle_submission

_spec = importlib.util.spec_from_file_location("hostile_cases", Path(__file__).with_name("cases.py"))
cases = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("hostile_cases", cases)
_spec.loader.exec_module(cases)

Q7 = ("q7.accuracy",)
Q8 = ("q8.structure", "q8.forward", "q8.pretrained")


def grade(source: str, select: tuple[str, ...], tmp_path: Path) -> dict:
    module = tmp_path / "vit.py"
    module.write_text(source)
    report = grade_files([module], device="cpu", select=list(select))
    assert report.succeeded, report.message
    return {c.id: c for c in report.checks}


@lru_cache(maxsize=2)
def reference_report(select: tuple[str, ...]) -> Report:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="vitgrade-hostile-reference-"))
    (folder / "vit.py").write_text(bundle_submission())
    return grade_files([folder / "vit.py"], device="cpu", select=list(select))


def assert_reference_full(select: tuple[str, ...]) -> None:
    report = reference_report(select)
    assert report.succeeded and report.score == report.max_score, [
        f"{c.id}: {c.score}/{c.max_score} {c.message}" for c in report.checks
    ]


def test_q7_knn_harness(tmp_path):
    accuracy = grade(cases.BY_NAME["q7_knn_harness"].source(), Q7, tmp_path)["q7.accuracy"]
    assert accuracy.score == 0, f"forged: {accuracy.score}/{accuracy.max_score} {accuracy.message}"
    assert accuracy.status is CheckStatus.failed
    assert "missing [blocks.0.attn.k.bias" in accuracy.message, accuracy.message
    assert "unexpected [bias, knn_images, knn_labels]" in accuracy.message, accuracy.message
    # the reference's full Q7 credit: tests/grader/test_selftest.py (default suite) and the slow tests below


@pytest.mark.slow  # trains the ViT with the grader's recipe
def test_q7_patched_prediction(tmp_path):
    accuracy = grade(cases.BY_NAME["q7_patched_prediction"].source(), Q7, tmp_path)["q7.accuracy"]
    assert accuracy.score == 0, f"forged: {accuracy.score}/{accuracy.max_score} {accuracy.message}"
    assert accuracy.details["accuracy"] < 0.3, accuracy.details
    assert accuracy.details["forward"] == "own" and accuracy.details["share"] < 1, accuracy.details
    assert_reference_full(Q7)


@pytest.mark.slow  # trains the ViT with the grader's recipe
def test_q7_smuggled_weights(tmp_path):
    accuracy = grade(cases.BY_NAME["q7_smuggled_weights"].source(), Q7, tmp_path)["q7.accuracy"]
    assert accuracy.score == 0, f"forged: {accuracy.score}/{accuracy.max_score} {accuracy.message}"
    assert accuracy.details["accuracy"] < 0.3, accuracy.details
    assert accuracy.details["forward"] == "reference", "probed as the reference: its weights are scored by the grader"
    assert_reference_full(Q7)


@pytest.mark.slow  # trains the ViT with the grader's recipe
def test_q7_smuggled_weights_as_an_extra_buffer_are_refused(tmp_path):
    source = cases.BY_NAME["q7_smuggled_weights"].source() + "\nSMUGGLE_AS_BUFFER = True\n"
    accuracy = grade(source, Q7, tmp_path)["q7.accuracy"]
    assert accuracy.score == 0, f"forged: {accuracy.score}/{accuracy.max_score} {accuracy.message}"
    assert "unexpected" in accuracy.message and "knn_images" in accuracy.message, accuracy.message
    assert_reference_full(Q7)


@pytest.mark.slow  # trains the ViT with the grader's recipe
def test_q7_own_classifier(tmp_path):
    """The residual the grader accepts, bounded: a classifier of the student's own, in contract-shaped weights."""
    from grader.checks.own_forward import OWN_FORWARD_SHARE

    accuracy = grade(cases.BY_NAME["q7_own_classifier"].source(), Q7, tmp_path)["q7.accuracy"]
    assert accuracy.score <= OWN_FORWARD_SHARE * accuracy.max_score + 1e-9, f"beyond the cap: {accuracy.message}"
    assert accuracy.details["forward"] == "own" and accuracy.details["share"] == OWN_FORWARD_SHARE, accuracy.details
    assert_reference_full(Q7)


def test_q8_toy_timm(tmp_path):
    checks = grade(cases.BY_NAME["q8_toy_timm"].source(), Q8, tmp_path)
    forged = {k: c.score for k, c in checks.items() if c.score}
    assert not forged, f"forged Q8 points: {forged}: " + " | ".join(c.message for c in checks.values())
    assert "blocks.0.attn.qkv.weight" in checks["q8.structure"].message, checks["q8.structure"].message
    assert_reference_full(Q8)


def test_q8_lying_forward_keeps_only_the_structure_point(tmp_path):
    source = cases.BY_NAME["q8_toy_timm"].source() + "\nvit_small_for_mnist = lying_vit_small_for_mnist\n"
    checks = grade(source, Q8, tmp_path)
    assert checks["q8.structure"].status is CheckStatus.passed, checks["q8.structure"].message
    assert checks["q8.forward"].score == 0 and checks["q8.pretrained"].score == 0, [
        (c.id, c.score, c.message) for c in checks.values()
    ]
    assert "logits" in checks["q8.forward"].message, checks["q8.forward"].message
