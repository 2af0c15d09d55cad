"""``python -m service.roster``: issue tokens (printed once, stored hashed).

python -m service.roster add alice bob        # one token per student
python -m service.roster import roster.csv    # columns student (or name, username, login; else the first),
                                              # optional email, sis_id (or "SIS User ID", "ID number"), sis_login
python -m service.roster instructor [name]    # an instructor token
python -m service.roster list
"""

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from service import auth
from service.config import get_settings
from service.db import Database
from service.migrate import upgrade
from service.models import Role, User


@dataclass(frozen=True)
class RosterRow:
    name: str
    email: str | None = None
    sis_id: str | None = None
    sis_login: str | None = None


NAME_KEYS = ("student", "name", "username", "login")
EMAIL_KEYS = ("email", "email address", "e-mail")
SIS_ID_KEYS = ("sis_id", "sis user id", "id number", "idnumber", "student id")
SIS_LOGIN_KEYS = ("sis_login", "sis login id")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_roster(text: str) -> tuple[list[RosterRow], list[str]]:
    """Rows of a roster CSV (LF or CRLF, a UTF-8 BOM allowed) and the problems of the rows left out."""
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    if not rows:
        return [], ["The roster is empty."]
    header = [h.strip().lower() for h in rows[0]]

    def column(keys: tuple[str, ...]) -> int | None:
        return next((header.index(k) for k in keys if k in header), None)

    name_col = column(NAME_KEYS)
    cols = (column(EMAIL_KEYS), column(SIS_ID_KEYS), column(SIS_LOGIN_KEYS))
    body = rows[1:] if name_col is not None or any(c is not None for c in cols) else rows
    name_col = name_col or 0
    found: list[RosterRow] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, cells in enumerate(body, start=len(rows) - len(body) + 1):
        if not any(c.strip() for c in cells):
            continue

        def cell(col: int | None, cells: list[str] = cells) -> str | None:
            return cells[col].strip() or None if col is not None and col < len(cells) else None

        name, email, sis_id, sis_login = cell(name_col), *(cell(c) for c in cols)
        problem = _row_problem(name, email, seen)
        if problem:
            problems.append(f"row {number}: {problem}")
            continue
        seen.add(name)
        found.append(RosterRow(name, email, sis_id, sis_login))
    return found, problems


def _row_problem(name: str | None, email: str | None, seen: set[str]) -> str:
    if not name:
        return "no student name"
    if len(name) > 128 or any(ord(c) < 32 or c == "\x7f" for c in name):
        return f"name {name[:40]!r} is longer than 128 characters or holds control characters"
    if name in seen:
        return f"{name!r} appears twice"
    if email is not None and not EMAIL.match(email):
        return f"{email!r} is not an email address"
    return ""


def import_rows(database: Database, rows: list[RosterRow]) -> tuple[dict[str, str], list[str]]:
    """Create the new students (their tokens are returned) and update the others' email and SIS ids
    (their tokens are kept)."""
    created: dict[str, str] = {}
    updated: list[str] = []
    with database.write_session() as session:
        existing = {u.name: u for u in session.scalars(select(User).where(User.name.in_([r.name for r in rows])))}
        for row in rows:
            user = existing.get(row.name)
            if user is None:
                created[row.name] = auth.issue(session, row.name, Role.student)
                session.flush()
                user = session.scalar(select(User).where(User.name == row.name))
            else:
                updated.append(row.name)
            user.email, user.sis_id, user.sis_login = row.email, row.sis_id, row.sis_login
    return created, updated


def issue_tokens(database: Database, names: list[str], role: Role) -> dict[str, str]:
    tokens: dict[str, str] = {}
    with database.write_session() as session:
        for name in names:
            tokens[name] = auth.issue(session, name, role)
    return tokens


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.roster", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    add = sub.add_parser("add", help="add students (or rotate their tokens)")
    add.add_argument("names", nargs="+")
    imp = sub.add_parser("import", help="add the students of a roster CSV")
    imp.add_argument("csv", type=Path)
    ins = sub.add_parser("instructor", help="issue an instructor token")
    ins.add_argument("name", nargs="?", default="instructor")
    sub.add_parser("list", help="list users (no tokens)")
    args = parser.parse_args(argv)

    database = Database(get_settings())
    upgrade(database)
    if args.cmd == "list":
        with database.session() as session:
            for user in session.scalars(select(User).order_by(User.role, User.name)):
                sys.stdout.write(f"{user.role}\t{user.name}\n")
        return 0
    if args.cmd == "import":
        rows, problems = parse_roster(args.csv.read_text(encoding="utf-8-sig"))
        for problem in problems:
            sys.stderr.write(f"skipped {problem}\n")
        tokens, updated = import_rows(database, rows)
        if updated:
            sys.stderr.write(f"updated (tokens kept): {', '.join(updated)}\n")
        _print_tokens(tokens, Role.student)
        database.dispose()
        return 1 if problems else 0
    if args.cmd == "add":
        names, role = args.names, Role.student
    else:
        names, role = [args.name], Role.instructor
    _print_tokens(issue_tokens(database, names, role), role)
    database.dispose()
    return 0


def _print_tokens(tokens: dict[str, str], role: Role) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(["name", "role", "token"])
    for name, token in tokens.items():
        writer.writerow([name, role.value, token])
    sys.stderr.write("Tokens are shown once and stored only as hashes; hand them out now.\n")


if __name__ == "__main__":
    sys.exit(main())
