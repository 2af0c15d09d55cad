"""Alembic migrations: ``python -m service.migrate`` (also run when the app and the worker start).

Concurrent starters (an API and a worker) serialise on a lock: a file lock next to the SQLite file,
or ``pg_advisory_lock`` on PostgreSQL.
"""

import argparse
import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from service.config import Settings, get_settings
from service.db import Database

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
PG_LOCK_KEY = 0x76697467  # "vitg"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``."""
    if database.sqlite:
        db_file = Path(database.engine.url.database or "memory")
        with _file_lock(db_file.with_name(db_file.name + ".migrate.lock")), database.engine.begin() as conn:
            command.upgrade(alembic_config(conn), revision)
        return
    with database.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_LOCK_KEY})
        conn.commit()
        try:
            with conn.begin():
                command.upgrade(alembic_config(conn), revision)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
            conn.commit()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m service.migrate", description="Apply the service's migrations.")
    parser.add_argument("revision", nargs="?", default="head")
    args = parser.parse_args(argv)
    settings: Settings = get_settings()
    database = Database(settings)
    upgrade(database, args.revision)
    log.info("migrated %s to %s", database.engine.url.render_as_string(hide_password=True), args.revision)
    database.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
