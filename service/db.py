"""Database engines and sessions: SQLite in WAL mode (the embedded default) or PostgreSQL (psycopg 3).

On SQLite every transaction is opened explicitly: ``BEGIN`` for reads and ``BEGIN IMMEDIATE`` for
writes (``write_session``), so that a writer takes the write lock up front and waits ``busy_timeout``
for it instead of failing on a lock upgrade.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from service.config import Settings

IMMEDIATE = "sqlite_immediate"


def make_engine(settings: Settings) -> Engine:
    """An engine for ``settings.resolved_database_url`` with the pragmas the service relies on."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000})
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    # jit off: PostgreSQL compiles a query costed above ``jit_above_cost`` to machine code first, which took
    # 0.9 s of the gradebook's 1.4 s statement at 20,000 submissions (benchmarks/scale_postgres.py); the
    # service's statements are short reads and writes that never repay it
    options = {"connect_timeout": 3, "options": "-c jit=off"}
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=options)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see the "begin" hook)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=FULL")  # a committed row survives a power cut, not just a crash
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn) -> None:  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(IMMEDIATE) else "BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class Database:
    """The engine and the two kinds of session the service uses."""

    def __init__(self, settings: Settings, engine: Engine | None = None):
        self.settings = settings
        self.engine = engine or make_engine(settings)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_engine = self.engine.execution_options(**{IMMEDIATE: True}) if is_sqlite(self.engine) else None
        self._write_sessions = sessionmaker(self._write_engine or self.engine, expire_on_commit=False)

    @property
    def sqlite(self) -> bool:
        return is_sqlite(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session (rolled back at the end unless the caller commits)."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite), committed when the block ends without error."""
        with self._write_sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
