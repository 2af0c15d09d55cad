"""Ops on both backends: /healthz, /readyz (database + worker heartbeat), /metrics, and the migrations."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import inspect, update

from service.db import Database
from service.migrate import upgrade
from service.models import Worker, utcnow
from service.worker import Worker as GradingWorker


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_wants_a_recent_worker_heartbeat(client: TestClient, database: Database, settings) -> None:  # noqa: ANN001
    waiting = client.get("/readyz")
    assert waiting.status_code == 503 and "no worker" in waiting.json()["reason"]
    worker = GradingWorker(settings, database, grade=lambda *a, **k: None)
    worker.beat()
    assert client.get("/readyz").status_code == 200
    with database.write_session() as session:
        session.execute(update(Worker).values(heartbeat_at=utcnow() - timedelta(minutes=10)))
    stale = client.get("/readyz")
    assert stale.status_code == 503 and "heartbeat" in stale.json()["reason"]


def test_metrics_exposition(client: TestClient) -> None:
    client.get("/healthz")
    body = client.get("/metrics")
    assert body.status_code == 200 and body.headers["content-type"].startswith("text/plain")
    text = body.text
    for series in (
        "vitgrade_queue_depth 0",
        "# TYPE vitgrade_grading_duration_seconds histogram",
        'vitgrade_grading_duration_seconds_bucket{le="+Inf"} 0',
        'vitgrade_results_total{outcome="grader_fault"} 0',
        "vitgrade_job_attempts_count 0",
        'vitgrade_http_requests_total{code="200"}',
    ):
        assert series in text, series


def test_migrations_are_idempotent_and_complete(database: Database) -> None:
    upgrade(database)  # second run: nothing to do
    tables = set(inspect(database.engine).get_table_names())
    assert {"users", "submissions", "jobs", "results", "workers", "alembic_version"} <= tables


def test_sqlite_runs_in_wal_mode(database: Database) -> None:
    if not database.sqlite:
        return
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2000


def test_migrations_match_the_models(database: Database) -> None:
    """Alembic's autogenerate finds nothing to add: the migration creates exactly the models' schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from service.models import Base

    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
