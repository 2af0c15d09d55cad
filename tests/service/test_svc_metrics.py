"""/metrics on both backends: standard exposition (parsed back by prometheus_client), figures computed in SQL."""

from collections import Counter

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from test_svc_worker import fake_report

from service import queue
from service.db import Database
from service.metrics import render
from service.models import Job, Result, Role, Status, Submission, User


def seed(database: Database) -> None:
    with database.write_session() as session:
        user = User(name="alice", role=Role.student, token_hash="x" * 64)
        session.add(user)
        session.flush()
        for index, (duration, attempts, succeeded) in enumerate([(0.5, 1, True), (7.0, 2, True), (700.0, 3, False)]):
            submission = Submission(user_id=user.id)
            session.add(submission)
            session.flush()
            job = Job(submission_id=submission.id, status=Status.done, attempts=attempts)
            session.add(job)
            session.flush()
            queue.sync_status(session, submission.id)
            session.add(
                Result(
                    job_id=job.id,
                    submission_id=submission.id,
                    user_id=user.id,
                    score=float(index),
                    max_score=100.0,
                    succeeded=succeeded,
                    gradable=True,
                    duration_s=duration,
                    report=fake_report(float(index), succeeded=succeeded),
                )
            )
        queued = Submission(user_id=user.id)
        session.add(queued)
        session.flush()
        session.add(Job(submission_id=queued.id))


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_histograms_and_counts_come_from_sql(database: Database) -> None:
    seed(database)
    with database.session() as session:
        values = samples(render(session, Counter({200: 5, 404: 1}), worker_stale_s=30))
    assert values[("vitgrade_queue_depth", ())] == 1
    assert values[("vitgrade_jobs", (("status", "done"),))] == 3
    assert values[("vitgrade_results_total", (("outcome", "graded"),))] == 2
    assert values[("vitgrade_results_total", (("outcome", "grader_fault"),))] == 1
    duration = "vitgrade_grading_duration_seconds"
    assert values[(f"{duration}_bucket", (("le", "1.0"),))] == 1
    assert values[(f"{duration}_bucket", (("le", "10.0"),))] == 2
    assert values[(f"{duration}_bucket", (("le", "600.0"),))] == 2
    assert values[(f"{duration}_bucket", (("le", "+Inf"),))] == 3
    assert values[(f"{duration}_sum", ())] == 707.5
    assert values[("vitgrade_job_attempts_bucket", (("le", "2.0"),))] == 2
    assert values[("vitgrade_http_requests_total", (("code", "404"),))] == 1


def test_metrics_route_serves_the_exposition(client: TestClient) -> None:
    client.get("/healthz")
    text = client.get("/metrics").text
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {"vitgrade_queue_depth", "vitgrade_results", "vitgrade_grading_duration_seconds"} <= names
