"""Written answers (Q3-Q8): each answer is scored by the rubric's concepts that it mentions.

``reference/rubric.toml`` lists, per question, concepts with points and case-insensitive regex
patterns (any pattern matching is enough). The score is the share of the rubric's points whose
concepts were found, times the check's points in ``grader/questions.py`` (the rubric's own
``points`` per question are only that share's denominator, the sum of its concepts' weights). The result is marked
``auto_checked`` so that a TA can read the answer and override it.
"""

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from grader.checks.context import CheckContext
from grader.checks.registry import CheckFailed, Outcome, check
from grader.questions import BY_ID

RUBRIC_PATH = Path(__file__).resolve().parents[2] / "reference" / "rubric.toml"


@dataclass(frozen=True)
class Concept:
    """One idea an answer should contain, and the phrasings that count as mentioning it."""

    name: str
    points: float
    patterns: tuple[re.Pattern[str], ...]

    def found_in(self, text: str) -> bool:
        return any(pattern.search(text) for pattern in self.patterns)


@dataclass(frozen=True)
class Rubric:
    """The concepts of one written question; ``points`` is the rubric's own total (the denominator)."""

    question: str
    points: float
    concepts: tuple[Concept, ...]


@lru_cache(maxsize=4)
def load_rubric(path: Path = RUBRIC_PATH) -> dict[str, Rubric]:
    """Parse the rubric file: ``[questions.Q3] points = ...`` with ``[[questions.Q3.concepts]]`` entries."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    rubrics = {}
    for question, entry in data.get("questions", {}).items():
        concepts = tuple(
            Concept(
                name=str(item["name"]),
                points=float(item.get("points", 1.0)),
                patterns=tuple(re.compile(p, re.IGNORECASE) for p in item.get("patterns", [])),
            )
            for item in entry.get("concepts", [])
        )
        total = float(entry.get("points", sum(c.points for c in concepts)))
        rubrics[question] = Rubric(question=question, points=total, concepts=concepts)
    return rubrics


def score_answer(rubric: Rubric, text: str) -> Outcome:
    """The share of the rubric's points found in ``text``, with the concepts found and missing."""
    found = [concept for concept in rubric.concepts if concept.found_in(text)]
    missing = [concept for concept in rubric.concepts if concept not in found]
    denominator = rubric.points or sum(c.points for c in rubric.concepts) or 1.0
    fraction = min(1.0, sum(c.points for c in found) / denominator)
    names_found = [c.name for c in found]
    names_missing = [c.name for c in missing]
    message = f"concepts found: {', '.join(names_found) or 'none'}"
    if names_missing:
        message += f"; missing: {', '.join(names_missing)}"
    hint = "" if not names_missing else "Explain also: " + "; ".join(names_missing) + "."
    details = {"auto_checked": True, "found": names_found, "missing": names_missing, "fraction": round(fraction, 6)}
    return Outcome(fraction=fraction, message=message, hint=hint, details=details)


def make_written_check(check_id: str) -> None:
    """Register ``written.<q>`` for the rubric question ``Q<q>`` (e.g. written.q6a -> Q6a)."""
    question = "Q" + check_id.split(".", 1)[1][1:]

    @check(check_id, question="written", category="written")
    def written(ctx: CheckContext) -> Outcome:
        """The written answer mentions the rubric's concepts."""
        rubric = load_rubric().get(question)
        if rubric is None:
            raise KeyError(f"reference/rubric.toml has no [questions.{question}] for check {check_id}.")
        text = (ctx.submission.answers or {}).get(question, "").strip()
        if not text:
            raise CheckFailed(
                f"no answer found under ## {question}",
                hint=f"Write your answer in answers.md (or a notebook markdown cell) under the heading ## {question}.",
                details={"auto_checked": True, "found": [], "missing": [c.name for c in rubric.concepts]},
            )
        return score_answer(rubric, text)

    written.__name__ = f"written_{question.lower()}"


for _check_id in BY_ID["written"].points:  # the table's written row: one check per graded heading
    make_written_check(_check_id)
