"""CUDA paths (``-m gpu``, on a machine with a GPU): a grade on ``cuda:N`` runs the child on that GPU only."""

import pytest
import torch

from grader.api import grade_files
from reference.bundle import bundle_submission

pytestmark = pytest.mark.gpu


@pytest.fixture
def reference_file(tmp_path):
    path = tmp_path / "vit.py"
    path.write_text(bundle_submission())
    return path


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_reference_gets_full_code_marks_on_the_last_gpu(reference_file):
    device = f"cuda:{torch.cuda.device_count() - 1}"
    report = grade_files([reference_file], device=device, select=["q[1-6].*"])
    lost = [(c.id, c.message[:200]) for c in report.checks if c.score < c.max_score]
    assert report.succeeded and report.score == report.max_score > 0, lost
    assert report.environment.device == device
