"""CSV files a spreadsheet opens safely: text cells that could start a formula are neutralised.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (after any leading spaces)
is read as a formula by Excel, LibreOffice and Google Sheets (CSV injection); such a cell gets a leading
``'``, which those programs show as text. Numbers the service formats itself go through ``number``.
"""

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text(value: object) -> str:
    """A text cell: ``'=1+1`` for ``=1+1``; other text unchanged; None as an empty cell."""
    if value is None:
        return ""
    cell = str(value)
    if cell.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def number(value: float | None) -> str:
    """A numeric cell: ``6``, ``2.5``; empty for None."""
    return "" if value is None else f"{value:g}"


def write(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """The CSV text: csv module quoting, RFC 4180 line ends (CRLF); cells already made by ``text``/``number``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([text(h) for h in header])
    for row in rows:
        writer.writerow(list(row))
    return out.getvalue()
