"""Instructor routes on both backends: filters, history, grades.csv, stats, regrades that keep history."""

import csv
import io

from conftest import Tokens
from fastapi.testclient import TestClient
from test_svc_worker import fake_report

from grader.report import Report
from service import queue
from service.db import Database
from service.models import Submission


def report(q1: float, q2: float, succeeded: bool = True) -> dict:
    """A valid report (the grader's model, as a worker stores it) with two questions and no checks."""
    questions = [{"id": "Q1", "score": q1, "max_score": 5.0}, {"id": "Q2", "score": q2, "max_score": 5.0}]
    base = fake_report(q1 + q2, succeeded=succeeded).model_dump(mode="json")
    return Report.model_validate({**base, "duration_s": 1.5, "questions": questions}).model_dump(mode="json")


def submit(client: TestClient, token: str) -> str:
    answer = client.post(
        "/api/v1/submissions",
        files=[("files", ("vit.py", b"import torch\n", "text/plain"))],
        headers=Tokens.header(token),
    )
    assert answer.status_code == 202
    return answer.json()["id"]


def grade_next(database: Database, payload: dict) -> None:
    """What a worker does once grading is over: claim the next job and record its report."""
    claim = queue.claim(database, "test-worker", "cpu", lease_s=30)
    with database.session() as session:
        user_id = session.get(Submission, claim.submission_id).user_id
    assert queue.complete(database, claim, payload, user_id)


def test_grades_csv_counts_and_stats(client: TestClient, tokens: Tokens, database: Database) -> None:
    submit(client, tokens.alice)
    grade_next(database, report(5, 1))
    submit(client, tokens.alice)
    grade_next(database, report(2, 4))
    submit(client, tokens.bob)
    grade_next(database, report(3, 3))
    teacher = Tokens.header(tokens.instructor)
    text = client.get("/api/v1/instructor/grades.csv", headers=teacher)
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(text.text))}
    assert rows["alice"]["final_score"] == "6" and rows["alice"]["counts"] == "latest"
    assert (rows["alice"]["Q1"], rows["alice"]["Q2"], rows["alice"]["credit_percent"]) == ("2", "4", "100")
    assert rows["bob"]["Q2"] == "3"
    best = client.put("/api/v1/instructor/policy", json={"counts": "best_per_question"}, headers=teacher)
    assert best.status_code == 200
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(client.get(text.url, headers=teacher).text))}
    assert (rows["alice"]["Q1"], rows["alice"]["Q2"], rows["alice"]["final_score"]) == ("5", "4", "9")
    client.put("/api/v1/instructor/policy", json={"counts": "latest"}, headers=teacher)
    stats = client.get("/api/v1/instructor/stats", headers=teacher).json()
    q1 = next(q for q in stats["questions"] if q["question"] == "Q1")
    assert (q1["count"], q1["mean"], q1["median"], q1["max"]) == (2, 2.5, 2.5, 3.0)
    assert stats["total"]["mean"] == 6.0 and stats["students"] == 2


def test_filters_and_history(client: TestClient, tokens: Tokens, database: Database) -> None:
    a1 = submit(client, tokens.alice)
    grade_next(database, report(1, 1))
    a2 = submit(client, tokens.alice)
    b1 = submit(client, tokens.bob)
    teacher = Tokens.header(tokens.instructor)
    by_alice = client.get("/api/v1/instructor/submissions", params={"student": "alice"}, headers=teacher).json()
    assert [s["id"] for s in by_alice] == [a2, a1]
    done = client.get("/api/v1/instructor/submissions", params={"status": "done"}, headers=teacher).json()
    assert [s["id"] for s in done] == [a1]
    since = by_alice[0]["created_at"]
    recent = client.get("/api/v1/instructor/submissions", params={"since": since}, headers=teacher).json()
    assert {s["id"] for s in recent} == {a2, b1}
    history = client.get("/api/v1/instructor/students/alice/submissions", headers=teacher).json()
    assert [s["id"] for s in history] == [a2, a1] and history[1]["grades"][0]["score"] == 2
    assert client.get("/api/v1/instructor/students/nobody/submissions", headers=teacher).status_code == 404
    # an instructor reads any submission through the student routes too
    assert client.get(f"/api/v1/submissions/{b1}", headers=teacher).json()["student"] == "bob"


def test_regrade_keeps_history(client: TestClient, tokens: Tokens, database: Database) -> None:
    sid = submit(client, tokens.alice)
    teacher = Tokens.header(tokens.instructor)
    busy = client.post(f"/api/v1/instructor/submissions/{sid}/regrade", headers=teacher)
    assert busy.status_code == 409  # the first grading is still queued
    grade_next(database, report(1, 1))
    again = client.post(f"/api/v1/instructor/submissions/{sid}/regrade", headers=teacher)
    assert again.status_code == 202 and again.json()["status"] == "queued"
    assert client.get(f"/api/v1/submissions/{sid}", headers=Tokens.header(tokens.alice)).json()["status"] == "queued"
    grade_next(database, report(5, 5))
    status = client.get(f"/api/v1/submissions/{sid}", headers=Tokens.header(tokens.alice)).json()
    assert [g["kind"] for g in status["grades"]] == ["grade", "regrade"]
    assert status["score"] == 10 and status["status"] == "done"
    assert client.post("/api/v1/instructor/submissions/nope/regrade", headers=teacher).status_code == 404


def test_regrade_all(client: TestClient, tokens: Tokens, database: Database) -> None:
    submit(client, tokens.alice)
    grade_next(database, report(1, 1))
    submit(client, tokens.bob)  # still queued: skipped
    answer = client.post("/api/v1/instructor/regrade-all", headers=Tokens.header(tokens.instructor))
    assert answer.status_code == 202 and answer.json() == {"queued": 1, "skipped": 1}


def test_full_report_for_staff_only(client: TestClient, tokens: Tokens, database: Database) -> None:
    sid = submit(client, tokens.alice)
    grade_next(database, report(1, 1))
    full = client.get(f"/api/v1/instructor/submissions/{sid}/report", headers=Tokens.header(tokens.instructor))
    assert full.status_code == 200 and full.json()["score"] == 2


def test_list_views_take_the_same_queries_for_one_row_or_many(client: TestClient, tokens: Tokens) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001, ANN002
        statements.append(statement)

    def queries(path: str, token: str) -> int:
        statements.clear()
        event.listen(Engine, "before_cursor_execute", count)
        try:
            assert client.get(path, headers=Tokens.header(token)).status_code == 200
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        return len(statements)

    submit(client, tokens.alice)
    queries("/api/v1/instructor/submissions", tokens.instructor), queries("/api/v1/submissions", tokens.alice)  # tokens
    one = queries("/api/v1/instructor/submissions", tokens.instructor), queries("/api/v1/submissions", tokens.alice)
    for _ in range(5):
        submit(client, tokens.alice)
    many = queries("/api/v1/instructor/submissions", tokens.instructor), queries("/api/v1/submissions", tokens.alice)
    assert many == one, (one, many)
