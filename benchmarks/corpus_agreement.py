"""How far the grader's Q1-Q6 points are from a careful TA's, on the corpus of realistic student files.

    python benchmarks/corpus_agreement.py [--only c06_post_norm ...] [--json out.json] [--details]

Each file of ``tests/fixtures/corpus/`` is graded with the real grader (checks ``q[1-6].*`` and
``static.*``: no training, no timm) and compared, question by question, with the TA's verdict in the
``.toml`` next to it (written before the grader ever ran on it; the rules are in
docs/grading-policy.md). Prints one row per file (TA/grader per question, the file's absolute
difference summed over Q1-Q6), the mean absolute difference over files (MAD), each question's mean
difference, and the disagreements beyond 10 % of a question's points with the checks that lost points.
"""

import argparse
import json
import sys
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's packages, whatever the install

from grader.api import grade_files  # noqa: E402
from grader.checks.points import question_totals  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "corpus"
QUESTIONS = ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6")
SELECT = ("q[1-6].*", "static.*")
AGREEMENT_SHARE = 0.10  # a question agrees when |grader - TA| <= 10 % of its points


@dataclass(frozen=True)
class Verdict:
    """The TA's points per question for one corpus file, with one line of why per deduction."""

    stem: str
    summary: str
    points: dict[str, float]
    deductions: dict[str, list[dict]]


@dataclass
class Comparison:
    """One file: TA and grader points per question, and the grader's checks that lost points."""

    stem: str
    ta: dict[str, float]
    grader: dict[str, float]
    lost_checks: list[str] = field(default_factory=list)

    def difference(self, question: str) -> float:
        return self.grader[question] - self.ta[question]

    def absolute_difference(self) -> float:
        """Sum over Q1-Q6 of |grader - TA|."""
        return sum(abs(self.difference(q)) for q in QUESTIONS)

    def disagreements(self) -> list[str]:
        """The questions outside the 10 % band, as 'Q5: TA 1, grader 8 (max 8)'."""
        maximum = question_totals()
        return [
            f"{q}: TA {self.ta[q]:g}, grader {self.grader[q]:g} (max {maximum[q]:g})"
            for q in QUESTIONS
            if abs(self.difference(q)) > AGREEMENT_SHARE * maximum[q] + 1e-9
        ]


def corpus_stems() -> list[str]:
    """Every corpus file that has a verdict, sorted."""
    return sorted(p.stem for p in CORPUS.glob("*.toml"))


def load_verdict(stem: str) -> Verdict:
    """Read ``CORPUS/<stem>.toml``: ``[Q1] points = ...`` and ``[[Q1.deductions]] points, part, why``."""
    data = tomllib.loads((CORPUS / f"{stem}.toml").read_text())
    points = {q: float(data[q]["points"]) for q in QUESTIONS}
    deductions = {q: list(data[q].get("deductions", [])) for q in QUESTIONS}
    return Verdict(stem, data.get("summary", ""), points, deductions)


@lru_cache(maxsize=64)
def grader_points(stem: str, device: str = "cpu", seed: int = 0) -> tuple[dict[str, float], tuple[str, ...]]:
    """The grader's points per question for ``CORPUS/<stem>.py``, and its checks that lost points."""
    report = grade_files([CORPUS / f"{stem}.py"], device=device, seed=seed, select=list(SELECT))
    if not report.succeeded or not report.gradable:
        raise RuntimeError(f"the grader did not grade {stem}: {report.message}")
    points = {q.id: q.score for q in report.questions if q.id in QUESTIONS}
    lost = tuple(
        f"{c.id} {c.score:g}/{c.max_score:g} [{c.status}] {c.message[:160]}"
        for c in report.checks
        if c.score < c.max_score
    )
    return points, lost


def compare(stem: str, device: str = "cpu") -> Comparison:
    """Grade one corpus file and set it beside its verdict."""
    verdict = load_verdict(stem)
    points, lost = grader_points(stem, device)
    return Comparison(stem, verdict.points, {q: points.get(q, 0.0) for q in QUESTIONS}, list(lost))


def mean_absolute_difference(comparisons: list[Comparison]) -> float:
    """Per file, the sum over Q1-Q6 of |grader - TA|; averaged over files."""
    return sum(c.absolute_difference() for c in comparisons) / len(comparisons)


def table(comparisons: list[Comparison], details: bool = False) -> str:
    """The per-file, per-question table (TA/grader), the MAD and each question's mean difference."""
    width = max(len(c.stem) for c in comparisons)
    lines = [f"{'file':<{width}}  " + "  ".join(f"{q:>9}" for q in QUESTIONS) + "   |diff|"]
    for c in comparisons:
        cells = "  ".join(f"{c.ta[q]:>4g}/{c.grader[q]:<4g}" for q in QUESTIONS)
        lines.append(f"{c.stem:<{width}}  {cells}   {c.absolute_difference():5.2f}")
    per_question = {q: sum(abs(c.difference(q)) for c in comparisons) / len(comparisons) for q in QUESTIONS}
    band = {q: AGREEMENT_SHARE * points for q, points in question_totals().items()}
    over = {q: sum(1 for c in comparisons if c.difference(q) > band[q]) for q in QUESTIONS}
    lines.append("")
    lines.append(f"MAD (Q1-Q6 points per file, {len(comparisons)} files): {mean_absolute_difference(comparisons):.2f}")
    lines.append("mean |diff| per question: " + ", ".join(f"{q} {v:.2f}" for q, v in per_question.items()))
    lines.append("files over-credited beyond 10 %: " + ", ".join(f"{q} {n}" for q, n in over.items()))
    for c in comparisons:
        if c.disagreements():
            lines.append(f"- {c.stem}: " + "; ".join(c.disagreements()))
            if details:
                lines.extend(f"    {check}" for check in c.lost_checks)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="corpus stems to grade (default: all)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, default=None, help="also write the comparisons as JSON")
    parser.add_argument("--details", action="store_true", help="list the checks that lost points")
    args = parser.parse_args(argv)
    stems = args.only or corpus_stems()
    comparisons = [compare(stem, args.device) for stem in stems]
    sys.stdout.write(table(comparisons, details=args.details) + "\n")
    if args.json is not None:
        payload = {
            "mad": mean_absolute_difference(comparisons),
            "files": [
                {"stem": c.stem, "ta": c.ta, "grader": c.grader, "lost_checks": c.lost_checks} for c in comparisons
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
