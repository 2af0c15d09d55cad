"""The engine's own checks: Q7's credit curve, the written-answer rubric, and Q8 on wrong students."""

import pytest

from grader.api import grade_files
from grader.checks.points import POINTS
from grader.checks.q7_accuracy import FLOOR, MARGIN, credit
from grader.checks.written import load_rubric, score_answer
from grader.report import CheckStatus
from reference.bundle import bundle_submission


def test_accuracy_credit_is_full_near_the_reference_linear_to_the_floor_and_zero_below():
    reference, floor = 0.74, FLOOR["bundled"]
    assert credit(0.80, reference, floor) == 1.0
    assert credit(reference - MARGIN, reference, floor) == 1.0
    assert credit((reference - MARGIN + floor) / 2, reference, floor) == pytest.approx(0.5)
    assert credit(floor, reference, floor) == 0.0
    assert credit(0.10, reference, floor) == 0.0
    assert credit(0.49, 0.45, floor) == 0.0, "a weak reference never lowers the floor"


def test_rubric_covers_every_written_check():
    rubric = load_rubric()
    for check_id in (key for key in POINTS if key.startswith("written.")):
        question = "Q" + check_id.split(".")[1][1:]
        assert question in rubric and rubric[question].concepts, f"{check_id}: no concepts for {question}"


def test_written_score_lists_concepts_found_and_missing():
    rubric = load_rubric()["Q3"]
    empty = score_answer(rubric, "I like transformers.")
    assert empty.fraction == 0 and empty.details["found"] == [] and empty.details["auto_checked"] is True
    assert len(empty.details["missing"]) == len(rubric.concepts)
    partial = score_answer(rubric, "Each token attends to all the tokens: a global receptive field.")
    assert 0 < partial.fraction < 1 and any("global receptive field" in name for name in partial.details["found"])
    assert "missing:" in partial.message


def grade_q8(override: str, tmp_path):
    module = tmp_path / "vit.py"
    module.write_text(bundle_submission() + "\n\n" + override + "\n")
    return {c.id: c for c in grade_files([module], device="cpu", select=["q8.*"]).checks}


def test_q8_pretrained_fails_when_the_weights_file_is_ignored(tmp_path):
    checks = grade_q8(
        "_contract_vit_small = vit_small_for_mnist\n\n\n"
        "def vit_small_for_mnist(pretrained=False, weights_file=None, **kwargs):\n"
        "    return _contract_vit_small(pretrained=False, **kwargs)",
        tmp_path,
    )
    assert checks["q8.structure"].status is CheckStatus.passed
    assert checks["q8.forward"].status is CheckStatus.passed
    pretrained = checks["q8.pretrained"]
    assert pretrained.status is CheckStatus.failed, pretrained.message
    assert "pos_embed is not the checkpoint's pos_embed" in pretrained.message
    assert pretrained.details["pos_embed_max_abs_error"] > 1e-3


def test_q8_structure_and_forward_name_what_is_wrong(tmp_path):
    checks = grade_q8(
        "import timm as _timm\n\n\n"
        "def vit_small_for_mnist(pretrained=False, weights_file=None, **kwargs):\n"
        "    return _timm.create_model('vit_tiny_patch16_224', img_size=28, in_chans=1, num_classes=7, patch_size=4)",
        tmp_path,
    )
    assert checks["q8.structure"].status is CheckStatus.failed
    assert "embed_dim expected 384, got 192" in checks["q8.structure"].message
    assert "num_classes expected 10, got 7" in checks["q8.structure"].message
    assert checks["q8.forward"].status is CheckStatus.failed and "(3, 10)" in checks["q8.forward"].message


class RecordingSandbox:
    """A fake child for a unit test of the Q7 check: records what crosses, answers class 0 for every digit."""

    def __init__(self):
        self.sent: list[tuple[str, dict, dict]] = []

    def request(self, op, args, tensors=None, timeout=None):
        from types import SimpleNamespace

        import torch

        self.sent.append((op, args, dict(tensors or {})))
        n = len(tensors["test_images"])
        return SimpleNamespace(
            values={"seconds": 0.1, "final_loss": 2.3}, tensors={"predictions": torch.zeros(n).long()}
        )


def test_q7_sends_no_test_labels_and_scores_in_the_parent():
    from grader.checks.q7_accuracy import accuracy
    from grader.checks.registry import CheckFailed
    from grader.runner import GradingContext
    from reference.mnist import load_split

    box = RecordingSandbox()
    with pytest.raises(CheckFailed) as failed:
        accuracy(GradingContext(sandbox=box, submission=None, check_id="q7.accuracy"))
    ((op, args, tensors),) = box.sent
    assert op == "train_predict" and set(tensors) == {"train_images", "train_labels", "test_images"}
    assert args["kwargs"]["embed_dim"] == 64 and args["recipe"]["epochs"] == 3
    labels = load_split("bundled", train=False).labels
    assert not any(
        t.shape == labels.shape and t.dtype == labels.dtype and bool((t == labels).all()) for t in tensors.values()
    ), "the test labels never leave the parent"
    details = failed.value.details
    assert details["accuracy"] == pytest.approx(float((labels == 0).double().mean()))
    assert "none below 50%" in failed.value.message and "reference" in failed.value.message


def test_an_unwritable_cache_costs_time_not_a_grade(tmp_path):
    from grader.cache import write_atomically
    from grader.checks.q8_timm import checkpoint_bytes

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    assert write_atomically(blocker / "sub" / "x.json", b"{}") is False
    data = checkpoint_bytes(blocker / "cache")
    assert len(data) > 80_000_000 and not (blocker / "cache").exists()
    assert write_atomically(tmp_path / "ok" / "x.json", b"{}") and (tmp_path / "ok" / "x.json").read_bytes() == b"{}"
    assert not list((tmp_path / "ok").glob("*.partial"))
