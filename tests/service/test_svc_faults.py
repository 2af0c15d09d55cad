"""Database faults: SQLite held under an exclusive lock, PostgreSQL stopped -> a clear 503, then recovery."""

import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import Tokens, start_postgres
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.db import Database
from service.migrate import upgrade
from service.models import Role
from service.roster import issue_tokens

FILES = [("files", ("vit.py", b"import torch\n", "text/plain"))]


def test_sqlite_locked_is_503_then_recovers(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", sqlite_busy_timeout_ms=300, rate_limit_count=100)
    database = Database(settings)
    upgrade(database)
    token = issue_tokens(database, ["alice"], Role.student)["alice"]
    with TestClient(create_app(settings)) as client:
        first = client.post("/api/v1/submissions", files=FILES, headers=Tokens.header(token))
        assert first.status_code == 202
        holder = sqlite3.connect(settings.resolved_database_url.split("///", 1)[1], isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            locked = client.post("/api/v1/submissions", files=FILES, headers=Tokens.header(token))
            assert locked.status_code == 503 and "unavailable or busy" in locked.json()["detail"]
            assert locked.headers["retry-after"] == "5"
            # WAL: readers are not blocked by the writer
            status = client.get(first.json()["links"]["self"], headers=Tokens.header(token))
            assert status.status_code == 200
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        again = client.post("/api/v1/submissions", files=FILES, headers=Tokens.header(token))
        assert again.status_code == 202
        assert len(client.get("/api/v1/submissions", headers=Tokens.header(token)).json()) == 2
    database.dispose()


@pytest.mark.postgres
def test_postgres_down_is_503_then_recovers(tmp_path: Path) -> None:
    server = start_postgres()  # its own server: stopping it must not disturb the other tests
    try:
        settings = Settings(var_dir=tmp_path / "var", database_url=server.create_database(), rate_limit_count=100)
        database = Database(settings)
        upgrade(database)
        token = issue_tokens(database, ["alice"], Role.student)["alice"]
        database.dispose()
        with TestClient(create_app(settings)) as client:
            created = client.post("/api/v1/submissions", files=FILES, headers=Tokens.header(token))
            assert created.status_code == 202
            server.stop()
            down = client.get(created.json()["links"]["self"], headers=Tokens.header(token))
            assert down.status_code == 503 and "unavailable" in down.json()["detail"]
            ready = client.get("/readyz")
            assert ready.status_code == 503 and "database unreachable" in ready.json()["reason"]
            server.start()
            back = client.get(created.json()["links"]["self"], headers=Tokens.header(token))
            assert back.status_code == 200 and back.json()["status"] == "queued"
            assert client.post("/api/v1/submissions", files=FILES, headers=Tokens.header(token)).status_code == 202
    finally:
        server.stop("immediate")
        shutil.rmtree(server.data_dir, ignore_errors=True)


def test_worker_result_waits_out_a_locked_database(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The grade is done but the database is locked for a moment: the worker retries and records it once."""
    import threading
    import time

    from sqlalchemy import func, select

    from grader.report import Environment, Report
    from service import queue
    from service.models import Result, Submission, User
    from service.worker import Worker

    settings = Settings(var_dir=tmp_path / "var", sqlite_busy_timeout_ms=200, lease_s=30)
    database = Database(settings)
    upgrade(database)
    with database.write_session() as session:
        user = User(name="alice", token_hash="h")
        session.add(user)
        session.flush()
        submission = Submission(user_id=user.id, files=[])
        session.add(submission)
        session.flush()
        queue.enqueue(session, submission)
    path = settings.resolved_database_url.split("///", 1)[1]

    def hold_lock(seconds: float) -> None:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        holder.execute("ROLLBACK")
        holder.close()

    def grade(paths, **kwargs):  # noqa: ANN001, ANN003, ANN202
        locker = threading.Thread(target=hold_lock, args=(1.5,))
        locker.start()
        time.sleep(0.2)  # the lock is held when the worker writes the result
        env = Environment(grader_version="t", python="3", torch="t", timm="t", device="cpu", seed=0,
                          data_profile="bundled", suite_sha256="0" * 64)  # fmt: skip
        return Report(score=1, max_score=1, gradable=True, succeeded=True, duration_s=0.1, environment=env)

    assert Worker(settings, database, grade=grade).run_once()
    assert "retrying the result" in caplog.text  # the lock was really in the way
    with database.session() as session:
        assert session.get(Submission, submission.id).status == "done"
        assert session.scalar(select(func.count()).select_from(Result)) == 1
    database.dispose()
