"""Agreement of the written-answer scorer with a TA's marks on a folder of answer sets (shared by the corpus tests).

Each set (``answers.md`` + ``marks.toml``) is graded through the real intake and checks. The figures: the
per-answer mean absolute difference, the per-set summed absolute difference (points of 25), and per
question the mean over-credit (grader minus TA) as a share of the question's points.
"""

import tomllib
from pathlib import Path

from grader.api import grade_files
from grader.checks.points import POINTS

WRITTEN = {"Q" + key.split(".")[1][1:]: value for key, value in POINTS.items() if key.startswith("written.")}


def grade_set(folder: Path, settings=None) -> dict[str, float]:
    """The written checks' points for the answers in ``folder`` (question -> points)."""
    report = grade_files([folder / "answers.md"], device="cpu", select=["written.*"], settings=settings)
    return {"Q" + check.id.split(".")[1][1:]: check.score for check in report.checks}


def marks_of(folder: Path) -> dict[str, dict]:
    return tomllib.loads((folder / "marks.toml").read_text(encoding="utf-8"))


def agreement(graded: dict[str, tuple[dict[str, float], dict[str, dict]]], tolerance: float) -> dict:
    """The figures of ``graded`` (set -> (grader points, TA marks)); ``outside_tolerance`` lists the answers
    whose difference passes ``tolerance`` times the question's points."""
    rows, misses = [], []
    for name, (scores, marks) in graded.items():
        for question, points in WRITTEN.items():
            ta, grader = marks[question]["mark"], scores[question]
            rows.append((name, question, ta, grader))
            if abs(ta - grader) > tolerance * points + 1e-9:
                misses.append(f"{name} {question}: TA {ta:g}, grader {grader:.2f} ({marks[question]['why']})")
    per_set = {name: sum(abs(ta - g) for n, _, ta, g in rows if n == name) for name in graded}
    over = {q: sum(g - ta for _, question, ta, g in rows if question == q) / len(graded) / WRITTEN[q] for q in WRITTEN}
    return {
        "answers": len(rows),
        "mean_abs_diff_per_answer": round(sum(abs(ta - g) for *_, ta, g in rows) / len(rows), 3),
        "mean_abs_diff_per_set_summed": round(sum(per_set.values()) / len(per_set), 3),
        "per_set_summed": {name: round(value, 2) for name, value in per_set.items()},
        "mean_over_credit_share_by_question": {q: round(v, 3) for q, v in over.items()},
        "outside_tolerance": misses,
    }
