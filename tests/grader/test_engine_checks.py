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
    structure = checks["q8.structure"]
    assert structure.status is CheckStatus.failed
    assert "cls_token: expected shape (1, 1, 384), got (1, 1, 192)" in structure.message, structure.message
    assert checks["q8.forward"].status is CheckStatus.failed
    assert "its logits cannot be checked" in checks["q8.forward"].message, checks["q8.forward"].message


class RecordingSandbox:
    """A fake child for a unit test of the Q7 check: records what crosses, answers with untrained weights.

    ``predict`` (the probe of the forward) answers with the reference's logits, as a correct ViT would.
    """

    def __init__(self, state):
        self.sent: list[tuple[str, dict, dict]] = []
        self.state = state

    def request(self, op, args, tensors=None, timeout=None):
        from types import SimpleNamespace

        import torch

        from grader.sandbox.harness import normalize
        from reference.vit import ViT

        self.sent.append((op, args, dict(tensors or {})))
        if op == "train":
            out = {f"state.{k}": v.clone() for k, v in self.state.items()}
            return SimpleNamespace(values={"seconds": 0.1, "final_loss": 2.3}, tensors=out)
        model = ViT(**args["kwargs"])
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("state.")})
        with torch.no_grad():
            return SimpleNamespace(values={}, tensors={"logits": model.eval()(normalize(tensors["images"], torch))})


def test_q7_sends_no_test_digit_to_training_and_predicts_in_the_parent():
    import torch

    from grader.checks.own_forward import PROBE
    from grader.checks.q7_accuracy import MODEL, accuracy
    from grader.checks.registry import CheckFailed
    from grader.runner import GradingContext
    from grader.sandbox.harness import normalize
    from reference.mnist import load_split
    from reference.vit import ViT

    torch.manual_seed(3)
    untrained = ViT(**MODEL).eval()
    box = RecordingSandbox(untrained.state_dict())
    with pytest.raises(CheckFailed) as failed:
        accuracy(GradingContext(sandbox=box, submission=None, check_id="q7.accuracy"))
    (probe_op, _, probe_tensors), (train_op, train_args, train_tensors) = box.sent
    assert probe_op == "predict", "the forward is probed before the child sees a label"
    train = load_split("bundled", train=True)
    assert torch.equal(probe_tensors["images"], train.images[:PROBE]), "probed on training digits"
    assert train_op == "train" and set(train_tensors) == {"train_images", "train_labels"}, "no test digit in training"
    assert train_args["kwargs"]["embed_dim"] == 64 and train_args["recipe"]["epochs"] == 3
    probe_state = {k[6:]: v for k, v in probe_tensors.items() if k.startswith("state.")}
    assert not torch.equal(probe_state["head.weight"], untrained.state_dict()["head.weight"]), "the grader's weights"
    test = load_split("bundled", train=False)
    sent = [t for _, _, tensors in box.sent for t in tensors.values()]
    assert not any(t.shape == test.labels.shape and bool((t == test.labels).all()) for t in sent), "labels stay here"
    assert not any(t.shape[1:] == (28, 28) and bool((t[:1] == test.images[:1]).all()) for t in sent), "no test digit"
    with torch.no_grad():
        expected = float((untrained(normalize(test.images, torch)).argmax(dim=1) == test.labels).double().mean())
    details = failed.value.details
    assert details["accuracy"] == pytest.approx(expected, abs=1e-6)
    assert details["forward"] == "reference" and "reference ViT" in details["evaluated_by"]
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
