"""End to end over HTTP with real processes (uvicorn + ``python -m service.worker``) on a loopback port.

The reference gets full marks and the template zero, graded fully; a worker killed with ``kill -9``
mid-grading leaves a job that completes exactly once after its lease expires; an API restart loses
nothing.
"""

import os
import signal
from pathlib import Path

import httpx
import pytest
from conftest import LiveService, wait_for
from sqlalchemy import func, select

from service.db import Database
from service.migrate import upgrade
from service.models import Job, Result, Role
from service.roster import issue_tokens

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def enrol(service: LiveService) -> str:
    database = Database(service.settings)
    upgrade(database)
    token = issue_tokens(database, ["alice"], Role.student)["alice"]
    database.dispose()
    return token


def submit(service: LiveService, token: str, paths: list[Path]) -> str:
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    answer = httpx.post(f"{service.url}/api/v1/submissions", files=files, headers=_auth(token), timeout=30)
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def status(service: LiveService, token: str, sid: str) -> dict:
    return httpx.get(f"{service.url}/api/v1/submissions/{sid}", headers=_auth(token), timeout=30).json()


def wait_final(service: LiveService, token: str, sid: str, timeout: float) -> dict:
    try:
        return wait_for(
            lambda: (s := status(service, token, sid))["status"] in ("done", "error") and s, timeout, interval=1
        )
    except AssertionError:
        raise AssertionError(f"not graded in {timeout} s\n{service.log_tail()}") from None


def counts(service: LiveService, sid: str) -> tuple[int, int]:
    database = Database(service.settings)
    with database.session() as session:
        results = session.scalar(select(func.count()).where(Result.submission_id == sid))
        attempts = session.scalar(select(func.max(Job.attempts)).where(Job.submission_id == sid))
    database.dispose()
    return results, attempts


def test_reference_full_marks_template_zero(
    live_service: LiveService, reference_submission: list[Path], template_submission: list[Path]
) -> None:
    token = enrol(live_service)
    live_service.start_api()
    live_service.start_worker()
    wait_for(lambda: httpx.get(live_service.url + "/readyz").status_code == 200, timeout=60)
    reference = submit(live_service, token, reference_submission)
    template = submit(live_service, token, template_submission)
    graded = wait_final(live_service, token, reference, timeout=900)
    assert graded["status"] == "done", graded
    report = httpx.get(f"{live_service.url}/api/v1/submissions/{reference}/report", headers=_auth(token)).json()
    failing = [(c["id"], c["status"], c["message"]) for c in report["checks"] if c["score"] < c["max_score"]]
    assert report["succeeded"] and report["score"] == report["max_score"] > 0, failing
    zero = wait_final(live_service, token, template, timeout=900)
    assert zero["status"] == "done" and zero["score"] == 0, zero
    report = httpx.get(f"{live_service.url}/api/v1/submissions/{template}/report", headers=_auth(token)).json()
    assert report["succeeded"] and all(c["status"] != "error" for c in report["checks"])
    metrics = httpx.get(live_service.url + "/metrics").text
    assert 'vitgrade_results_total{outcome="graded"} 2.0' in metrics


def test_kill_9_worker_mid_grading_completes_exactly_once(
    tmp_path: Path, live_database_url: str, reference_submission: list[Path]
) -> None:
    service = LiveService(tmp_path / "var", live_database_url, VITGRADE_SELECT="q1.*,q2.*", VITGRADE_LEASE_S="6")
    try:
        token = enrol(service)
        service.start_api()
        first = service.start_worker()
        sid = submit(service, token, reference_submission[:1])
        wait_for(lambda: status(service, token, sid)["status"] == "running", timeout=120, interval=0.2)
        service.kill(first, signal.SIGKILL)
        assert status(service, token, sid)["status"] == "running"  # the lease still holds it
        service.start_worker()
        final = wait_final(service, token, sid, timeout=600)
        assert final["status"] == "done" and final["score"] == final["max_score"] > 0, final
        assert counts(service, sid) == (1, 2)  # one result, from the second attempt
        assert len(final["grades"]) == 1
    finally:
        service.stop()


def test_api_restart_loses_nothing(tmp_path: Path, live_database_url: str, reference_submission: list[Path]) -> None:
    service = LiveService(tmp_path / "var", live_database_url, VITGRADE_SELECT="q1.shape")
    try:
        token = enrol(service)
        service.start_api()
        sid = submit(service, token, reference_submission[:1])
        service.kill(service.api)  # kill -9 right after the 202
        service.start_api()
        assert status(service, token, sid)["status"] == "queued"
        service.start_worker()
        final = wait_final(service, token, sid, timeout=600)
        assert final["status"] == "done" and counts(service, sid)[0] == 1
        os.kill(service.workers[0].pid, signal.SIGTERM)  # graceful stop: exits by itself
        assert service.workers[0].wait(60) == 0
    finally:
        service.stop()


def test_demo_prints_url_and_working_tokens(tmp_path: Path) -> None:
    """``python -m service.demo``: API + worker up, the printed tokens work, SIGTERM stops everything."""
    import re
    import subprocess
    import sys

    from conftest import free_port

    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "service.demo", "--port", str(port), "--var-dir", str(tmp_path / "var")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    try:
        lines: list[str] = []
        while not any("instructor token" in line for line in lines):
            line = demo.stdout.readline()
            assert line, "demo exited before printing its tokens"
            lines.append(line)
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in text
        student = re.search(r"student token:\s+(\S+)", text).group(1)
        teacher = re.search(r"instructor token:\s+(\S+)", text).group(1)
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/api/v1/me", headers=_auth(student)).json() == {"name": "demo", "role": "student"}
        assert httpx.get(f"{url}/api/v1/instructor/stats", headers=_auth(teacher)).status_code == 200
        wait_for(lambda: httpx.get(url + "/readyz").status_code == 200, timeout=60)
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(60) == 0
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
