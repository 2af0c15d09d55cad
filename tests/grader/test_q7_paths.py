"""Q7's two paths on real submissions: the reference's forward in the parent, else the ViT's own, capped.

Each test trains a ViT with the grader's recipe (about 10 s on a quiet 2-core CPU), hence ``slow``.
"""

import pytest

from grader.api import grade_files
from grader.checks.own_forward import OWN_FORWARD_SHARE
from reference.bundle import bundle_submission

pytestmark = pytest.mark.slow

MEAN_POOLING = """
_ContractViT = ViT


class ViT(_ContractViT):
    def forward(self, x):
        x = self.patch_embed(x)  # (B, N, D)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed  # (B, N + 1, D)
        return self.head(self.norm(self.blocks(x)).mean(dim=1))  # (B, num_classes)
"""
TWO_MISTAKES = MEAN_POOLING.replace("self.head(self.norm(self.blocks(x))", "self.head((self.blocks(x))")


def q7(source: str, tmp_path):
    module = tmp_path / "vit.py"
    module.write_text(source)
    report = grade_files([module], device="cpu", select=["q7.accuracy"])
    assert report.succeeded, report.message
    (check,) = report.checks
    return check


def test_a_known_mistake_is_evaluated_by_the_grader_and_keeps_full_credit(tmp_path):
    check = q7(bundle_submission() + MEAN_POOLING, tmp_path)
    assert check.details["known_mistake"] == "q6.mean_pooling", check.details
    assert check.details["share"] == 1.0 and "computed by the grader" in check.details["evaluated_by"]
    assert check.details["accuracy"] > check.details["floor"]
    assert check.score > OWN_FORWARD_SHARE * check.max_score, check.message


def test_an_unknown_forward_earns_at_most_the_capped_share(tmp_path):
    check = q7(bundle_submission() + TWO_MISTAKES, tmp_path)
    assert check.details["forward"] == "own" and check.details["share"] == OWN_FORWARD_SHARE, check.details
    assert 0 < check.score <= OWN_FORWARD_SHARE * check.max_score + 1e-9, check.message
    assert "cannot verify" in check.message, check.message
