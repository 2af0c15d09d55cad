"""Bounded cost per submission: request limits derived from the reference's measured time, a component that
timed out is not waited for again, and all module requests share one budget."""

import re

import pytest

from grader.api import grade_files
from grader.report import CheckStatus
from grader.sandbox import SandboxLimits
from grader.settings import GraderSettings
from grader.timing import TimingSettings, reference_time, request_limits
from reference.bundle import bundle_submission

LOOPING_VIT = """
class ViT(ViT):
    def forward(self, x):
        while True:
            pass
"""
SLOW_MLP = """
import time


class MLP(MLP):
    def forward(self, x):
        time.sleep(0.5)
        return super().forward(x)
"""
NEEDS_VIT = ["q6.shape", "q6.equivalence", "q6.property", "q6.parameters", "q6.extra", "q7.accuracy"]


def _module(tmp_path, attack: str):
    path = tmp_path / "vit.py"
    path.write_text(bundle_submission() + "\n\n" + attack)
    return path


def test_limits_are_multiples_of_the_reference_time_with_a_floor_and_a_ceiling():
    measured = reference_time("cpu", SandboxLimits())
    assert reference_time("cpu", SandboxLimits(request_timeout_s=7)) is measured, "once per process and device"
    assert 0 < measured.forward_s < 5 and 0 < measured.per_sample_s < measured.forward_s
    derived = request_limits("cpu", TimingSettings(request_floor_s=1e-6, request_multiple=50), SandboxLimits())
    assert (
        derived.module_s == pytest.approx(50 * measured.forward_s, abs=0.1)
        and derived.module_s >= 50 * measured.forward_s
    )
    floored = request_limits("cpu", TimingSettings(request_floor_s=1e4), SandboxLimits(request_timeout_s=1e6))
    assert floored.module_s == 1e4
    capped = request_limits("cpu", TimingSettings(request_floor_s=1e4), SandboxLimits(request_timeout_s=30))
    assert capped.module_s == 30 and capped.timm_s == 60
    train = {"recipe": {"epochs": 3}}
    assert derived.training_s(train, {}) == derived.training_floor_s
    many = derived.training_s(train, {"train_images": range(10**7)})
    assert many == pytest.approx(derived.training_multiple * measured.per_sample_s * 3 * 10**7, abs=0.1)


def test_a_vit_looping_in_forward_costs_one_limit_and_the_checks_that_need_it_skip(tmp_path):
    settings = GraderSettings(timing=TimingSettings(request_floor_s=3.0))
    report = grade_files(
        [_module(tmp_path, LOOPING_VIT)], device="cpu", select=["q6.*", "q7.accuracy"], settings=settings
    )
    by_id = {c.id: c for c in report.checks}
    assert report.succeeded, report.message
    assert by_id["q6.sinusoidal"].status is CheckStatus.passed
    timed_out = by_id["q6.shape"]
    assert timed_out.status is CheckStatus.error and "took longer than" in timed_out.message, timed_out.message
    limit = float(re.search(r"longer than ([\d.]+) ?s", timed_out.message).group(1))
    assert 3.0 <= limit <= 30
    skip = re.compile(rf"^skipped: your ViT's forward did not return within {limit:g} s in q6\.shape$")
    for check_id in NEEDS_VIT[1:]:
        check = by_id[check_id]
        assert check.status is CheckStatus.error and check.score == 0 and check.max_score > 0
        assert skip.match(check.message), f"{check_id}: {check.message}"
        assert check.duration_s < 2, f"{check_id} waited {check.duration_s}s instead of skipping at once"
    assert report.duration_s < limit + 60, f"the grade took {report.duration_s}s for one {limit}s timeout"


def test_all_module_requests_share_one_budget(tmp_path):
    timing = TimingSettings(module_budget_floor_s=1.5, module_budget_multiple=1e-9)
    settings = GraderSettings(timing=timing)
    report = grade_files([_module(tmp_path, SLOW_MLP)], device="cpu", select=["q2.*", "q5.*"], settings=settings)
    used_up = [c for c in report.checks if "used up the 1.5 s" in c.message]
    assert report.succeeded and used_up, [(c.id, c.message[:120]) for c in report.checks]
    assert all(c.score == 0 and c.status is CheckStatus.error for c in used_up)
    assert report.duration_s < 1.5 + 30
