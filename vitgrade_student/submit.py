"""Submit from where you work: ``submit()`` in a notebook, ``vitgrade-submit`` in a terminal.

The notebook's code cells become ``vit.py`` and its ``## Q..`` markdown ``answers.md`` (the grader's
rules, see ``export``), written next to the notebook in ``vitgrade_submission/`` so you see what was
sent; then the files are uploaded, the queue position and progress are followed, and the report is
returned (rendered in Jupyter). The token comes from the ``token`` argument, ``$VITGRADE_TOKEN`` or
``~/.vitgrade/token``; never write it in the notebook.
"""

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vitgrade_student.client import Client, SubmitError
from vitgrade_student.export import write_submission
from vitgrade_student.report import SubmissionReport

TOKEN_FILE = Path("~/.vitgrade/token")
URL_FILE = Path("~/.vitgrade/url")


def _from_env_or_file(value: str | None, variable: str, path: Path, what: str) -> str:
    if value:
        return value.strip()
    if os.environ.get(variable):
        return os.environ[variable].strip()
    file = Path(os.environ.get(f"{variable}_FILE", path)).expanduser()
    if file.is_file():
        return file.read_text(encoding="utf-8").strip()
    raise SubmitError(f"No {what}: pass it, set ${variable}, or write it in {file} (never in the notebook).")


def find_notebook(directory: Path | None = None) -> Path:
    """The notebook this kernel runs (Jupyter's ``JPY_SESSION_NAME``, VS Code's ``__vsc_ipynb_file__``), else the
    only ``.ipynb`` in the working directory."""
    main = vars(sys.modules["__main__"])
    for session in (os.environ.get("JPY_SESSION_NAME", ""), str(main.get("__vsc_ipynb_file__", ""))):
        if session.endswith(".ipynb") and Path(session).is_file():
            return Path(session)
    found = sorted((directory or Path.cwd()).glob("*.ipynb"))
    if len(found) == 1:
        return found[0]
    raise SubmitError(
        f"Say which notebook to submit: submit(notebook='vit_lab.ipynb') (found {[p.name for p in found]})."
    )


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def submit(
    token: str | None = None,
    url: str | None = None,
    notebook: str | Path | None = None,
    files: list[str | Path] | None = None,
    *,
    wait: bool = True,
    poll_s: float = 2.0,
    timeout_s: float = 3600.0,
    progress: Callable[[str], None] = _say,
) -> SubmissionReport | dict[str, Any]:
    """Upload the saved notebook (or ``files``), follow it, and return the report (``wait=False``: the 202 answer)."""
    client = Client(
        _from_env_or_file(url, "VITGRADE_URL", URL_FILE, "service address"),
        _from_env_or_file(token, "VITGRADE_TOKEN", TOKEN_FILE, "token"),
    )
    if files:
        paths = [Path(f) for f in files]
    else:
        source = Path(notebook) if notebook else find_notebook()
        paths = write_submission(source, source.parent / "vitgrade_submission")
        progress(f"exported {source.name} -> {', '.join(str(p) for p in paths)} (save the notebook first)")
    accepted = client.upload(paths)
    submission_id = accepted["id"]
    progress(f"submitted {submission_id}: queued at position {accepted.get('position')}")
    if not wait:
        return accepted
    deadline, last = time.monotonic() + timeout_s, ""
    while True:
        status = client.status(submission_id)
        line = _status_line(status)
        if line != last:
            progress(line)
            last = line
        if status.get("status") in ("done", "error"):
            break
        if time.monotonic() > deadline:
            raise SubmitError(f"{submission_id} is still {status.get('status')} after {timeout_s:g} s; check later.")
        time.sleep(poll_s)
    if status["status"] == "error":
        raise SubmitError(f"grading {submission_id} failed: {status.get('message') or 'see the page'}")
    return SubmissionReport(submission_id, client.report(submission_id))


def _status_line(status: dict[str, Any]) -> str:
    state = status.get("status", "?")
    if state == "queued":
        return f"queued, position {status.get('position')}"
    if state == "running":
        progress = status.get("progress") or {}
        return f"running: {progress}" if progress else "running"
    return state


def main(argv: list[str] | None = None) -> int:
    """``vitgrade-submit [NOTEBOOK | FILE ...] [--url URL] [--token TOKEN] [--no-wait]``."""
    parser = argparse.ArgumentParser(prog="vitgrade-submit", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="a notebook (exported to vit.py + answers.md), or the files to send")
    parser.add_argument("--url", help="the service's address (default $VITGRADE_URL or ~/.vitgrade/url)")
    parser.add_argument("--token", help="your token (default $VITGRADE_TOKEN or ~/.vitgrade/token)")
    parser.add_argument("--no-wait", action="store_true", help="upload and return without waiting for the report")
    args = parser.parse_args(argv)
    notebook = args.paths[0] if len(args.paths) == 1 and args.paths[0].endswith(".ipynb") else None
    files = None if notebook or not args.paths else args.paths
    try:
        result = submit(args.token, args.url, notebook=notebook, files=files, wait=not args.no_wait)
    except SubmitError as error:
        _say(f"vitgrade-submit: {error}")
        return 1
    sys.stdout.write(f"{result}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
