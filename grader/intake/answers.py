"""Written answers: split markdown into sections by their question headings (``## Q3``, ``## Q6a``, ...).

A section runs from its heading to the next question heading (any level) or the next heading of the
same or a higher level. Headings inside fenced code blocks do not count. Lines that start with ``>``
(the template's questions) and HTML comments are not part of an answer; an empty section is missing.
An answer longer than ``limits.MAX_ANSWER_CHARS`` is cut there, with a warning that names it.
"""

import re

from grader.intake import limits

ANSWER_KEYS = ("Q3", "Q4", "Q5", "Q6a", "Q6b", "Q6c", "Q7", "Q8a", "Q8b", "Q8c", "Q8d")

_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
# Q, the question number, then an optional part letter ("Q6a", "Q6 a", "Q6.a", "Q6 (a)") not followed by
# a letter or digit (so "Q3 answer" is Q3 with the title "answer").
_QUESTION = re.compile(
    r"^[Qq][ \t]*(?P<num>\d+)(?:[ \t]*[.\-_]?[ \t]*\(?(?P<part>[A-Za-z])\)?(?![A-Za-z0-9]))?(?P<rest>.*)$"
)
_MARKUP_STARTS = ("#", " ", "`", "~")
_TITLE_CHARS = 200  # a question heading is decided by its first characters


def question_key(title: str) -> tuple[str | None, bool]:
    """(key, is_question) for a heading's title: ('Q6a', True), (None, True) for 'Q9', (None, False) otherwise."""
    match = _QUESTION.match(" ".join(title[:_TITLE_CHARS].split()).strip("*_` "))
    if match is None or (match["rest"] and match["rest"][0].isalnum()):
        return None, False
    number, part = match["num"], (match["part"] or "").lower()
    for key in (f"Q{number}{part}", f"Q{number}"):
        if key in ANSWER_KEYS:
            return key, True
    return None, True


def parse_answers(text: str, source: str) -> tuple[dict[str, str], list[str]]:
    """Answers found in ``text`` (key -> text, in question order) and warnings naming ``source``."""
    sections: dict[str, list[list[str]]] = {}
    warnings: list[str] = []
    current: list[str] | None = None
    current_level = 0
    fence: str | None = None
    ignored: set[str] = set()
    for line in text.splitlines():
        if not line.startswith(_MARKUP_STARTS):  # plain text: neither a heading nor a fence
            if current is not None:
                current.append(line)
            continue
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match["fence"]
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
        heading = _heading(line) if fence is None and not fence_match else None
        if heading is not None:
            level, title = heading
            key, is_question = question_key(title)
            if is_question:
                current, current_level = None, level
                if key is not None:
                    if len(sections.get(key, ())) == 1:
                        warnings.append(f"{source}: {key} has two sections; they were joined.")
                    current = []
                    sections.setdefault(key, []).append(current)
                elif line.strip() not in ignored and len(ignored) < limits.MAX_NOTES:  # each odd heading once
                    ignored.add(line.strip())
                    shown = line.strip()[:_TITLE_CHARS]
                    warnings.append(f"{source}: heading {shown!r} ignored (answer headings: {_keys_text()}).")
                continue
            if level <= current_level:
                current, current_level = None, level
        if current is not None:
            current.append(line)
    answers = {}
    for key in ANSWER_KEYS:
        parts = [clean_answer("\n".join(lines)) for lines in sections.get(key, [])]
        body = "\n\n".join(part for part in parts if part)
        if len(body) > limits.MAX_ANSWER_CHARS:
            warnings.append(
                f"{source}: the answer to {key} has {len(body):,} characters; only its first "
                f"{limits.MAX_ANSWER_CHARS:,} are graded (the limit per answer). Shorten it; the other answers "
                "are graded."
            )
            body = body[: limits.MAX_ANSWER_CHARS].rstrip()
        if body:
            answers[key] = body
    return answers, warnings


def _heading(line: str) -> tuple[int, str] | None:
    """(level, title) of an ATX heading ('## Q3: title ##'), else None. Plain string work: no regex backtracking."""
    indent = len(line) - len(line.lstrip(" "))
    rest = line[indent:]
    level = len(rest) - len(rest.lstrip("#"))
    if indent > 3 or not 1 <= level <= 6 or (len(rest) > level and rest[level] not in " \t"):
        return None
    title = rest[level:].strip()
    closed = title.rstrip("#")
    if not closed or closed[-1] in " \t":
        title = closed.rstrip()
    return level, title


def _strip_comments(text: str) -> str:
    """``text`` without HTML comments; an unclosed ``<!--`` hides the rest, as in HTML. Linear time."""
    parts, position = [], 0
    while (start := text.find("<!--", position)) >= 0:
        parts.append(text[position:start])
        end = text.find("-->", start + 4)
        if end < 0:
            return "".join(parts)
        position = end + 3
    parts.append(text[position:])
    return "".join(parts)


def clean_answer(body: str) -> str:
    """The answer without HTML comments, quoted question lines (``>``) and surrounding blank lines."""
    body = _strip_comments(body)
    lines = [line for line in body.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()


def _keys_text() -> str:
    return ", ".join(f"## {key}" for key in ANSWER_KEYS)
