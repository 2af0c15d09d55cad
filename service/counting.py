"""The grade that counts: one submission per student (or per question) under the policy's ``counts`` rule.

Only graded submissions count: a submission counts through its latest successful grade, and never when
that grade says it is not gradable, when every grade was a grader fault, or when it came after the close
(practice). ``latest`` is the last *submitted*, never the last graded: regrading an older submission
does not make it the latest.
"""

from dataclasses import dataclass, field
from datetime import datetime

from service.lateness import Pricing
from service.policy import Counts


@dataclass(frozen=True)
class Graded:
    """One submission with the grade it counts with, priced under the policy."""

    submission_id: str
    received: datetime
    raw: float  # effective score before late credit
    max_score: float
    questions: dict[str, float]  # question id -> effective score before late credit
    gradable: bool
    pricing: Pricing

    @property
    def final(self) -> float:
        return self.raw * self.pricing.credit

    @property
    def eligible(self) -> bool:
        return self.gradable and self.pricing.counts


@dataclass
class Standing:
    """A student's counted grade: ``submission`` is the one that counts (the latest for best_per_question)."""

    name: str
    user_id: str
    rule: Counts
    submission: Graded | None = None
    final: float | None = None
    questions: dict[str, float] = field(default_factory=dict)  # what counts per question (see ``count``)


def count(standing: Standing, graded: list[Graded], chosen_id: str | None = None) -> Standing:
    """Fill ``standing`` from a student's graded submissions.

    ``questions`` holds the counted submission's per-question scores before late credit; under
    ``best_per_question`` it holds each question's best score after late credit, and ``final`` their sum.
    """
    eligible = sorted((g for g in graded if g.eligible), key=lambda g: (g.received, g.submission_id))
    if not eligible:
        return standing
    latest = eligible[-1]
    if standing.rule is Counts.best:
        index = max(range(len(eligible)), key=lambda i: (round(eligible[i].final, 9), i))  # ties: the later one
        pick = eligible[index]
    elif standing.rule is Counts.chosen:
        pick = next((g for g in eligible if g.submission_id == chosen_id), latest)
    else:
        pick = latest
    standing.submission = pick
    if standing.rule is Counts.best_per_question:
        best: dict[str, float] = {}
        for g in eligible:
            for qid, score in g.questions.items():
                best[qid] = max(best.get(qid, 0.0), score * g.pricing.credit)
        standing.questions = best
        standing.final = sum(best.values())
    else:
        standing.questions = dict(pick.questions)
        standing.final = pick.final
    return standing
