"""The container healthcheck: ``healthcheck.py [serve|worker]`` exits 0 when healthy, 1 otherwise.

- ``serve``: ``GET /healthz`` on the local API answers 200 within 5 s.
- ``worker``: this container's worker (a row whose id starts with the hostname) sent a heartbeat within
  ``VITGRADE_WORKER_STALE_S`` (default 30 s) and has not stopped.
Without an argument the role comes from the file the entrypoint wrote; a container that only runs
``grade`` or a one-off command has no role and counts as healthy.
"""

import os
import socket
import sys
import urllib.request
from datetime import UTC
from pathlib import Path

ROLE_FILE = Path(os.environ.get("TMPDIR", "/tmp")) / "vitgrade-role"


def serve_healthy() -> tuple[bool, str]:
    url = f"http://127.0.0.1:{os.environ.get('VITGRADE_PORT', '8000')}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status == 200, f"{url}: HTTP {answer.status}"
    except OSError as error:
        return False, f"{url}: {error}"


def worker_healthy() -> tuple[bool, str]:
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from service.config import get_settings
    from service.db import Database
    from service.models import Worker, utcnow

    settings = get_settings()
    database = Database(settings)
    prefix = f"{socket.gethostname()}:"
    try:
        with database.session() as session:
            rows = session.scalars(
                select(Worker).where(Worker.id.startswith(prefix), Worker.stopped_at.is_(None))
            ).all()
    except SQLAlchemyError as error:
        return False, f"database: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
    finally:
        database.dispose()
    if not rows:
        return False, f"no running worker row with id {prefix}*"
    last = max(row.heartbeat_at for row in rows)
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    age = (utcnow() - last).total_seconds()
    return age <= settings.worker_stale_s, f"last heartbeat {age:.1f} s ago (limit {settings.worker_stale_s:g} s)"


def main(argv: list[str]) -> int:
    role = argv[0] if argv else (ROLE_FILE.read_text().strip() if ROLE_FILE.is_file() else "")
    if role == "serve":
        healthy, reason = serve_healthy()
    elif role == "worker":
        healthy, reason = worker_healthy()
    else:
        healthy, reason = True, "no long-running role in this container"
    sys.stdout.write(f"{'healthy' if healthy else 'unhealthy'}: {reason}\n")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
