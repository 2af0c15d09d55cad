"""``python -m service.roster``: issue tokens (printed once, stored hashed).

python -m service.roster add alice bob        # one token per student
python -m service.roster import roster.csv    # a column 'student' (or 'name', or the first column)
python -m service.roster instructor [name]    # an instructor token
python -m service.roster list
"""

import argparse
import csv
import sys
from pathlib import Path

from sqlalchemy import select

from service import auth
from service.config import get_settings
from service.db import Database
from service.migrate import upgrade
from service.models import Role, User


def read_roster(path: Path) -> list[str]:
    """Student names from a CSV: the column 'student', 'name' or 'username', else the first column."""
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    for key in ("student", "name", "username", "login"):
        if key in header:
            col = header.index(key)
            return [r[col].strip() for r in rows[1:] if len(r) > col and r[col].strip()]
    return [r[0].strip() for r in rows if r and r[0].strip()]


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
        names, role = read_roster(args.csv), Role.student
    elif args.cmd == "add":
        names, role = args.names, Role.student
    else:
        names, role = [args.name], Role.instructor
    tokens = issue_tokens(database, names, role)
    writer = csv.writer(sys.stdout)
    writer.writerow(["name", "role", "token"])
    for name, token in tokens.items():
        writer.writerow([name, role.value, token])
    sys.stderr.write("Tokens are shown once and stored only as hashes; hand them out now.\n")
    database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
