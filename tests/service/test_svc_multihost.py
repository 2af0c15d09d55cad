"""Workers on other hosts: an API and three workers that share nothing but one PostgreSQL (each its own var
and cache folders, as on three machines); one worker is killed mid-job and every submission is still graded
exactly once, from uploads the workers read out of the database."""

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import LiveService, wait_for
from sqlalchemy import func, select
from test_svc_e2e import enrol, status, submit

from service.db import Database
from service.models import Blob, Job, Result

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def start_remote_worker(service: LiveService, host: Path) -> subprocess.Popen:
    """A worker as if on another machine: its own var dir, cache and home; only the database URL is shared."""
    host.mkdir(parents=True)
    env = {
        **service.env,
        "VITGRADE_VAR_DIR": str(host / "var"),
        "VITGRADE_CACHE_DIR": str(host / "cache"),
        "HOME": str(host),
    }
    log = open(host / "worker.log", "ab")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        [sys.executable, "-m", "service.worker"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def test_three_hosts_one_database_every_submission_graded_once(
    tmp_path: Path,
    postgres_server,
    reference_submission: list[Path],  # noqa: ANN001
) -> None:
    url = postgres_server.create_database()
    service = LiveService(tmp_path / "api-host", url, VITGRADE_SELECT="q1.*,q2.*", VITGRADE_LEASE_S="6")
    workers: list[subprocess.Popen] = []
    try:
        token = enrol(service)
        service.start_api()
        sids = [submit(service, token, reference_submission[:1]) for _ in range(6)]
        workers = [start_remote_worker(service, tmp_path / f"host{i}") for i in range(3)]
        database = Database(service.settings)
        with database.session() as session:
            assert session.scalar(select(func.count()).select_from(Blob)) >= 1  # the upload is in PostgreSQL
        victim_job = wait_for(lambda: _running_job(database), timeout=180, interval=0.2)
        victim = next(w for w in workers if f":{w.pid}:" in victim_job.worker_id)
        service.kill(victim, signal.SIGKILL)
        for sid in sids:
            wait_for(lambda s=sid: status(service, token, s)["status"] in ("done", "error"), timeout=600, interval=1)
        with database.session() as session:
            for sid in sids:
                assert session.scalar(select(func.count()).where(Result.submission_id == sid)) == 1, sid
                assert status(service, token, sid)["status"] == "done"
            retried = session.get(Job, victim_job.id)
            assert retried.attempts == 2 and retried.worker_id != victim_job.worker_id
        database.dispose()
        report = httpx.get(
            f"{service.url}/api/v1/submissions/{sids[0]}/report", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert report["score"] == report["max_score"] > 0
        assert not any((tmp_path / "api-host" / "var" / "uploads").glob("*/*/*"))  # nothing on the API's disk
    finally:
        for worker in workers:
            LiveService.kill(worker)
        service.stop()


def _running_job(database: Database) -> Job | None:
    with database.session() as session:
        job = session.scalars(select(Job).where(Job.status == "running", Job.worker_id.is_not(None))).first()
        if job is not None:
            session.expunge(job)
        return job
