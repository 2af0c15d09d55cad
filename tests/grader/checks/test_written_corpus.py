"""The written-answer scorer against a TA's marks on a corpus of student answers (tests/fixtures/written_corpus).

Each answer set is graded through the real intake and checks; the TA's marks were written before the
scorer ran on them. Per answer the points must agree within ``TOLERANCE`` of the question's points (at
most ``OUTLIERS`` of the answers may not, and each is listed); per submission the mean absolute difference
over the sets must stay under ``SET_MAD`` points (of 25), and no question may be over-credited on average
by more than ``OVER_CREDIT`` of its points. The figures are logged and written
to ``$VITGRADE_CORPUS_REPORT`` when that variable is set.
"""

import json
import logging
import os
import tomllib
from pathlib import Path

import pytest

from grader.api import grade_files
from grader.checks.points import POINTS

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "written_corpus"
SETS = sorted(path for path in CORPUS.iterdir() if path.is_dir())
WRITTEN = {"Q" + key.split(".")[1][1:]: value for key, value in POINTS.items() if key.startswith("written.")}
TOLERANCE = 0.3  # share of the question's points
OUTLIERS = 0.02  # share of the answers allowed outside the tolerance (e.g. terse notes the TA did not cap)
SET_MAD = 0.8  # points of 25, summed per set, averaged over the sets (measured 0.668; 0.743 with the semantic signal)
OVER_CREDIT = 0.10
log = logging.getLogger(__name__)


def grade_set(folder: Path) -> dict[str, float]:
    report = grade_files([folder / "answers.md"], device="cpu", select=["written.*"])
    return {"Q" + check.id.split(".")[1][1:]: check.score for check in report.checks}


@pytest.fixture(scope="module")
def graded() -> dict[str, tuple[dict[str, float], dict[str, dict]]]:
    return {folder.name: (grade_set(folder), tomllib.loads((folder / "marks.toml").read_text())) for folder in SETS}


def test_corpus_is_large_and_marked_everywhere():
    answers = 0
    for folder in SETS:
        marks = tomllib.loads((folder / "marks.toml").read_text())
        assert set(marks) == set(WRITTEN), f"{folder.name}: marks for {sorted(marks)}"
        for question, entry in marks.items():
            assert 0 <= entry["mark"] <= WRITTEN[question] and entry["why"], f"{folder.name} {question}"
        answers += sum(1 for entry in marks.values() if entry["mark"] > 0 or "blank" not in entry["why"])
    assert len(SETS) >= 10 and answers >= 40


def test_scores_agree_with_the_ta(graded):
    rows, misses = [], []
    for name, (scores, marks) in graded.items():
        for question, points in WRITTEN.items():
            ta, grader = marks[question]["mark"], scores[question]
            rows.append((name, question, ta, grader))
            if abs(ta - grader) > TOLERANCE * points + 1e-9:
                misses.append(f"{name} {question}: TA {ta:g}, grader {grader:.2f} ({marks[question]['why']})")
    per_set = {name: sum(abs(ta - g) for n, _, ta, g in rows if n == name) for name in graded}
    total_diff = {name: abs(sum(ta - g for n, _, ta, g in rows if n == name)) for name in graded}
    over = {q: sum(g - ta for _, question, ta, g in rows if question == q) / len(graded) / WRITTEN[q] for q in WRITTEN}
    figures = {
        "answers": len(rows),
        "mean_abs_diff_per_answer": round(sum(abs(ta - g) for *_, ta, g in rows) / len(rows), 3),
        "mean_abs_diff_per_set_summed": round(sum(per_set.values()) / len(per_set), 3),
        "mean_abs_diff_of_set_totals": round(sum(total_diff.values()) / len(total_diff), 3),
        "mean_over_credit_share_by_question": {q: round(v, 3) for q, v in over.items()},
        "outside_tolerance": misses,
    }
    log.warning("written corpus agreement: %s", json.dumps(figures))
    if os.environ.get("VITGRADE_CORPUS_REPORT"):
        Path(os.environ["VITGRADE_CORPUS_REPORT"]).write_text(json.dumps(figures, indent=2))
    assert len(misses) <= OUTLIERS * len(rows), "\n".join(misses)
    assert figures["mean_abs_diff_per_set_summed"] < SET_MAD, figures
    assert all(value <= OVER_CREDIT for value in over.values()), over
