"""Written answers: split markdown into sections by their question headings (``## Q3``, ``## Q6a``, ...).

A section runs from its heading to the next question heading (any level) or the next heading of the
same or a higher level. Headings inside fenced code blocks do not count. Lines that start with ``>``
(the template's questions) and HTML comments are not part of an answer; an empty section is missing.
"""

import re

ANSWER_KEYS = ("Q3", "Q4", "Q5", "Q6a", "Q6b", "Q6c", "Q7", "Q8a", "Q8b", "Q8c", "Q8d")

_HEADING = re.compile(r"^ {0,3}(?P<hashes>#{1,6})(?:[ \t]+(?P<title>.*?))?[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
# Q, the question number, then an optional part letter ("Q6a", "Q6 a", "Q6.a", "Q6 (a)") not followed by
# a letter or digit (so "Q3 answer" is Q3 with the title "answer").
_QUESTION = re.compile(
    r"^[Qq][ \t]*(?P<num>\d+)(?:[ \t]*[.\-_]?[ \t]*\(?(?P<part>[A-Za-z])\)?(?![A-Za-z0-9]))?(?P<rest>.*)$"
)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def question_key(title: str) -> tuple[str | None, bool]:
    """(key, is_question) for a heading's title: ('Q6a', True), (None, True) for 'Q9', (None, False) otherwise."""
    match = _QUESTION.match(title.strip().strip("*_` "))
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
    for line in text.splitlines():
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match["fence"]
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
        heading = _HEADING.match(line) if fence is None and not fence_match else None
        if heading is not None:
            level = len(heading["hashes"])
            key, is_question = question_key(heading["title"] or "")
            if is_question:
                current, current_level = None, level
                if key is None:
                    warnings.append(f"{source}: heading {line.strip()!r} ignored (answer headings: {_keys_text()}).")
                else:
                    if key in sections:
                        warnings.append(f"{source}: {key} has two sections; they were joined.")
                    current = []
                    sections.setdefault(key, []).append(current)
                continue
            if level <= current_level:
                current, current_level = None, level
        if current is not None:
            current.append(line)
    answers = {}
    for key in ANSWER_KEYS:
        parts = [clean_answer("\n".join(lines)) for lines in sections.get(key, [])]
        body = "\n\n".join(part for part in parts if part)
        if body:
            answers[key] = body
    return answers, warnings


def clean_answer(body: str) -> str:
    """The answer without HTML comments, quoted question lines (``>``) and surrounding blank lines."""
    body = _COMMENT.sub("", body)
    lines = [line for line in body.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()


def _keys_text() -> str:
    return ", ".join(f"## {key}" for key in ANSWER_KEYS)
