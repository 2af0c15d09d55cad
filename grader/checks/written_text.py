"""Written answers as text: normalised (LaTeX, Unicode, markdown), cut into sentences and words.

Everything here runs in linear time on a capped answer: the regular expressions are RE2's (no
backtracking) and the rest is plain string work. ``written_profile.describe`` builds on it to tell an
answer in sentences or notes from a bag of keywords.
"""

from functools import lru_cache

import re2

from grader.checks.written_words import AUXILIARIES, IRREGULAR, VERB_STEMS
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
    "⇒": " -> ",
    "⟹": " -> ",
    "↔": " <-> ",
    "⟷": " <-> ",
    "↑": " up ",
    "↓": " down ",
    "∝": " ~ ",
    "≤": " <= ",
    "≥": " >= ",
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
    (r"\\(?:Rightarrow|rightarrow|longrightarrow|Longrightarrow|implies|to)\b", " -> "),
    (r"\\(?:approx|sim|simeq|propto)\b", " ~ "),
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
_WORD = compile_linear(r"\p{L}[\p{L}0-9_']*|->|[~=<>]")  # letters of any alphabet (français, Größe)
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


@lru_cache(maxsize=64)
def shingles(text: str, size: int = 3) -> frozenset[tuple[str, ...]]:
    """Word ``size``-grams of ``text``: two answers that share most of them are the same text."""
    tokens = words(text)
    return frozenset(tuple(tokens[i : i + size]) for i in range(max(0, len(tokens) - size + 1)))
