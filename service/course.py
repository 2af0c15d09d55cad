"""``python -m service.course``: the assignment's policy and the students' extensions from the command line.

python -m service.course policy show
python -m service.course policy set policy.json        # a JSON object with the fields of service.policy.Policy
python -m service.course extend alice --due 2026-04-02T23:59 [--close 2026-04-05T23:59] --reason "illness"
python -m service.course revoke alice --reason "granted by mistake"
python -m service.course extensions                   # the whole history
"""

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select

from service import extensions, policy
from service.config import get_settings
from service.db import Database
from service.migrate import upgrade
from service.models import User


def _student(session, name: str) -> str:  # noqa: ANN001
    found = extensions.student_id(session, name)
    if found is None:
        raise SystemExit(f"No student named {name!r} (python -m service.roster list).")
    return found


def _show(rules: policy.Policy) -> str:
    data = rules.model_dump(mode="json")
    data["due_local"], data["close_local"] = rules.local(rules.due_at), rules.local(rules.close_at)
    return json.dumps(data, indent=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.course", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--author", default="cli", help="recorded as who made the change")
    pol = sub.add_parser("policy", parents=[who], help="show or set the policy")
    pol.add_argument("action", choices=["show", "set"])
    pol.add_argument("file", nargs="?", type=Path, help="JSON policy (for set)")
    ext = sub.add_parser("extend", parents=[who], help="grant a student an extension")
    ext.add_argument("student")
    ext.add_argument("--due", required=True, type=datetime.fromisoformat, help="local to the policy's time zone")
    ext.add_argument("--close", type=datetime.fromisoformat, help="default: max(policy close, new due)")
    ext.add_argument("--reason", required=True)
    rev = sub.add_parser("revoke", parents=[who], help="revoke a student's extension")
    rev.add_argument("student")
    rev.add_argument("--reason", required=True)
    sub.add_parser("extensions", parents=[who], help="print the history of extensions")
    args = parser.parse_args(argv)

    database = Database(get_settings())
    upgrade(database)
    try:
        with database.write_session() as session:
            rules = policy.current(session)
            if args.cmd == "policy" and args.action == "set":
                if args.file is None:
                    raise SystemExit("policy set needs a JSON file")
                rules = policy.Policy.model_validate(json.loads(args.file.read_text()))
                policy.save(session, rules, args.author)
            if args.cmd == "policy":
                sys.stdout.write(_show(rules) + "\n")
            elif args.cmd == "extend":
                extensions.grant(
                    session, _student(session, args.student),
                    due_at=policy.to_utc(args.due, rules.zone, "--due"),
                    close_at=policy.to_utc(args.close, rules.zone, "--close"),
                    reason=args.reason, author=args.author,
                )  # fmt: skip
            elif args.cmd == "revoke":
                extensions.revoke(session, _student(session, args.student), reason=args.reason, author=args.author)
            elif args.cmd == "extensions":
                names = dict(session.execute(select(User.id, User.name)).all())
                for row in extensions.history(session):
                    sys.stdout.write(
                        f"{row.created_at.isoformat()}\t{names[row.user_id]}\t{row.action}\t"
                        f"{rules.local(row.due_at)}\t{rules.local(row.close_at)}\t{row.author}\t{row.reason}\n"
                    )
    except (ValidationError, ValueError) as error:
        sys.stderr.write(f"Nothing changed: {error}\n")
        return 2
    finally:
        database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
