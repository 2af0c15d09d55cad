"""What the lab asks, read from the grader's check registry (``grader.checks.registry.REGISTRY``) in the order
and with the titles of the table of questions (``grader/questions.py``)."""

import importlib
from functools import lru_cache

from grader.questions import BY_ID, question_order
from service.config import Settings
from service.schemas import AssignmentPublic, CheckPublic, QuestionPublic
from service.uploads import ALLOWED_SUFFIXES


@lru_cache
def _questions() -> tuple[QuestionPublic, ...]:
    importlib.import_module("grader.checks")  # registers every question's checks
    from grader.checks.registry import REGISTRY

    by_question: dict[str, QuestionPublic] = {}
    for spec in REGISTRY.values():
        title = BY_ID[spec.question].title if spec.question in BY_ID else ""
        question = by_question.setdefault(
            spec.question, QuestionPublic(id=spec.question, title=title, points=0.0, checks=[])
        )
        question.points += spec.points
        if spec.hidden:
            question.hidden_points += spec.points
        else:
            question.checks.append(
                CheckPublic(
                    id=spec.id,
                    question=spec.question,
                    category=spec.category.value,
                    points=spec.points,
                    description=spec.description,
                )
            )
    return tuple(sorted(by_question.values(), key=lambda q: question_order(q.id)))


def describe(settings: Settings) -> AssignmentPublic:
    questions = list(_questions())
    return AssignmentPublic(
        questions=questions,
        max_score=sum(q.points for q in questions),
        accepted_files=list(ALLOWED_SUFFIXES),
        max_file_bytes=settings.max_file_bytes,
        max_request_bytes=settings.max_request_bytes,
        max_files=settings.max_files,
    )
