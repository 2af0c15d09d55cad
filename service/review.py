"""The review queue of one written question: each student's answer (from the submission that counts) with the
grader's concepts and confidence, grouped by similar answers so that one decision covers a whole group.

Grouping: the text is normalised (lower case, words only); identical normalised answers form one group;
then an answer joins the first group whose first answer has a TF-IDF cosine similarity of at least
``SIMILAR`` with it (near-identical answers: a changed word or two). Groups of two or more come first,
largest first; the rest are shuffled with a seed (a TA reading in a fixed order grades the first and
the last answers differently: order bias), so each TA can get their own order.
"""

import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader.intake.answers import ANSWER_KEYS
from grader.intake.models import IntakeError
from service import gradebook, overrides
from service.models import Result, Submission
from service.similarity.runs import read_files
from service.storage import BlobStore, DatabaseBlobStore, Prefetched

SIMILAR = 0.8
WORD = re.compile(r"[^\W_]+", re.UNICODE)


class WrittenDetails(BaseModel):
    """What a written check's ``details`` say about the concepts (the rest of its figures are not read here)."""

    found: list[str] = Field(default_factory=list, description="Concepts the answer states.")
    missing: list[str] = Field(default_factory=list, description="Concepts it leaves out.")
    fraction: float = Field(default=0.0, description="The share of the question's points the grader gave.")


@dataclass
class Answer:
    student: str
    submission_id: str
    text: str
    check_id: str
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    confidence: float = 0.0  # the fraction of concepts the grader found
    auto_score: float = 0.0
    max_score: float = 0.0
    effective_score: float = 0.0

    @property
    def words(self) -> list[str]:
        return WORD.findall(self.text.lower())


def question_key(question: str) -> str:
    """'q3' or 'Q6a' -> the answer key 'Q3' / 'Q6a'; ``ValueError`` for anything else."""
    for key in ANSWER_KEYS:
        if key.lower() == question.lower():
            return key
    raise ValueError(f"No written question {question!r}; the written questions are {', '.join(ANSWER_KEYS)}.")


def _answer_text(store: BlobStore | Prefetched, files: list[dict], key: str) -> str:
    try:
        return read_files(store, files)[1].get(key, "")
    except IntakeError:
        return ""


def collect(session: Session, store: BlobStore | DatabaseBlobStore, question: str) -> list[Answer]:
    """Every student's answer to ``question`` in the submission that counts (students with none are left out)."""
    key = question_key(question)
    check_id = f"written.{key.lower()}"
    book = gradebook.load(session)
    counted = {s.submission.submission_id: s.name for s in book.students if s.submission is not None}
    if not counted:
        return []
    files = dict(session.execute(select(Submission.id, Submission.files).where(Submission.id.in_(counted))).all())
    newest = (
        select(func.max(Result.id))
        .where(Result.submission_id.in_(counted), Result.succeeded.is_(True))
        .group_by(Result.submission_id)
    )
    reports = dict(session.execute(select(Result.submission_id, Result.report).where(Result.id.in_(newest))).all())
    decided = overrides.in_force(session)
    blobs = store.get_many(entry["sha256"] for sid in counted for entry in files[sid])  # one query, not one a row
    answers = []
    for sid, name in counted.items():
        report = reports.get(sid)
        check = next((c for c in report.checks if c.id == check_id), None) if report is not None else None
        auto, top = (check.score, check.max_score) if check is not None else (0.0, 0.0)
        applied = overrides.apply(report, decided.get(sid, []))[2] if report is not None else []
        effective = next((e.score for e in applied if e.check_id == check_id), auto)
        concepts = WrittenDetails.model_validate(check.details if check is not None else {})
        answers.append(
            Answer(
                name, sid, _answer_text(blobs, files[sid], key), check_id, concepts.found, concepts.missing,
                concepts.fraction, auto, top, effective,
            )
        )  # fmt: skip
    return answers


def group(answers: list[Answer], seed: int = 0) -> list[list[Answer]]:
    """Groups of identical or near-identical answers (largest first), then the singletons in a seeded order."""
    documents = [Counter(a.words) for a in answers]
    frequency = Counter(word for doc in documents for word in doc)
    count = len(documents)

    def vector(doc: Counter) -> dict[str, float]:
        weights = {w: n * math.log((1 + count) / (1 + frequency[w])) + n for w, n in doc.items()}  # tf * (idf + 1)
        norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
        return {w: v / norm for w, v in weights.items()}

    vectors = [vector(doc) for doc in documents]
    groups: list[list[int]] = []
    exact: dict[str, int] = {}
    for i, answer in enumerate(answers):
        normal = " ".join(answer.words)
        if normal in exact:
            groups[exact[normal]].append(i)
            continue
        home = next(
            (g for g, members in enumerate(groups) if normal and _cosine(vectors[members[0]], vectors[i]) >= SIMILAR),
            None,
        )
        if home is None:
            exact[normal] = len(groups)
            groups.append([i])
        else:
            exact[normal] = home
            groups[home].append(i)
    shared = sorted((g for g in groups if len(g) > 1), key=lambda g: (-len(g), g[0]))
    alone = [g for g in groups if len(g) == 1]
    random.Random(seed).shuffle(alone)
    return [[answers[i] for i in g] for g in shared + alone]


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(v * b.get(w, 0.0) for w, v in a.items())
