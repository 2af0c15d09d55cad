"""Written answers as text: normalised (LaTeX, Unicode, markdown), cut into sentences, and described.

Everything here runs in linear time on a capped answer: the regular expressions are RE2's (no
backtracking) and the rest is plain string work. ``describe`` says whether an answer is written in
sentences (or equations) or is a bag of keywords, how much of it copies the question, and how long it is.
"""

from dataclasses import dataclass
from functools import lru_cache

import re2

from grader.checks.written_words import AUXILIARIES, FUNCTION_WORDS, IRREGULAR, MATH_WORDS, VERB_STEMS
from grader.intake.limits import MAX_ANSWER_CHARS

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False


def compile_linear(pattern: str, *, ignore_case: bool = True) -> "re2._Regexp":
    """``pattern`` compiled by RE2 (linear-time matching); raises ``re2.error`` for what RE2 cannot run."""
    return re2.compile(("(?i)" if ignore_case else "") + pattern, _OPTIONS)


_UNICODE = {
    "²": "^2",
    "³": "^3",
    "√": "sqrt",
    "×": " x ",
    "⋅": "*",
    "·": "*",
    "⊤": "T",
    "ᵀ": "^T",
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
    "–": "-",
    "—": "-",
    "→": " -> ",
    "≈": "~",
    "∈": " in ",
    "\u00a0": " ",
}
_LATEX_RULES = (  # (RE2 pattern, replacement), applied in order
    (
        r"\\(?:mathrm|text|operatorname|mathbf|mathit|mathsf|mathcal|mathbb|boldsymbol|textrm|textbf|textit)"
        r"\s?\{([^{}]{0,200})\}",
        r"\1",
    ),
    (r"\\sqrt\s?\{([^{}]{0,200})\}", r"sqrt(\1)"),
    (r"\\[dt]?frac\s?\{([^{}]{0,200})\}\s?\{([^{}]{0,200})\}", r"(\1)/(\2)"),
    (r"\\(?:top|intercal)\b", "T"),
    (r"\\(?:times)\b", " x "),
    (r"\\(?:cdot|ast)\b", "*"),
    (r"\\(?:ldots|cdots|dots)\b", "..."),
    (r"\\(?:left|right|big|Big|bigg|Bigg|quad|qquad|displaystyle)\b|\\[!,;: ]", " "),
    (r"\\([A-Za-z]+)", r"\1"),
    (r"[{}$`]|\*\*|__", ""),
    (r"\bself\.", ""),  # code answers: self.attn(self.norm1(x)) reads as attn(norm1(x))
    (r"[ \t\r\f\v]+", " "),
)
_LATEX = tuple((compile_linear(pattern, ignore_case=False), replacement) for pattern, replacement in _LATEX_RULES)
_WORD = compile_linear(r"[a-z][a-z0-9_']*|->|[~=<>]")
MAX_SENTENCES = 400
"""Sentences of one answer that are read; an answer within the size cap rarely has more than a hundred."""
_SHORT_WORDS = ("a", "i", "~", "=", "<", ">")
_SENTENCE_END = compile_linear(r"[.!?](?:\s|$)")
_BLOCK_START = ("- ", "* ", "+ ", "|", "#")


@lru_cache(maxsize=64)
def normalise(text: str) -> str:
    """``text`` capped, with Unicode maths spelled in ASCII, LaTeX macros unwrapped and runs of spaces collapsed."""
    text = text[:MAX_ANSWER_CHARS]
    for char, spelled in _UNICODE.items():
        text = text.replace(char, spelled)
    for pattern, replacement in _LATEX:
        text = pattern.sub(replacement, text)
    return text


def sentences(text: str) -> list[str]:
    """Sentences of normalised text: paragraphs, list items and table rows break, then ``. ! ?``."""
    blocks: list[list[str]] = [[]]
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            blocks.append([])
            continue
        starts_item = line.startswith(_BLOCK_START) or (line[:1].isdigit() and line[1:3] in (". ", ") "))
        if starts_item:
            blocks.append([])
        blocks[-1].append(line.lstrip("-*+# ").strip())
    found = []
    for block in blocks:
        joined = " ".join(part for part in block if part)
        start = 0
        for end in _SENTENCE_END.finditer(joined):
            found.append(joined[start : end.end()].strip())
            start = end.end()
        found.append(joined[start:].strip())
    return [sentence for sentence in found if sentence][:MAX_SENTENCES]


def words(text: str) -> list[str]:
    """Lower-case words of two letters or more, 'a', 'i' and relation symbols; single letters of formulas are not."""
    return [word for word in _WORD.findall(text.lower()) if len(word) > 1 or word in _SHORT_WORDS]


SOUP_PROSE_SHARE = 0.34
_FORMULA_CHARS = set("0123456789=^~<>+*")


def is_verb(word: str) -> bool:
    """A verb form of the lab's vocabulary or an auxiliary (non-native forms such as 'each head make' count)."""
    if word in AUXILIARIES or word in IRREGULAR or word in VERB_STEMS:
        return True
    for suffix in ("s", "es", "ed", "d", "ies"):
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            if stem in VERB_STEMS or (suffix == "ies" and stem + "y" in VERB_STEMS):
                return True
    return word.endswith("ed") and word[:-2] + "e" in VERB_STEMS


def is_equation(sentence: str, tokens: list[str]) -> bool:
    """An equation: an ``=`` with most of the words maths (single letters, indices, operator names)."""
    if "=" not in sentence or not tokens:
        return False
    maths = sum(1 for t in tokens if len(t) <= 2 or "_" in t or any(c.isdigit() for c in t) or t in MATH_WORDS)
    return maths >= 0.6 * len(tokens)


def is_prose(tokens: list[str]) -> bool:
    """Words with syntax: five or more, a fifth of them function words (or a tenth with a verb).

    A bag of terms has almost no articles, prepositions or conjunctions; English prose, even terse notes
    or non-native English, has a quarter or more.
    """
    if len(tokens) < 5:
        return False
    share = sum(1 for t in tokens if t in FUNCTION_WORDS) / len(tokens)
    return share >= 0.2 or (share >= 0.1 and any(is_verb(t) for t in tokens))


def is_formula(sentence: str) -> bool:
    """Mostly figures and symbols: half or more of its space-separated tokens hold digits or operators."""
    tokens = sentence.split()
    return bool(tokens) and sum(1 for t in tokens if _FORMULA_CHARS & set(t)) >= len(tokens) / 2


@dataclass(frozen=True)
class TextProfile:
    """How an answer is written: its kept sentences, word counts, and the share written as prose or maths."""

    kept: tuple[str, ...]
    words: int
    prose_words: int
    verbless_words: int
    copied_words: int

    @property
    def prose_share(self) -> float:
        return self.prose_words / self.words if self.words else 0.0

    @property
    def keyword_soup(self) -> bool:
        """Mostly keywords outside any sentence or equation (a bag of terms, not an explanation).

        Terse notes with a few sentences pass: only answers with under a third of their words in
        sentences or equations count as keywords (formulas and figures are left out of both sides).
        """
        return self.words > 0 and self.prose_share < SOUP_PROSE_SHARE


def _overlap(sentence_words: set[str], question: list[set[str]]) -> bool:
    """The sentence copies a question sentence: most of its words are the question's, and most of the question's."""
    if len(sentence_words) < 4:
        return False
    return any(len(sentence_words & q) >= max(0.8 * len(sentence_words), 0.6 * len(q)) for q in question)


def describe(text: str, question: str = "") -> TextProfile:
    """Profile of normalised ``text``; sentences that repeat the ``question`` are dropped (and counted)."""
    question_sets = [set(words(s)) for s in sentences(normalise(question))] if question else []
    kept, total, prose, verbless, copied = [], 0, 0, 0, 0
    for sentence in sentences(text):
        tokens = words(sentence)
        if _overlap(set(tokens), question_sets):
            copied += len(tokens)
            continue
        kept.append(sentence)
        if is_equation(sentence, tokens) or is_prose(tokens):
            prose += len(tokens)
        elif is_formula(sentence):
            continue  # figures and formulas (settings, results) are neither prose nor keywords
        else:
            verbless += len(tokens)
        total += len(tokens)
    return TextProfile(tuple(kept), total, prose, verbless, copied)


@lru_cache(maxsize=64)
def shingles(text: str, size: int = 3) -> frozenset[tuple[str, ...]]:
    """Word ``size``-grams of ``text``: two answers that share most of them are the same text."""
    tokens = words(text)
    return frozenset(tuple(tokens[i : i + size]) for i in range(max(0, len(tokens) - size + 1)))
