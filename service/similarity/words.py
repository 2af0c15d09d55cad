"""Written answers as normalised words: lower case, letters and digits only, markup and LaTeX commands dropped."""

import re

from service.similarity.tokens import Token

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")


def answer_tokens(text: str) -> list[Token]:
    """The words of ``text`` with their line numbers, ready to fingerprint like code tokens."""
    words: list[Token] = []
    for number, line in enumerate(text.splitlines(), start=1):
        cleaned = _LATEX_COMMAND.sub(" ", line)
        words.extend(Token(word.casefold(), number) for word in _WORD.findall(cleaned))
    return words
