"""``python -m service.demo``: the API (uvicorn) and one worker on the embedded defaults, ready to try.

SQLite in WAL mode under ``./var`` (``VITGRADE_VAR_DIR``), the bundled MNIST subset, a demo roster
(student ``demo``, instructor ``instructor``) whose tokens are issued afresh and printed at each start.
Ctrl-C (or SIGTERM) stops both processes; the worker finishes or hands back its job.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from service.config import Settings
from service.db import Database
from service.migrate import upgrade
from service.models import Role
from service.roster import issue_tokens


def wait_ready(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def main(argv: list[str] | None = None) -> int:
    defaults = Settings()
    parser = argparse.ArgumentParser(prog="python -m service.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=defaults.port, help="default: $VITGRADE_PORT or 8000")
    parser.add_argument("--var-dir", type=Path, default=defaults.var_dir, help="default: $VITGRADE_VAR_DIR or var")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (0 = API only)")
    args = parser.parse_args(argv)

    env = {**os.environ, "VITGRADE_VAR_DIR": str(args.var_dir.resolve())}
    settings = defaults.model_copy(update={"var_dir": args.var_dir.resolve()})
    database = Database(settings)
    upgrade(database)
    student = issue_tokens(database, ["demo"], Role.student)["demo"]
    instructor = issue_tokens(database, ["instructor"], Role.instructor)["instructor"]
    database.dispose()

    url = f"http://{args.host}:{args.port}"
    api = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "service.app:app", "--host", args.host, "--port", str(args.port),
         "--no-access-log", "--timeout-keep-alive", "5", "--limit-concurrency", "200",
         "--http", "service.http:HeaderCappedProtocol"],
        env=env,
    )  # fmt: skip
    workers = [subprocess.Popen([sys.executable, "-m", "service.worker"], env=env) for _ in range(args.workers)]
    children = [api, *workers]

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if not wait_ready(url, 60):
        stop()
        sys.stderr.write(f"The API did not come up on {url}.\n")
        return 1
    sys.stdout.write(
        f"\nvitgrade is running: {url}/  (API docs: {url}/docs)\n"
        f"  database:           {settings.resolved_database_url}\n"
        f"  student token:      {student}   (student 'demo')\n"
        f"  instructor token:   {instructor}   (instructor 'instructor')\n"
        f"  try: curl -H 'Authorization: Bearer {student}' -F files=@vit.py -F files=@answers.md "
        f"{url}/api/v1/submissions\n"
        "Press Ctrl-C to stop.\n\n"
    )
    sys.stdout.flush()
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop()
    for child in children:
        try:
            child.wait(timeout=settings.shutdown_grace_s + 5)
        except subprocess.TimeoutExpired:
            child.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
