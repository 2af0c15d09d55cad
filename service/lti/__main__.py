"""LTI 1.3 tool commands: ``keygen`` (our key pair), ``jwks`` (its public half), ``push`` (grades to the LMS).

    python -m service.lti keygen [--force]     # writes VITGRADE_LTI_PRIVATE_KEY_PATH (mode 0600), prints the JWKS
    python -m service.lti jwks                 # the JWKS the platform registration needs (also GET /lti/jwks.json)
    python -m service.lti push [--dry-run]     # prints the summary as JSON

``push`` exits 0 when every matched student's score was accepted, 1 when some were refused, 2 when it
could not run (not configured, key, platform refused the token or the line item).
"""

import argparse
import json
import sys

from service.config import get_settings
from service.db import Database
from service.lti import keys
from service.lti.client import connect
from service.lti.errors import LtiError
from service.lti.push import class_grades, push
from service.lti.tokens import TokenCache
from service.migrate import upgrade


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.lti", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    keygen = sub.add_parser("keygen", help="generate the tool's RSA key pair")
    keygen.add_argument("--force", action="store_true", help="replace an existing key (re-register the JWKS)")
    sub.add_parser("jwks", help="print our public JWKS")
    run = sub.add_parser("push", help="post the grades that count to the LMS (AGS), students matched by NRPS")
    run.add_argument("--dry-run", action="store_true", help="match and report; create and post nothing")
    args = parser.parse_args(argv)
    service = get_settings()
    settings = service.lti  # the registration, nested in the service's settings
    try:
        if args.cmd == "keygen":
            keys.generate(settings.private_key_path, force=args.force)
            sys.stderr.write(f"wrote {settings.private_key_path}; register this JWKS (or GET /lti/jwks.json):\n")
        if args.cmd in ("keygen", "jwks"):
            json.dump(keys.load(settings.private_key_path, settings.key_id).jwks(), sys.stdout, indent=2)
            sys.stdout.write("\n")
            return 0
        with connect(settings, TokenCache()) as platform:  # checks the registration and the key first
            database = Database(service)
            upgrade(database)
            with database.session() as session:
                students = class_grades(session)
            database.dispose()
            summary = push(platform, students, dry_run=args.dry_run)
    except LtiError as error:
        sys.stderr.write(f"{error}\n")
        return 2
    sys.stdout.write(summary.model_dump_json(indent=2) + "\n")
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
