"""Code as a normalised token stream: what two files share once names, literals and comments are ignored.

The standard library's ``tokenize`` reads the source; comments, docstrings (a string that is a whole
statement) and layout tokens are dropped, every identifier becomes ``ID`` and every literal ``LIT``;
keywords and operators stay. Each token keeps its source line, so a shared run of tokens maps back to
line ranges in both files.
"""

import io
import keyword
import token
import tokenize
from dataclasses import dataclass

_LAYOUT = {
    token.NEWLINE,
    token.NL,
    token.INDENT,
    token.DEDENT,
    token.COMMENT,
    token.ENCODING,
    token.ENDMARKER,
    token.TYPE_COMMENT,
}
_STRING_PARTS = {token.STRING, getattr(token, "FSTRING_START", -1), getattr(token, "FSTRING_MIDDLE", -1)}
_STATEMENT_STARTS = {token.NEWLINE, token.INDENT, token.DEDENT, token.ENCODING}


class Untokenisable(ValueError):
    """The source is not Python that ``tokenize`` can read (reported per submission, never a crash)."""


@dataclass(frozen=True, slots=True)
class Token:
    """One normalised token: ``text`` is a keyword, an operator, ``ID`` or ``LIT``; ``line`` is 1-based."""

    text: str
    line: int


def code_tokens(source: str) -> list[Token]:
    """The normalised tokens of ``source``; raises ``Untokenisable`` with the reason and line."""
    raw = _raw_tokens(source)
    tokens: list[Token] = []
    previous_kind = token.NEWLINE
    index = 0
    while index < len(raw):
        item = raw[index]
        if item.type in _STRING_PARTS and previous_kind in _STATEMENT_STARTS and _is_docstring(raw, index):
            index = _skip_statement(raw, index)
            continue
        if item.type not in _LAYOUT:
            tokens.append(Token(_normalise(item), item.start[0]))
        if item.type != token.NL and item.type != token.COMMENT:
            previous_kind = item.type
        index += 1
    return tokens


def _raw_tokens(source: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError) as error:
        raise Untokenisable(f"not tokenisable Python: {error}") from None


def _normalise(item: tokenize.TokenInfo) -> str:
    if item.type == token.NAME:
        return item.string if keyword.iskeyword(item.string) else "ID"
    if item.type in (token.NUMBER, token.STRING) or item.type in _STRING_PARTS:
        return "LIT"
    if item.type == getattr(token, "FSTRING_END", -2):
        return "LIT"
    return item.string


def _is_docstring(raw: list[tokenize.TokenInfo], index: int) -> bool:
    """A string token that starts a statement made only of strings (implicit concatenation included)."""
    end = index
    while end < len(raw) and (raw[end].type in _STRING_PARTS or raw[end].type == getattr(token, "FSTRING_END", -2)):
        end += 1
    while end < len(raw) and raw[end].type in (token.NL, token.COMMENT):
        end += 1
    return end >= len(raw) or raw[end].type in (token.NEWLINE, token.ENDMARKER)


def _skip_statement(raw: list[tokenize.TokenInfo], index: int) -> int:
    while index < len(raw) and raw[index].type not in (token.NEWLINE, token.ENDMARKER):
        index += 1
    return index
