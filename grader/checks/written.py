"""Written answers (Q3-Q8): each answer is scored by the rubric's concepts that it states, not its keywords.

``reference/rubric.toml`` lists, per question, concepts with points (see ``written_rubric``). The score
is the share of the rubric's points whose concepts are stated and not contradicted, times the check's
points in ``grader/questions.py``. Two caps, each flagged for review: an answer of keywords without sentences, and
the same text under several headings, earn at most a third of the question. Every result carries a
``confidence`` (high, medium, low) and its reasons, so that an instructor's review queue can sort by it,
and is marked ``auto_checked`` so that a TA can override it. Matching is RE2 (linear time) on a capped
answer, and a check stops at the same time limit as any other check.
"""

import time
from functools import lru_cache
from typing import Any

from grader.checks.context import CheckContext
from grader.checks.registry import CheckFailed, Outcome, check
from grader.checks.written_profile import TextProfile, describe
from grader.checks.written_rubric import RUBRIC_PATH, Concept, Rubric, load_rubric
from grader.checks.written_semantic import SemanticSettings, embedder, semantic_found, warm_up
from grader.checks.written_semantic import settings as semantic_settings
from grader.checks.written_text import normalise, shingles
from grader.questions import BY_ID

__all__ = ["RUBRIC_PATH", "load_rubric", "score_answer", "WrittenTimeout"]

CAP = 1 / 3
"""The share of a question that keywords without sentences (or a text pasted under several headings) can earn."""
SHORT_WORDS = 12
SAME_TEXT = 0.8  # share of shared word 3-grams above which two answers are the same text
SAME_TEXT_MIN_WORDS = 20
DEFAULT_LIMIT_S = 120.0


class WrittenTimeout(TimeoutError):
    """Scoring an answer ran past the check's time limit: the grader's fault, never the student's."""


def _confidence(
    profile: TextProfile, denied: list[str], duplicated: list[str], by_meaning: dict[str, str]
) -> tuple[str, list[str]]:
    """(high|medium|low, reasons): low for keywords, copies and very short answers; medium for contradictions,
    answers that are mostly a list of names, and ideas recognised only by meaning (the semantic signal)."""
    low = []
    if profile.keyword_soup:
        low.append("keywords without sentences")
    if duplicated:
        low.append(f"same text as {', '.join(duplicated)}")
    if profile.words < SHORT_WORDS:
        low.append(f"short ({profile.words} words)")
    if profile.copied_words and profile.copied_words >= profile.words:
        low.append("mostly a copy of the question")
    if low:
        return "low", low
    medium = []
    if profile.listed_words * 2 > profile.words:
        medium.append("answered mostly by a list of names")
    if denied:
        medium.append("states an idea and its contradiction" if len(denied) == 1 else "several contradictions")
    if by_meaning:
        medium.append(f"{len(by_meaning)} idea(s) recognised in other words (semantic match)")
    return ("medium", medium) if medium else ("high", [])


@lru_cache(maxsize=1)
def _warm_once() -> None:
    """Embed every exemplar of the rubric in one batch, once per process."""
    texts = [s for r in load_rubric().values() for s in r.vague]
    texts += [s for r in load_rubric().values() for c in r.concepts for s in (*c.exemplars, *c.counter_exemplars)]
    warm_up(texts)


def _by_meaning(
    rubric: Rubric, concepts: list[Concept], sentences: tuple[str, ...], config: SemanticSettings
) -> tuple[dict[str, str], str]:
    """The ``concepts`` the semantic signal finds in ``sentences`` (name -> unit), and the signal's state."""
    if not config.semantic:
        return {}, "off (VITGRADE_WRITTEN_SEMANTIC=0)"
    model = embedder()
    if not model.available():
        return {}, f"unavailable, regex rubric only ({model.error})"
    _warm_once()
    return semantic_found(rubric, concepts, sentences, config), "on"


def score_answer(
    rubric: Rubric,
    text: str,
    *,
    duplicated: list[str] | None = None,
    deadline: float | None = None,
    semantic: SemanticSettings | None = None,
) -> Outcome:
    """The share of the rubric's points that ``text`` states, with the concepts found, missing and contradicted.

    Regex patterns decide first; the concepts they miss (and that no regex contradicts) may be found by
    meaning (``written_semantic``) unless ``semantic`` (default: the ``VITGRADE_WRITTEN_`` settings) is off.
    """
    duplicated = duplicated or []
    profile = describe(normalise(text), rubric.prompt, lists=rubric.lists, max_items=len(rubric.concepts) + 2)
    found, missing, denied, reasons = [], [], [], []
    for concept in rubric.concepts:
        if deadline is not None and time.monotonic() > deadline:
            raise WrittenTimeout(f"scoring the answer to {rubric.question} ran past its time limit")
        if concept.denied(profile.kept):
            denied.append(concept.name)
            reasons.append(f"{concept.name}: {concept.contradiction or 'your answer also states the opposite'}")
        elif concept.stated(profile.kept):
            found.append(concept)
        else:
            missing.append(concept)
    by_meaning, semantic_state = _by_meaning(rubric, missing, profile.kept, semantic or semantic_settings())
    if deadline is not None and time.monotonic() > deadline:
        raise WrittenTimeout(f"scoring the answer to {rubric.question} ran past its time limit")
    found += [c for c in missing if c.name in by_meaning]
    missing = [c.name for c in missing if c.name not in by_meaning]
    denominator = rubric.points or sum(c.points for c in rubric.concepts) or 1.0
    raw = min(1.0, sum(c.points for c in found) / denominator)
    fraction, caps = raw, []
    if profile.keyword_soup:
        caps.append("keywords without sentences earn at most a third of the question; explain in sentences")
    if duplicated:
        caps.append(f"the same text is under {', '.join(duplicated)}: at most a third; answer each question")
    if caps:
        fraction = min(raw, CAP)
    confidence, why = _confidence(profile, denied, duplicated, by_meaning)
    names = [c.name for c in found]
    shown = [name + (" (in other words)" if name in by_meaning else "") for name in names]
    message = f"concepts found: {', '.join(shown) or 'none'}"
    if missing:
        message += f"; missing: {', '.join(missing)}"
    if reasons:
        message += "; not credited (contradicted): " + "; ".join(reasons)
    if caps:
        message += "; " + "; ".join(caps)
    hint = "Explain also: " + "; ".join(missing) + "." if missing else ""
    if reasons:
        hint = (hint + " Check: " + "; ".join(reasons) + ".").strip()
    details: dict[str, Any] = {
        "auto_checked": True,
        "found": names,
        "found_by_meaning": by_meaning,
        "semantic": semantic_state,
        "missing": missing,
        "contradicted": denied,
        "fraction": round(fraction, 6),
        "uncapped_fraction": round(raw, 6),
        "keyword_soup": profile.keyword_soup,
        "duplicated_in": duplicated,
        "words": profile.words,
        "prose_share": round(profile.prose_share, 3),
        "copied_question_words": profile.copied_words,
        "confidence": confidence,
        "confidence_reasons": why,
        "needs_review": confidence != "high",
    }
    return Outcome(fraction=fraction, message=message, hint=hint, details=details)


def same_text_as(question: str, answers: dict[str, str]) -> list[str]:
    """The other headings whose answer is (nearly) the same text as ``question``'s."""
    own = shingles(normalise(answers.get(question, "")))
    if len(own) < SAME_TEXT_MIN_WORDS:
        return []
    same = []
    for other, text in answers.items():
        theirs = shingles(normalise(text)) if other != question else frozenset()
        if (
            theirs
            and len(own & theirs) >= SAME_TEXT * min(len(own), len(theirs))
            and len(theirs) >= SAME_TEXT_MIN_WORDS
        ):
            same.append(other)
    return same


def _limit_s(ctx: CheckContext) -> float:
    settings = getattr(ctx, "settings", None)
    limits = getattr(settings, "limits", None)
    return float(getattr(limits, "request_timeout_s", DEFAULT_LIMIT_S))


def make_written_check(check_id: str) -> None:
    """Register ``written.<q>`` for the rubric question ``Q<q>`` (e.g. written.q6a -> Q6a)."""
    question = "Q" + check_id.split(".", 1)[1][1:]

    @check(check_id, question="written", category="written")
    def written(ctx: CheckContext) -> Outcome:
        """The written answer states the rubric's concepts."""
        deadline = time.monotonic() + _limit_s(ctx)
        rubric = load_rubric().get(question)
        if rubric is None:
            raise KeyError(f"reference/rubric.toml has no [questions.{question}] for check {check_id}.")
        answers = dict(ctx.submission.answers or {})
        text = answers.get(question, "").strip()
        if not text:
            raise CheckFailed(
                f"no answer found under ## {question}",
                hint=f"Write your answer in answers.md (or a notebook markdown cell) under the heading ## {question}.",
                details={
                    "auto_checked": True,
                    "found": [],
                    "missing": [c.name for c in rubric.concepts],
                    "confidence": "high",
                    "confidence_reasons": ["no answer"],
                    "needs_review": False,
                },
            )
        return score_answer(rubric, text, duplicated=same_text_as(question, answers), deadline=deadline)

    written.__name__ = f"written_{question.lower()}"


for _check_id in BY_ID["written"].points:  # the table's written row: one check per graded heading
    make_written_check(_check_id)
