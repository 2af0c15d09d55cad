"""Back up or restore the service's state as one tar stream: ``backup > file.tar``, ``restore < file.tar``.

    docker compose run --rm -T api backup > vitgrade-backup.tar
    docker compose run --rm -T api restore < vitgrade-backup.tar      # stack stopped, empty volumes

The archive holds ``vitgrade.sqlite3`` (an online, consistent copy made with SQLite's backup API) and
``uploads/`` (the content-addressed submissions). With PostgreSQL only ``uploads/`` is archived; dump
the database with ``pg_dump`` (docs/instructors.md). ``restore`` refuses to overwrite an existing
database unless ``--force``.
"""

import argparse
import logging
import os
import sqlite3
import sys
import tarfile
import tempfile
from pathlib import Path

from service.config import get_settings

log = logging.getLogger("vitgrade.backup")
DB_NAME = "vitgrade.sqlite3"


def sqlite_path() -> Path | None:
    """The SQLite file of the settings, or None for another database."""
    url = get_settings().resolved_database_url
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def backup(out: tarfile.TarFile) -> None:
    database, uploads = sqlite_path(), get_settings().resolved_storage_dir
    if database is not None and database.is_file() and database.stat().st_size > 0:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / DB_NAME
            source, target = sqlite3.connect(database), sqlite3.connect(copy)
            with target:
                source.backup(target)
            source.close()
            target.close()
            out.add(copy, arcname=DB_NAME)
        log.info("database %s archived", database)
    elif database is None:
        log.warning("not SQLite: dump the database with pg_dump; only the uploads are archived")
    count = 0
    for path in sorted(uploads.rglob("*")):
        if path.is_file() and not path.name.startswith(".tmp-"):
            out.add(path, arcname=f"uploads/{path.relative_to(uploads)}", recursive=False)
            count += 1
    log.info("%d uploads archived from %s", count, uploads)


def restore(archive: tarfile.TarFile, force: bool) -> None:
    database, uploads = sqlite_path(), get_settings().resolved_storage_dir
    for member in archive:
        name = Path(member.name)
        if not member.isfile() or name.is_absolute() or ".." in name.parts:
            raise SystemExit(f"refusing archive member {member.name!r}")
        if member.name == DB_NAME:
            if database is None:
                log.warning("the archive holds a SQLite database but the service uses another one; skipped")
                continue
            if database.is_file() and database.stat().st_size > 0 and not force:
                raise SystemExit(f"{database} exists; stop the stack and pass --force to replace it")
            target = database
            for stale in (database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
                stale.unlink(missing_ok=True)
        elif name.parts[0] == "uploads" and len(name.parts) > 1:
            target = uploads.joinpath(*name.parts[1:])
        else:
            raise SystemExit(f"unexpected archive member {member.name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        source = archive.extractfile(member)
        if source is None:
            raise SystemExit(f"cannot read {member.name!r}")
        partial = target.with_name(target.name + ".restore")
        with source, partial.open("wb") as handle:
            while chunk := source.read(1 << 20):
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(target)
    log.info("restored into %s and %s", database or "(PostgreSQL: not restored)", uploads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="backup.py", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("backup", "restore"))
    parser.add_argument("--force", action="store_true", help="restore over an existing database")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    if args.action == "backup":
        if sys.stdout.isatty():
            raise SystemExit("backup writes a tar stream: redirect it to a file (docker compose run -T ... > file.tar)")
        with tarfile.open(fileobj=sys.stdout.buffer, mode="w|") as out:
            backup(out)
        return 0
    with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as archive:
        restore(archive, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
