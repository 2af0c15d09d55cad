"""The lab's questions in one table: id, title, order, and the points of each of their checks.

The registry takes a check's question and points from here, the runner and the report order
questions and checks by it, the service lists the assignment from it, and the written checks are
registered from its ``written`` row. A TA changes a weight in one line; the lab stays out of 100:
Q1-Q6 (code) 50, Q7 (MNIST accuracy) 15, Q8 (timm) 10, written answers 25.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Question:
    """One question of the lab; its checks in report order, each with its points."""

    id: str  # "Q1".."Q8", or "written" for the written answers
    title: str
    points: Mapping[str, float]  # check id -> points

    @property
    def total(self) -> float:
        return sum(self.points.values())


QUESTIONS: tuple[Question, ...] = (
    Question(
        "Q1",
        "Patch embedding",
        {
            "q1.shape": 1,
            "q1.equivalence": 2.5,
            "q1.property": 2,
            "q1.contract": 0.5,  # the parameter set; a bias-less conv is graded on its maths above
        },
    ),
    Question("Q2", "MLP", {"q2.shape": 1, "q2.equivalence": 1.5, "q2.property": 1, "q2.contract": 0.5}),
    Question(
        "Q3",
        "Single-head self-attention",
        {"q3.shape": 1, "q3.equivalence": 3.5, "q3.property": 3, "q3.contract": 0.5},
    ),
    Question(
        "Q4",
        "Multi-head self-attention",
        {
            "q4.shape": 1,
            "q4.equivalence": 2.5,
            "q4.property": 2,
            "q4.contract": 0.5,
            "q4.extra": 2,  # hidden: an unseen configuration
            "static.from_scratch": 2,  # the from-scratch rule for Q1-Q6
        },
    ),
    Question(
        "Q5",
        "Transformer block",
        {
            "q5.shape": 1,
            "q5.equivalence": 2.5,  # the block's wiring, with trusted attention and MLP
            "q5.end_to_end": 1,  # the student's own attention and MLP inside the block
            "q5.property": 3,
            "q5.contract": 0.5,
        },
    ),
    Question(
        "Q6",
        "Vision Transformer",
        {
            "q6.sinusoidal": 2,
            "q6.shape": 1,
            "q6.equivalence": 3,  # [CLS], positions, norm and head, with trusted patch embedding and blocks
            "q6.end_to_end": 1,  # the student's own patch embedding and blocks inside the ViT
            "q6.property": 3,
            "q6.parameters": 1.5,  # the parameter count: a sinusoidal table must be a buffer
            "q6.contract": 0.5,
            "q6.extra": 2,  # hidden: an unseen configuration
        },
    ),
    Question("Q7", "MNIST accuracy", {"q7.accuracy": 15}),
    Question("Q8", "timm ViT-S on MNIST", {"q8.structure": 1, "q8.forward": 3, "q8.pretrained": 6}),
    Question(
        "written",
        "Written answers",
        {
            "written.q3": 3,
            "written.q4": 2,
            "written.q5": 2,
            "written.q6a": 3,
            "written.q6b": 3,
            "written.q6c": 3,
            "written.q7": 4,
            "written.q8a": 3,
            "written.q8d": 2,
        },
    ),
)
TOTAL = 100

ORDER: tuple[str, ...] = tuple(q.id for q in QUESTIONS)
BY_ID: Mapping[str, Question] = MappingProxyType({q.id: q for q in QUESTIONS})
POINTS: Mapping[str, float] = MappingProxyType({c: p for q in QUESTIONS for c, p in q.points.items()})
QUESTION_OF: Mapping[str, str] = MappingProxyType({c: q.id for q in QUESTIONS for c in q.points})
_CHECK_POSITION = {check_id: i for i, check_id in enumerate(POINTS)}


def points_for(check_id: str) -> float:
    """The points of ``check_id``; a check missing from the table is a grader bug, named here."""
    try:
        return POINTS[check_id]
    except KeyError:
        raise KeyError(
            f"Check {check_id!r} has no entry in grader/questions.py; add it there (known: {sorted(POINTS)})."
        ) from None


def question_of(check_id: str) -> str:
    """The question ``check_id`` counts towards ('Q1'..'Q8', 'written')."""
    points_for(check_id)  # the same error for an unknown id
    return QUESTION_OF[check_id]


def question_order(question_id: str) -> tuple[int, str]:
    """Sort key of a question id: the table's order, unknown ids last (by name)."""
    return (ORDER.index(question_id) if question_id in ORDER else len(ORDER), question_id)


def check_order(check_id: str, question_id: str | None = None) -> tuple[int, int, str]:
    """Sort key of a check: its question's order, then its row in the table, unknown ids last."""
    question = question_id or QUESTION_OF.get(check_id, "")
    return question_order(question)[0], _CHECK_POSITION.get(check_id, len(_CHECK_POSITION)), check_id


def question_totals() -> dict[str, float]:
    """Points per question, in order."""
    return {q.id: q.total for q in QUESTIONS}
