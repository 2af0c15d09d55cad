"""How far the written-answer scorer is from a TA's marks, on the TA-marked corpora of answer sets.

    python benchmarks/written_agreement.py [--corpus written_heldout2 ...] [--json out.json] [--misses]

Each folder of ``tests/fixtures/<corpus>/`` holds one student's ``answers.md`` and the TA's ``marks.toml``
(written before the scorer ran on it). Every set is graded through the real intake and the written checks
(``written.*``; the semantic signal as set by ``VITGRADE_WRITTEN_SEMANTIC``). Per corpus it prints one row per
set (TA/grader per question, the summed absolute difference in points of 25), the mean of that sum over the
sets, the per-answer mean absolute difference, and per question the mean absolute difference and the mean
over-credit (grader minus TA, share of the question's points); ``--misses`` lists the answers off by more
than 30 % of their question's points, with the TA's rationale.
"""

import argparse
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's packages, whatever the install

from grader.api import grade_files  # noqa: E402
from grader.checks.points import POINTS  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
CORPORA = ("written_corpus", "written_heldout", "written_heldout2", "written_heldout3")
WRITTEN = {"Q" + key.split(".")[1][1:]: value for key, value in POINTS.items() if key.startswith("written.")}
MISS_SHARE = 0.3  # an answer is a miss when |grader - TA| > 30 % of its question's points


def grade_set(folder: Path) -> dict[str, float]:
    """The written checks' points for ``folder/answers.md`` (question -> points)."""
    report = grade_files([folder / "answers.md"], device="cpu", select=["written.*"])
    return {"Q" + check.id.split(".")[1][1:]: check.score for check in report.checks}


def measure(corpus: str) -> dict:
    """Grade every set of ``corpus`` and compare it with the TA's marks."""
    rows = []
    for folder in sorted(p for p in (FIXTURES / corpus).iterdir() if p.is_dir()):
        marks = tomllib.loads((folder / "marks.toml").read_text(encoding="utf-8"))
        scores = grade_set(folder)
        for question in WRITTEN:
            rows.append(
                (folder.name, question, float(marks[question]["mark"]), scores[question], marks[question]["why"])
            )
    sets = sorted({name for name, *_ in rows})
    per_set = {s: sum(abs(g - ta) for name, _, ta, g, _ in rows if name == s) for s in sets}
    per_question = {q: sum(abs(g - ta) for _, question, ta, g, _ in rows if question == q) / len(sets) for q in WRITTEN}
    over = {q: sum(g - ta for _, question, ta, g, _ in rows if question == q) / len(sets) / WRITTEN[q] for q in WRITTEN}
    return {
        "corpus": corpus,
        "sets": len(sets),
        "answers": len(rows),
        "mean_abs_diff_per_set_summed": round(sum(per_set.values()) / len(sets), 3),
        "mean_abs_diff_per_answer": round(sum(abs(g - ta) for *_, ta, g, _ in rows) / len(rows), 3),
        "per_set_summed": {s: round(v, 2) for s, v in per_set.items()},
        "mean_abs_diff_by_question": {q: round(v, 3) for q, v in per_question.items()},
        "mean_over_credit_share_by_question": {q: round(v, 3) for q, v in over.items()},
        "rows": [{"set": n, "question": q, "ta": ta, "grader": round(g, 3)} for n, q, ta, g, _ in rows],
        "misses": [
            f"{n} {q}: TA {ta:g}, grader {g:.2f} ({why})"
            for n, q, ta, g, why in rows
            if abs(g - ta) > MISS_SHARE * WRITTEN[q] + 1e-9
        ],
    }


def table(result: dict, misses: bool = False) -> str:
    """One corpus's figures as text: a row per set, then the means."""
    width = max(len(s) for s in result["per_set_summed"])
    lines = [f"## {result['corpus']} ({result['sets']} sets, {result['answers']} answers)"]
    lines.append(f"{'set':<{width}}  " + " ".join(f"{q:>9}" for q in WRITTEN) + "  |diff|")
    cells: dict[str, dict[str, str]] = {}
    for row in result["rows"]:
        cells.setdefault(row["set"], {})[row["question"]] = f"{row['ta']:g}/{row['grader']:.2f}"
    for name, summed in result["per_set_summed"].items():
        lines.append(f"{name:<{width}}  " + " ".join(f"{cells[name][q]:>9}" for q in WRITTEN) + f"  {summed:5.2f}")
    lines.append(
        f"per set (summed, of 25): {result['mean_abs_diff_per_set_summed']:.3f}; "
        f"per answer: {result['mean_abs_diff_per_answer']:.3f}"
    )
    lines.append(
        "mean |diff| by question: " + ", ".join(f"{q} {v:.2f}" for q, v in result["mean_abs_diff_by_question"].items())
    )
    lines.append(
        "mean over-credit by question: "
        + ", ".join(f"{q} {v:+.1%}" for q, v in result["mean_over_credit_share_by_question"].items())
    )
    if misses:
        lines.extend(f"- {miss}" for miss in result["misses"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", nargs="*", default=list(CORPORA), help="folders of tests/fixtures to measure")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    parser.add_argument("--misses", action="store_true", help="list the answers off by more than 30 %")
    args = parser.parse_args(argv)
    results = [measure(corpus) for corpus in args.corpus]
    sys.stdout.write("\n\n".join(table(r, args.misses) for r in results) + "\n")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
