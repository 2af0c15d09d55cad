"""The written-answer rubric (``reference/rubric.toml``): per question, concepts an answer earns points for.

A concept is found in a sentence that matches one of its ``patterns`` and, when ``with`` is given, one of
those too (e.g. ``embed_dim`` *and* an effect on parameters or cost, in that sentence or the next). It is
contradicted by a sentence matching one of its ``contradicted_by`` patterns, unless that sentence also
contrasts it with the right idea ("unlike the post-norm block ..."): a contradicted concept earns nothing
and the message gives its ``contradiction`` text. ``exemplars`` and ``counter_exemplars`` are plain sentences
that state the concept and its misconceptions, for the semantic signal (``written_semantic``). Patterns are
RE2 expressions (linear time, no look-around or back-references), matched case-insensitively on normalised
text (see ``written_text``).
"""

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from grader.checks.written_profile import LISTS
from grader.checks.written_text import compile_linear

RUBRIC_PATH = Path(__file__).resolve().parents[2] / "reference" / "rubric.toml"

# A sentence that states the wrong idea in order to reject it does not contradict the concept.
CONTRAST = (
    r"\bunlike\b|\binstead of\b|\brather than\b|\bas opposed to\b|\bwhereas\b|\bin contrast\b|\bcontrary to\b"
    r"|\bversus\b|\bvs\b|\boriginal transformer\b|\bwrong(ly)?\b|\bincorrect(ly)?\b|\bmistake|\bnot (a |the )?post"
)


def _any_of(patterns: list[str]) -> "object | None":
    """One RE2 alternation of ``patterns`` (each wrapped in a group), or None for an empty list."""
    return compile_linear("|".join(f"(?:{p})" for p in patterns)) if patterns else None


@dataclass(frozen=True)
class Concept:
    """One idea an answer should contain, the phrasings that count as stating it, and those that deny it."""

    name: str
    points: float
    patterns: tuple[str, ...]
    with_patterns: tuple[str, ...] = ()
    contradicted_by: tuple[str, ...] = ()
    contradiction: str = ""
    exemplars: tuple[str, ...] = ()
    counter_exemplars: tuple[str, ...] = ()
    contradiction_scope: str = "answer"
    """"answer": a contradiction cancels the concept; "sentence": it only keeps its own sentence from stating it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_match", _any_of(list(self.patterns)))
        object.__setattr__(self, "_with", _any_of(list(self.with_patterns)))
        object.__setattr__(self, "_contra", _any_of(list(self.contradicted_by)))

    def stated_in(self, sentence: str, following: str = "") -> bool:
        """The sentence states the concept: a pattern, and a ``with`` pattern in it or in the ``following`` one."""
        if self._match is None or not self._match.search(sentence):
            return False
        return self._with is None or bool(self._with.search(sentence)) or bool(self._with.search(following))

    def stated(self, sentences: "tuple[str, ...] | list[str]") -> bool:
        """Some sentence states the concept (its ``with`` pattern may come in the next sentence); with a
        sentence-scoped contradiction, a sentence that also states the misconception does not count."""
        local = self.contradiction_scope == "sentence"
        return any(
            self.stated_in(s, sentences[i + 1] if i + 1 < len(sentences) else "") and not (local and self.denied_in(s))
            for i, s in enumerate(sentences)
        )

    def denied(self, sentences: "tuple[str, ...] | list[str]") -> bool:
        """Some sentence states the concept's contradiction (without contrasting it); never for a concept whose
        contradictions are sentence-scoped."""
        return self.contradiction_scope != "sentence" and any(self.denied_in(sentence) for sentence in sentences)

    def denied_in(self, sentence: str) -> bool:
        """The sentence states the concept's opposite without contrasting it with the right idea.

        A match whose words include a negation that the pattern does not need (its gap of free words took it:
        "the cost is *not* linear", "attention is *not* local") rejects the misconception, so it does not count.
        """
        if self._contra is None or _CONTRAST.search(sentence):
            return False
        for match in self._contra.finditer(sentence):
            span = match.group(0)
            if not _NEGATION.search(span):
                return True
            if not self._contra.search(" ".join(_NEGATION.sub(" ", span).split())):
                return True  # the negation is part of the misconception ("does not change the parameters")
        return False


@dataclass(frozen=True)
class Rubric:
    """The concepts of one written question; ``points`` is the rubric's own total (the denominator)."""

    question: str
    points: float
    concepts: tuple[Concept, ...]
    prompt: str = ""
    vague: tuple[str, ...] = ()
    """Sentences on the question's topic that state none of its concepts (the semantic signal's baseline)."""
    lists: str = ""
    """Lists that answer the question (``written_profile.LISTS``): "" (none), "labelled" or "any"."""


_CONTRAST = compile_linear(CONTRAST)
_NEGATION = compile_linear(
    r"\b(?:not|never|no|cannot|(?:do|does|did|is|are|was|were|ca|wo|could|would|should|has|have|had|need)n['’]?t)\b"
)


def _concept(item: dict) -> Concept:
    return Concept(
        name=str(item["name"]),
        points=float(item.get("points", 1.0)),
        patterns=tuple(item.get("patterns", [])),
        with_patterns=tuple(item.get("with", [])),
        contradicted_by=tuple(item.get("contradicted_by", [])),
        contradiction=str(item.get("contradiction", "")),
        exemplars=tuple(item.get("exemplars", [])),
        counter_exemplars=tuple(item.get("counter_exemplars", [])),
        contradiction_scope=_scope(item),
    )


def _scope(item: dict) -> str:
    scope = str(item.get("contradiction_scope", "answer"))
    if scope not in ("answer", "sentence"):
        raise ValueError(f"concept {item.get('name')!r}: contradiction_scope is {scope!r}, expected answer or sentence")
    return scope


@lru_cache(maxsize=4)
def load_rubric(path: Path = RUBRIC_PATH) -> dict[str, Rubric]:
    """Parse the rubric: ``[questions.Q3]`` (``points``, ``prompt``) with ``[[questions.Q3.concepts]]`` entries."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    rubrics = {}
    for question, entry in data.get("questions", {}).items():
        concepts = tuple(_concept(item) for item in entry.get("concepts", []))
        total = float(entry.get("points", sum(c.points for c in concepts)))
        vague = tuple(entry.get("vague", []))
        lists = str(entry.get("lists", ""))
        if lists not in LISTS:
            raise ValueError(f"{path}: questions.{question}.lists is {lists!r}, expected one of {LISTS}")
        rubrics[question] = Rubric(question, total, concepts, str(entry.get("prompt", "")), vague, lists)
    return rubrics
