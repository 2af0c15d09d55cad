"""Service fixtures: the same tests run on SQLite (a real file, WAL) and on PostgreSQL (a throwaway server).

The PostgreSQL server is started by the tests themselves (``initdb`` + ``pg_ctl`` into a temporary
directory, as the ``postgres`` user when run as root); its params are skipped, with the reason, when
the binaries are missing.
"""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.db import Database
from service.migrate import upgrade
from service.models import Role
from service.roster import issue_tokens


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL cluster on a loopback port; ``stop``/``start`` for outage tests."""

    bin_dir: Path
    data_dir: Path
    port: int

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    def init(self) -> None:
        result = self._run("initdb", "-D", str(self.data_dir / "db"), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed: {result.stderr[-2000:]}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        result = self._run(
            "pg_ctl", "-D", str(self.data_dir / "db"), "-o", options, "-l", str(self.data_dir / "log"), "-w", "start"
        )
        if result.returncode != 0:
            log = (self.data_dir / "log").read_text() if (self.data_dir / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {result.stderr[-1000:]} {log[-2000:]}")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data_dir / "db"), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_postgres() -> PostgresServer:
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries not found (apt-get install -y postgresql); postgresql params skipped")
    data_dir = Path(tempfile.mkdtemp(prefix="vitgrade-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data_dir, "postgres", "postgres")
    server = PostgresServer(bin_dir, data_dir, free_port())
    server.init()
    server.start()
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.stop("immediate")
    shutil.rmtree(server.data_dir, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vitgrade.sqlite3'}"
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        grader={"device": "cpu"},  # the worker's slots; the default, auto, would take a GPU where there is one
        var_dir=tmp_path / "var",
        database_url=database_url,
        rate_limit_count=1000,
        lease_s=30,
        heartbeat_s=0.5,
        poll_s=0.1,
        max_attempts=3,
        sqlite_busy_timeout_ms=2000,
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = Database(settings)
    upgrade(db)
    yield db
    db.dispose()


@dataclass
class Tokens:
    alice: str
    bob: str
    instructor: str

    @staticmethod
    def header(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(database: Database) -> Tokens:
    students = issue_tokens(database, ["alice", "bob"], Role.student)
    teacher = issue_tokens(database, ["prof"], Role.instructor)
    return Tokens(students["alice"], students["bob"], teacher["prof"])


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):  # noqa: ANN001, ANN201
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


class LiveService:
    """uvicorn and workers as real processes (each in its own process group) on a free loopback port."""

    def __init__(self, var_dir: Path, database_url: str = "", **env: str):
        self.var_dir = var_dir
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "VITGRADE_VAR_DIR": str(var_dir),
            "VITGRADE_DATABASE_URL": database_url,
            "VITGRADE_LEASE_S": "10",
            "VITGRADE_HEARTBEAT_S": "1",
            "VITGRADE_POLL_S": "0.2",
            "VITGRADE_RATE_LIMIT_COUNT": "1000",
            **env,
        }
        self.api: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.logs = var_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        return subprocess.Popen(
            [sys.executable, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_api(self, timeout: float = 60) -> None:
        self.api = self._spawn(
            "api", "-m", "uvicorn", "service.app:app", "--host", "127.0.0.1", "--port", str(self.port),
            "--no-access-log", "--timeout-keep-alive", "5", "--http", "service.http:HeaderCappedProtocol",
        )  # fmt: skip
        import httpx

        def healthy() -> bool:
            try:
                return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=timeout, interval=0.2)

    def start_worker(self) -> subprocess.Popen:
        worker = self._spawn(f"worker{len(self.workers)}", "-m", "service.worker")
        self.workers.append(worker)
        return worker

    @staticmethod
    def kill(process: subprocess.Popen | None, sig: int = 9) -> None:
        """``kill -9`` the process, then its group (the grader's sandbox children)."""
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, sig)
        process.wait(30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)

    def stop(self) -> None:
        for process in [*self.workers, self.api]:
            self.kill(process)

    @property
    def settings(self) -> Settings:
        return Settings(var_dir=self.var_dir, database_url=self.database_url)

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.logs.glob("*.log")))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def live_database_url(request: pytest.FixtureRequest) -> str:
    """'' (SQLite under the service's var dir) or a fresh PostgreSQL database."""
    return "" if request.param == "sqlite" else request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
def live_service(tmp_path: Path, live_database_url: str) -> Iterator[LiveService]:
    service = LiveService(tmp_path / "var", live_database_url)
    yield service
    service.stop()
