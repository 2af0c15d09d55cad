"""How a written answer is written: sentences, terse notes, lists and equations, or a bag of keywords.

``describe`` reads the normalised sentences of an answer, drops those that copy the question, and counts
the words that carry syntax (prose, equations, terse notes such as ``weights depend on input`` or
``embed_dim: more params/compute``, and the lists that a question asking for names accepts) against the
words of bare terms. An answer with under a third of its words on the first side is keyword soup, which
the scorer caps. Lines of figures (settings, results) count on neither side. Everything is linear in the
capped answer.
"""

from dataclasses import dataclass

from grader.checks.written_text import compile_linear, is_verb, normalise, sentences, words
from grader.checks.written_words import (
    AUXILIARIES,
    FUNCTION_WORDS,
    IMPERATIVES,
    IRREGULAR,
    MATH_WORDS,
    NOTE_RELATIONS,
    NOUN_LIKE,
    VERB_STEMS,
)

SOUP_PROSE_SHARE = 0.34
NOTE_MAX_WORDS = 6
"""A clause this short or shorter is a note when a third of its words relate the others (verbs, symbols ...)."""
NOTE_MARKER_SHARE = 0.3
ITEM_MAX_WORDS = 5
"""Each item of a list that answers a question asking for names has at most this many words."""
LABEL_MAX_WORDS = 3
ECHO_MAX_WORDS = 10
RELATED_SHARE = 0.3
LIST_MAX_ITEMS = 6
_FORMULA_CHARS = set("0123456789=^~<>+*")
_NOT_MARKERS = frozenset({"of", "the", "a", "an", "and", "or", "vs"})  # they join the words of one noun phrase
_PREDICATES = frozenset({"linear", "quadratic", "constant", "proportional", "cubic", "squared", "same", "ok", "fine"})
_CLAUSE = compile_linear(r"[,;:()\[\]]|\s-\s")
_PART = compile_linear(r";")
_ITEM = compile_linear(r"[,;]|\s(?:and|or|und|et|puis)\s")  # "+" and "/" join the words of one item
_GLOSS = compile_linear(r"\([^()]{0,200}\)")  # "heavy aug + reg (mixup, stochastic depth)" is one item

LISTS = ("", "labelled", "any")
"""How a question takes lists: not at all, under a label that names the part asked ("Improve: augmentation,
more epochs"), or also as the whole answer (a question that asks which ideas)."""


def is_equation(sentence: str, tokens: list[str]) -> bool:
    """An equation: an ``=`` with most of the words maths (single letters, indices, operator names)."""
    if "=" not in sentence or not tokens:
        return False
    maths = sum(1 for t in tokens if len(t) <= 2 or "_" in t or any(c.isdigit() for c in t) or t in MATH_WORDS)
    return maths >= 0.6 * len(tokens)


def is_prose(tokens: list[str]) -> bool:
    """Words with syntax: five or more, a fifth of them function words (or a tenth with a verb).

    A bag of terms has almost no articles, prepositions or conjunctions; English prose, even terse notes
    or non-native English, has a quarter or more. Informal notes count their relations too ("bigger embed
    dim = more params and more slow but better accuracy": a third of relations and function words).
    """
    if len(tokens) < 5:
        return False
    share = sum(1 for t in tokens if t in FUNCTION_WORDS) / len(tokens)
    related = share + sum(1 for t in tokens if t in NOTE_RELATIONS) / len(tokens)
    return share >= 0.2 or (share >= 0.1 and any(is_verb(t) for t in tokens)) or related >= RELATED_SHARE


def _relates(tokens: list[str], i: int) -> bool:
    """Token ``i`` relates the others: a relation symbol or word, a verb form (a bare stem that is mostly a noun,
    'cost', 'map', never; an instruction's verb first; a participle first is an adjective, 'learned token'), or
    a growth adjective after its noun ('params linear')."""
    token, last = tokens[i], len(tokens) - 1
    if token in NOTE_RELATIONS or (token in FUNCTION_WORDS and token not in _NOT_MARKERS):
        return True
    if token in _PREDICATES:
        return i > 0
    if i == 0:
        return token in IMPERATIVES or token in AUXILIARIES
    if token in NOUN_LIKE or token[:-1] in NOUN_LIKE or token[:-2] in NOUN_LIKE or not is_verb(token):
        return False  # 'attention maps', 'quadratic costs', 'patches' are plural nouns
    inflected = token in AUXILIARIES or token in IRREGULAR or token not in VERB_STEMS
    return i < last or inflected


def is_note(tokens: list[str]) -> bool:
    """A terse note: two to six words, a third of which relate the rest (``each patch sees all patches``,
    ``weights depend on input``, ``more params/compute``, ``conv = local``); a run of terms is not one."""
    if not 2 <= len(tokens) <= NOTE_MAX_WORDS:
        return False
    markers = sum(1 for i in range(len(tokens)) if _relates(tokens, i))
    return 0 < markers < len(tokens) and markers >= NOTE_MARKER_SHARE * len(tokens)


def is_formula(sentence: str) -> bool:
    """Mostly figures and symbols: half or more of its space-separated tokens hold digits or operators."""
    tokens = sentence.split()
    return bool(tokens) and sum(1 for t in tokens if _FORMULA_CHARS & set(t)) >= len(tokens) / 2


def list_items(text: str) -> list[list[str]]:
    """The items of a list (``a, b and c``; one item for a short line), each of at most ``ITEM_MAX_WORDS``
    words; [] when some item is longer (a run of terms or a sentence is not a list)."""
    items = [words(item) for item in _ITEM.split(_GLOSS.sub(" ", text))]
    items = [item for item in items if item]
    if not items or any(len(item) > ITEM_MAX_WORDS for item in items):
        return []
    return items


def labelled_list(part: str) -> bool:
    """``Label: item, item``: a label of at most three words (the part asked: 'Improve', 'reduce', 'Config')
    followed by at most six short items."""
    label, colon, rest = part.partition(":")
    if not colon or "," in label or not 1 <= len(words(label)) <= LABEL_MAX_WORDS:
        return False  # a label is one phrase: "224x224, 3 channels, CNN: pooling" is a list of terms
    items = list_items(rest)
    return 0 < len(items) <= LIST_MAX_ITEMS


@dataclass(frozen=True)
class TextProfile:
    """How an answer is written: its kept sentences, word counts, and the share written as prose or maths."""

    kept: tuple[str, ...]
    words: int
    prose_words: int
    verbless_words: int
    copied_words: int
    listed_words: int = 0
    """Words counted as an answer because they form a list the question asks for (names, not sentences)."""

    @property
    def prose_share(self) -> float:
        return self.prose_words / self.words if self.words else 0.0

    @property
    def keyword_soup(self) -> bool:
        """Mostly keywords outside any sentence, note or equation (a bag of terms, not an explanation).

        Terse notes with a few relations pass: only answers with under a third of their words in sentences,
        notes or equations count as keywords (formulas and figures are left out of both sides).
        """
        return self.words > 0 and self.prose_share < SOUP_PROSE_SHARE


def _overlap(sentence_words: set[str], question: list[set[str]]) -> bool:
    """The sentence copies a question sentence: most of its words are the question's, and most of the question's."""
    if len(sentence_words) < 4:
        return False
    return any(len(sentence_words & q) >= max(0.8 * len(sentence_words), 0.6 * len(q)) for q in question)


def _stem(word: str) -> str:
    word = word.rstrip("'")
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def echoes(sentence: str, tokens: list[str], question: set[str]) -> bool:
    """The sentence only repeats the question in other order: a question of its own ("How is the embedding
    split?") or a short statement whose words all come from the question ("It is split among the heads.")."""
    content = {_stem(t) for t in tokens if len(t) > 2 and t not in FUNCTION_WORDS and t not in AUXILIARIES}
    if not question or not content or len(tokens) > ECHO_MAX_WORDS:
        return False
    shared = len(content & question) / len(content)
    if sentence.rstrip().endswith("?"):
        return shared >= 0.6
    return shared == 1.0 and len(content) >= 2 and any(t in AUXILIARIES or is_verb(t) for t in tokens)


def _clauses(text: str) -> tuple[int, int]:
    """(words with syntax, bare words) of a sentence read clause by clause (notes, equations, terms)."""
    prose = verbless = 0
    for clause in _CLAUSE.split(text):
        tokens = words(clause)
        if is_note(tokens) or is_prose(tokens) or is_equation(clause, tokens):
            prose += len(tokens)
        elif not is_formula(clause):
            verbless += len(tokens)
    return prose, verbless


def describe(text: str, question: str = "", *, lists: str = "", max_items: int = 0) -> TextProfile:
    """Profile of normalised ``text``; sentences that repeat the ``question`` are dropped (and counted).

    ``lists`` (see ``LISTS``) says which lists answer the question: labelled ones, or any list of at most
    ``max_items`` items in the whole answer (more items than that is a bag of terms).
    """
    question_sets = [set(words(s)) for s in sentences(normalise(question))] if question else []
    question_stems = {_stem(w) for q in question_sets for w in q}
    kept, total, prose, verbless, copied, named = [], 0, 0, 0, 0, 0
    listed: list[tuple[str, int]] = []  # (sentence, items) of an answer that may be a list of names
    for sentence in sentences(text):
        tokens = words(sentence)
        if _overlap(set(tokens), question_sets) or echoes(sentence, tokens, question_stems):
            copied += len(tokens)
            continue
        kept.append(sentence)
        if is_equation(sentence, tokens) or is_prose(tokens):
            prose += len(tokens)
            total += len(tokens)
            continue
        if lists == "any" and (items := list_items(sentence)):
            listed.append((sentence, len(items)))
            continue
        if is_formula(sentence):
            continue  # figures and formulas (settings, results) are neither prose nor keywords
        for part in _PART.split(sentence):
            n = len(words(part))
            if lists and labelled_list(part):
                prose, total, named = prose + n, total + n, named + n
                continue
            with_syntax, bare = _clauses(part)
            prose, verbless, total = prose + with_syntax, verbless + bare, total + with_syntax + bare
    answers_by_list = sum(items for _, items in listed) <= max_items
    for sentence, _ in listed:
        n = len(words(sentence))
        with_syntax, bare = (n, 0) if answers_by_list else _clauses(sentence)
        named += n if answers_by_list else 0
        prose, verbless, total = prose + with_syntax, verbless + bare, total + with_syntax + bare
    return TextProfile(tuple(kept), total, prose, verbless, copied, named)
