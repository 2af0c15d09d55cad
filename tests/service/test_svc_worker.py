"""The worker on both backends: real grading, honest grader faults, retries, progress, graceful stop."""

import threading
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import Tokens, wait_for
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from grader.report import Environment, Report
from service.config import Settings
from service.db import Database
from service.models import Job, Result
from service.models import Worker as WorkerRow
from service.worker import Worker

ROOT = Path(__file__).resolve().parents[2]


def fake_report(score: float, *, succeeded: bool = True, message: str = "") -> Report:
    env = Environment(grader_version="t", python="3", torch="t", timm="t", device="cpu", seed=0,
                      data_profile="bundled", suite_sha256="0" * 64)  # fmt: skip
    return Report(score=score, max_score=10, gradable=True, succeeded=succeeded, duration_s=0.1, environment=env,
                  message=message)  # fmt: skip


def submit(client: TestClient, token: str, *paths: Path) -> str:
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    answer = client.post("/api/v1/submissions", files=files, headers=Tokens.header(token))
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def status(client: TestClient, token: str, sid: str) -> dict:
    return client.get(f"/api/v1/submissions/{sid}", headers=Tokens.header(token)).json()


def test_real_grader_grades_the_reference(
    client: TestClient, tokens: Tokens, database: Database, settings: Settings, reference_submission: list[Path]
) -> None:
    """The real worker logic and the real grader, on one quick check (the e2e test grades fully)."""
    pytest.importorskip("grader.api")
    if not database.sqlite:
        pytest.skip("real grading runs once in the default suite (on SQLite); the queue is tested on both")
    settings = settings.model_copy(update={"select": "q1.shape"})
    sid = submit(client, tokens.alice, reference_submission[0])
    assert Worker(settings, database).run_once() is True
    done = status(client, tokens.alice, sid)
    assert done["status"] == "done", done
    assert done["score"] == done["max_score"] > 0
    report = client.get(f"/api/v1/submissions/{sid}/report", headers=Tokens.header(tokens.alice)).json()
    assert [c["id"] for c in report["checks"]] == ["q1.shape"] and report["checks"][0]["status"] == "passed"
    assert all(c["staff_traceback"] is None for c in report["checks"])
    gradescope = client.get(f"/api/v1/submissions/{sid}/report/gradescope", headers=Tokens.header(tokens.alice))
    assert gradescope.status_code == 200 and gradescope.json()["score"] == done["score"]
    junit = client.get(f"/api/v1/submissions/{sid}/report/junit", headers=Tokens.header(tokens.alice))
    suite = ElementTree.fromstring(junit.text)
    assert junit.status_code == 200 and suite.iter("testcase").__next__().get("name", "").startswith("q1")


def test_grader_fault_is_retried_then_an_error_without_a_score(
    client: TestClient, tokens: Tokens, database: Database, settings
) -> None:  # noqa: ANN001
    sid = submit(client, tokens.alice, ROOT / "student_template" / "vit.py")
    fault = fake_report(7, succeeded=False, message="The grader failed while grading (KeyError); not your fault.")
    calls = []
    worker = Worker(settings, database, grade=lambda paths, **kw: calls.append(1) or fault)
    while worker.run_once():
        pass
    assert len(calls) == settings.max_attempts
    seen = status(client, tokens.alice, sid)
    assert seen["status"] == "error" and "grader failed" in seen["message"] and "not the student's" in seen["message"]
    assert seen.get("score") is None and not seen.get("grades"), seen
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Result)) == 0


def test_grader_exception_retries_then_errors(client: TestClient, tokens: Tokens, database: Database, settings) -> None:  # noqa: ANN001
    sid = submit(client, tokens.alice, ROOT / "student_template" / "vit.py")
    calls = []

    def broken(paths, **kwargs):  # noqa: ANN001, ANN003, ANN202
        calls.append(kwargs["device"])
        raise RuntimeError("disk full")

    worker = Worker(settings, database, grade=broken)
    while worker.run_once():
        pass
    assert len(calls) == settings.max_attempts
    seen = status(client, tokens.alice, sid)
    assert seen["status"] == "error" and "disk full" in seen["message"] and "3 times" in seen["message"]


def test_files_reach_the_grader_with_their_names(
    client: TestClient, tokens: Tokens, database: Database, settings
) -> None:  # noqa: ANN001
    template = ROOT / "student_template"
    sid = submit(client, tokens.alice, template / "vit.py", template / "answers.md")
    seen: dict = {}

    def grade(paths, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen["files"] = {Path(p).name: Path(p).read_bytes() for p in paths}
        seen.update(kwargs)
        return fake_report(4)

    Worker(settings, database, grade=grade).run_once()
    assert seen["files"] == {
        "vit.py": (template / "vit.py").read_bytes(),
        "answers.md": (template / "answers.md").read_bytes(),
    }
    assert (seen["device"], seen["data_profile"], seen["seed"]) == ("cpu", "bundled", 0)
    assert seen["settings"] is settings.grader  # the service's one settings object, its grader part
    assert status(client, tokens.alice, sid)["score"] == 4


def test_progress_shows_in_the_status_and_stop_hands_back(
    client: TestClient, tokens: Tokens, database: Database, settings: Settings
) -> None:
    sid = submit(client, tokens.alice, ROOT / "student_template" / "vit.py")
    release = threading.Event()

    def slow(paths, progress, **kwargs):  # noqa: ANN001, ANN003, ANN202
        progress("q1.shape", 1, 3, "passed")
        release.wait(20)
        return fake_report(1)

    worker = Worker(settings.model_copy(update={"shutdown_grace_s": 0.3}), database, grade=slow)
    runner = threading.Thread(target=worker.run)
    runner.start()
    running = wait_for(lambda: (s := status(client, tokens.alice, sid))["progress_done"] == 1 and s, timeout=20)
    assert (running["progress_total"], running["progress_label"]) == (3, "q1.shape passed"), running
    assert running["progress"] == "1/3 q1.shape passed"
    worker.stop.set()  # what SIGTERM does
    runner.join(20)
    release.set()
    back = status(client, tokens.alice, sid)
    assert back["status"] == "queued" and back["attempts"] == 0 and back["position"] == 1
    assert back["progress_done"] is None and back["progress"] == ""  # numbers only while running
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Result)) == 0
    # a graceful stop with enough grace finishes the job instead
    patient = Worker(
        settings.model_copy(update={"shutdown_grace_s": 20}), database, grade=lambda p, **k: fake_report(2)
    )
    runner = threading.Thread(target=patient.run)
    runner.start()
    wait_for(lambda: status(client, tokens.alice, sid)["status"] == "done", timeout=20)
    patient.stop.set()
    runner.join(20)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Result)) == 1
        assert session.scalars(select(Job)).one().attempts == 1


def test_slots_follow_devices(settings: Settings) -> None:
    assert settings.model_copy(update={"devices": "cuda:0,cuda:1"}).slot_devices == ["cuda:0", "cuda:1"]
    on_cpu = settings.grader.model_copy(update={"device": "cpu"})
    assert settings.model_copy(update={"grader": on_cpu, "worker_concurrency": 2}).slot_devices == ["cpu", "cpu"]


def test_an_auto_slot_names_the_device_it_grades_on(
    client: TestClient, tokens: Tokens, database: Database, settings: Settings
) -> None:
    """``auto`` is settled when the worker starts: the grade, the job row and the worker row name a real device."""
    import torch

    expected = "cuda" if torch.cuda.is_available() else "cpu"
    auto = settings.model_copy(update={"grader": settings.grader.model_copy(update={"device": "auto"})})
    sid = submit(client, tokens.alice, ROOT / "student_template" / "vit.py")
    seen: dict = {}
    worker = Worker(auto, database, grade=lambda paths, **kw: seen.update(kw) or fake_report(1))
    worker.beat()
    assert worker.run_once()
    with database.session() as session:
        job = session.scalars(select(Job).where(Job.submission_id == sid)).one()
        row = session.get(WorkerRow, worker.id)
    assert seen["device"] == job.device == row.devices == expected
