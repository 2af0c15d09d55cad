"""Grade files an LMS imports: the instructor's Canvas gradebook export filled in, and a Moodle grade import.

Scores are the grade that counts (``gradebook``): effective scores after late credit, rounded to 2 decimals;
a student with no counted grade gets an empty cell (the LMS leaves the grade as it is).

Canvas: the instructor exports the gradebook (CSV) and hands it over; the file returned keeps
``Student, ID, SIS User ID, SIS Login ID, Section`` and one assignment column ``Name (id)``, without the
"Points Possible" row and the test student. Rows match roster students by SIS User ID (``sis_id``),
else by SIS Login ID (``sis_login``, else the roster name). Students on one side only are reported.

Moodle: "Import grades from CSV", keyed by email address or by ID number (``sis_id``), one grade column.
"""

import csv
import io
import re
from dataclasses import dataclass, field

from service import csvcells
from service.gradebook import Gradebook
from service.models import User

CANVAS_KEEP = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
ASSIGNMENT = re.compile(r"^.+\(\d+\)$")
TEST_STUDENTS = {"student, test", "test student"}


class ExportError(Exception):
    """The instructor's file cannot be used; the message says why."""


@dataclass
class Export:
    csv: str
    column: str
    missing_in_lms: list[str] = field(default_factory=list)  # roster students the LMS file lacks (or cannot key)
    missing_in_roster: list[str] = field(default_factory=list)  # LMS students the roster lacks


def finals(book: Gradebook) -> dict[str, str]:
    """user id -> the final score as a cell ('' when nothing counts)."""
    return {s.user_id: csvcells.number(round(s.final, 2)) if s.final is not None else "" for s in book.students}


def canvas(book: Gradebook, users: list[User], export_text: str, column: str | None = None) -> Export:
    rows = list(csv.reader(io.StringIO(export_text.removeprefix("\ufeff"), newline="")))
    if not rows or rows[0][: len(CANVAS_KEEP)] != CANVAS_KEEP:
        got = rows[0][: len(CANVAS_KEEP)] if rows else []
        raise ExportError(f"Not a Canvas gradebook export: the header starts with {got}, expected {CANVAS_KEEP}.")
    header = rows[0]
    candidates = [h for h in header[len(CANVAS_KEEP) :] if ASSIGNMENT.match(h.strip())]
    if column is None:
        if len(candidates) != 1:
            raise ExportError(f"Name the assignment column (column=...); the file has {candidates or 'none'}.")
        column = candidates[0]
    if column not in header:
        raise ExportError(f"No column {column!r} in the Canvas file; its assignment columns: {candidates}.")
    score = finals(book)
    by_sis = {u.sis_id: u for u in users if u.sis_id}
    by_login = {(u.sis_login or u.name): u for u in users}
    out, matched, strangers = [], set(), []
    for cells in rows[1:]:
        cells = cells + [""] * (len(header) - len(cells))
        record = dict(zip(header, cells, strict=False))
        name = record["Student"].strip()
        if name.lower() == "points possible" or name.lower() in TEST_STUDENTS or not name:
            continue
        user = by_sis.get(record["SIS User ID"].strip()) or by_login.get(record["SIS Login ID"].strip())
        if user is None:
            strangers.append(name)
        else:
            matched.add(user.id)
        out.append(
            [csvcells.text(record[k]) for k in CANVAS_KEEP] + [score.get(user.id, "") if user else record[column]]
        )
    missing = [s.name for s in book.students if s.user_id not in matched]
    return Export(csvcells.write([*CANVAS_KEEP, column], out), column, missing, strangers)


def moodle(book: Gradebook, users: list[User], key: str = "email", item: str = "ViT lab") -> Export:
    """``Email address`` (or ``ID number``) and the grade item's column; students without that key are reported."""
    if key not in ("email", "idnumber"):
        raise ExportError(f"Moodle files are keyed by 'email' or 'idnumber', not {key!r}.")
    score = finals(book)
    rows, missing = [], []
    for user in sorted(users, key=lambda u: u.name):
        ident = user.email if key == "email" else user.sis_id
        if not ident:
            missing.append(user.name)
            continue
        rows.append([csvcells.text(ident), score.get(user.id, "")])
    header = ["Email address" if key == "email" else "ID number", item]
    return Export(csvcells.write(header, rows), item, missing_in_lms=missing)
