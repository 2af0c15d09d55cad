"""The written-answer scorer on the held-out answer sets (tests/fixtures/written_heldout, 2 and 3).

Each folder's sets were written and their TA marks committed before any scorer ran on them; each was then
measured once as a clean held-out figure (docs/written-answers.md) and has since served as development data
for general fixes. The semantic signal's threshold and exemplars were calibrated on tests/fixtures/written_corpus
only. This test measures both ways of scoring (patterns alone, patterns + semantic signal) on each folder and
asserts what the default must keep: no question over-credited on average by more than ``OVER_CREDIT`` of its
points, and the semantic signal (off by default) no worse than the patterns alone. ``SET_MAD`` holds the
ceiling of the per-set summed absolute difference (points of 25) per folder, just above the measured figure:
it fails if a change makes the agreement worse. The figures are logged and written to
``$VITGRADE_HELDOUT_REPORT`` when set.
"""

import json
import logging
import os
from pathlib import Path

import pytest
from written_agreement import agreement, grade_set, marks_of

from grader.checks.written_semantic import settings
from grader.settings import GraderSettings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SET_MAD = {  # measured with the patterns alone (the default); the semantic signal: 0.561, 0.550, 0.530
    "written_heldout": 0.6,  # 3.12 before the notes, lists and negation fixes; 0.561 after
    "written_heldout2": 0.7,  # 3.74 before; 2.34 at its one clean measurement; 0.600 after its errors were fixed
    "written_heldout3": 0.6,  # 3.03 with the first-round scorer; 1.83 at its one clean measurement; 0.530 after
}
MIN_SETS = 5
TOLERANCE = 0.3
OVER_CREDIT = 0.10
log = logging.getLogger(__name__)


def sets_of(name: str) -> list[Path]:
    return sorted(path for path in (FIXTURES / name).iterdir() if path.is_dir())


@pytest.fixture(scope="module")
def figures() -> dict[str, dict[str, dict]]:
    result: dict[str, dict[str, dict]] = {name: {} for name in SET_MAD}
    for state in ("0", "1"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("VITGRADE_WRITTEN_SEMANTIC", state)
            for name in SET_MAD:
                graded = {f.name: (grade_set(f, GraderSettings()), marks_of(f)) for f in sets_of(name)}
                result[name]["semantic" if state == "1" else "patterns"] = agreement(graded, TOLERANCE)
    log.warning("written held-out agreement: %s", json.dumps(result))
    if os.environ.get("VITGRADE_HELDOUT_REPORT"):
        Path(os.environ["VITGRADE_HELDOUT_REPORT"]).write_text(json.dumps(result, indent=2))
    return result


@pytest.mark.parametrize("name", sorted(SET_MAD))
def test_heldout_sets_are_many_and_marked_everywhere(name):
    assert len(sets_of(name)) >= MIN_SETS
    for folder in sets_of(name):
        marks = marks_of(folder)
        assert len(marks) == 9 and all(entry["why"] for entry in marks.values()), folder.name


@pytest.mark.parametrize("name", sorted(SET_MAD))
def test_the_default_scorer_agrees_with_the_ta_on_unseen_answers(figures, name):
    default = figures[name]["semantic" if settings().semantic else "patterns"]
    over = default["mean_over_credit_share_by_question"]
    assert all(value <= OVER_CREDIT for value in over.values()), over
    assert default["mean_abs_diff_per_set_summed"] < SET_MAD[name], default


@pytest.mark.parametrize("name", sorted(SET_MAD))
def test_the_semantic_signal_does_not_make_unseen_answers_worse(figures, name):
    on, off = figures[name]["semantic"], figures[name]["patterns"]
    assert on["mean_abs_diff_per_set_summed"] <= off["mean_abs_diff_per_set_summed"], (on, off)
    assert max(on["mean_over_credit_share_by_question"].values()) <= OVER_CREDIT, on
