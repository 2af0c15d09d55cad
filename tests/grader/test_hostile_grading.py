"""Hostile submissions graded end to end through ``grade_files``: no forged score, the grader survives,
and the reference graded right after still gets full marks.

The attacks are the sandbox's (tests/hostile/cases.py). Attacks that only define a hostile class or
function are wired into the graded API here (``ACTIVATE``), so that the grader's own requests trigger
them; the others act at import.
"""

import importlib.util
import sys
from pathlib import Path

import pytest
from grading_support import not_full

from grader.api import grade_files
from grader.report import CheckStatus
from grader.sandbox import SandboxLimits
from grader.settings import GraderSettings

_spec = importlib.util.spec_from_file_location("hostile_cases", Path(__file__).parents[1] / "hostile" / "cases.py")
cases = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("hostile_cases", cases)
_spec.loader.exec_module(cases)

SELECT = ["q1.shape", "q4.shape", "q4.equivalence", "q6.sinusoidal"]
SETTINGS = GraderSettings(
    limits=SandboxLimits(
        request_timeout_s=20,
        start_timeout_s=60,
        total_timeout_s=240,
        memory_bytes=1536 * 2**20,
        address_space_bytes=12 * 2**30,
        processes=48,
        log_bytes=16 * 1024,
        payload_bytes=64 * 2**20,
    ),
    submission_budget_s=300,
)
ACTIVATE = {
    "fake_report": "MultiHeadSelfAttention = ForgingAttention",
    "os_exit_forward": "MultiHeadSelfAttention = ExitingAttention",
    "sleep_forward": "MultiHeadSelfAttention = SleepingAttention",
    "tensor_subclass": "MultiHeadSelfAttention = LyingAttention",
    "huge_output": "def sinusoidal_positional_encoding(num_tokens, embed_dim):\n    return huge()",
    "memory_bomb": "def sinusoidal_positional_encoding(num_tokens, embed_dim):\n    return bomb_at_once()",
}
# Attacks that break the graded answers: they must cost points. The others leave the reference's answers
# intact (patch_torch patches the child's torch and harness class, but the parent compares), so full marks
# there are earned, not forged.
MUST_LOSE = {*ACTIVATE, "sys_exit_import", "import_loop", "oversized_reply"}
SLOW = {"sleep_forward", "import_loop"}


def grade_source(source: str, tmp_path: Path):
    module = tmp_path / "vit.py"
    module.write_text(source)
    return grade_files([module], device="cpu", select=SELECT, settings=SETTINGS)


PARAMS = [
    pytest.param(case, id=case.name, marks=[pytest.mark.slow] if case.name in SLOW else []) for case in cases.CASES
]


@pytest.mark.parametrize("case", PARAMS)
def test_hostile_submission_gets_no_forged_score(case, tmp_path):
    source = case.source()
    if case.name in ACTIVATE:
        source += "\n\n" + ACTIVATE[case.name] + "\n"
    report = grade_source(source, tmp_path)
    assert report.succeeded, f"the grader failed on {case.name}: {report.message}"
    assert report.gradable
    assert 0 <= report.score <= report.max_score
    assert all(0 <= c.score <= c.max_score for c in report.checks)
    assert [c.id for c in report.checks] == SELECT, "the report is the parent's, whatever the child printed"
    faults = [c.id for c in report.checks if c.status is CheckStatus.error and "not your fault" in c.message]
    assert not faults, faults
    assert len(report.log) <= SETTINGS.log_bytes + 200, "the submission's log is capped"
    if case.name in MUST_LOSE:
        assert report.score < report.max_score, f"{case.name} kept full marks: forged or not triggered"
    after = grade_source(cases.HostileCase("none", case.path).source().split("# --- attack ---")[0], tmp_path)
    assert after.succeeded and after.score == after.max_score, not_full(after)
