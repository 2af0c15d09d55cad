"""TA overrides on both backends: effective scores in grades, history kept, bad input changes nothing,
overrides survive regrade-all and are marked stale when the automatic score under them changes."""

import csv
import io

from conftest import Tokens
from fastapi.testclient import TestClient
from test_svc_instructor import grade_next, submit
from test_svc_worker import fake_report

from grader.report import Report
from service.db import Database


def report(q1_shape: float, q2_eq: float) -> Report:
    """A complete report (the grader's model, as a worker stores it) with two checks."""
    checks = [
        {"id": "q1.shape", "question": "Q1", "category": "shape", "score": q1_shape, "max_score": 5.0,
         "status": "failed"},
        {"id": "q2.equivalence", "question": "Q2", "category": "equivalence", "score": q2_eq, "max_score": 5.0,
         "status": "passed"},
    ]  # fmt: skip
    questions = [{"id": "Q1", "score": q1_shape, "max_score": 5.0}, {"id": "Q2", "score": q2_eq, "max_score": 5.0}]
    base = fake_report(q1_shape + q2_eq).model_dump(mode="json")
    return Report.model_validate({**base, "questions": questions, "checks": checks})


def final_of(client: TestClient, tokens: Tokens, student: str = "alice") -> dict:
    text = client.get("/api/v1/instructor/grades.csv", headers=Tokens.header(tokens.instructor)).text
    return {r["student"]: r for r in csv.DictReader(io.StringIO(text))}[student]


def test_override_history_effective_scores_and_stale_after_regrade_all(
    client: TestClient, tokens: Tokens, database: Database
) -> None:
    teacher = Tokens.header(tokens.instructor)
    sid = submit(client, tokens.alice)
    url = f"/api/v1/instructor/submissions/{sid}/overrides"
    assert client.get(url, headers=teacher).status_code == 409  # nothing graded yet
    grade_next(database, report(1, 5))
    assert final_of(client, tokens)["final_score"] == "6"

    for bad, status in (
        ({"check_id": "q1.shape", "score": 99, "reason": "typo"}, 422),
        ({"check_id": "q1.shape", "score": -1, "reason": "typo"}, 422),
        ({"check_id": "q1.shape", "score": 4, "reason": ""}, 422),
        ({"check_id": "q9.nothing", "score": 1, "reason": "x"}, 404),
        ({"check_id": "q1.shape", "reason": "no score"}, 422),
    ):
        answer = client.post(url, json=bad, headers=teacher)
        assert answer.status_code == status and answer.json()["detail"], (bad, answer.text)
    assert client.get(url, headers=teacher).json()["history"] == []  # bad input changed nothing

    made = client.post(
        url, json={"check_id": "q1.shape", "score": 4, "reason": "shape right, reshape order", "feedback": "ok"},
        headers=teacher,
    )  # fmt: skip
    assert made.status_code == 201 and made.json()["effective_score"] == 9
    assert final_of(client, tokens)["final_score"] == "9" and final_of(client, tokens)["Q1"] == "4"
    full = client.post(url, json={"check_id": "q1.shape", "full_credit": True, "reason": "rubric"}, headers=teacher)
    assert full.json()["effective_score"] == 10 and len(full.json()["history"]) == 2

    assert client.post("/api/v1/instructor/regrade-all", headers=teacher).json()["queued"] == 1
    grade_next(database, report(3, 5))  # the automatic score under the override changed: 1 -> 3
    view = client.get(url, headers=teacher).json()
    assert view["auto_score"] == 8 and view["effective_score"] == 10
    assert view["effective"][0]["stale"] is True and view["effective"][0]["auto_score"] == 3
    assert [h["auto_score"] for h in view["history"]] == [1, 1]  # what the TA saw, kept
    assert final_of(client, tokens)["final_score"] == "10"


def test_students_get_403_on_override_routes(client: TestClient, tokens: Tokens, database: Database) -> None:
    sid = submit(client, tokens.alice)
    grade_next(database, report(1, 1))
    url = f"/api/v1/instructor/submissions/{sid}/overrides"
    alice = Tokens.header(tokens.alice)
    assert client.get(url, headers=alice).status_code == 403
    answer = client.post(url, json={"check_id": "q1.shape", "full_credit": True, "reason": "me"}, headers=alice)
    assert answer.status_code == 403 and "Instructors only" in answer.json()["detail"]


def test_override_csv_all_or_nothing(client: TestClient, tokens: Tokens, database: Database) -> None:
    teacher = Tokens.header(tokens.instructor)
    first = submit(client, tokens.alice)
    grade_next(database, report(1, 5))
    second = submit(client, tokens.bob)
    grade_next(database, report(2, 2))
    url = "/api/v1/instructor/overrides/import"

    def send(text: str):  # noqa: ANN202
        return client.post(url, files={"file": ("o.csv", text.encode(), "text/csv")}, headers=teacher)

    bad = (
        "submission,check_id,score,reason,feedback\r\n"
        f"{first},q1.shape,4,fair,\r\n"  # a good row: not written either
        f"{second},q1.shape,7,too many points,\r\n"
        f"{second},q2.equivalence,full,,\r\n"
        f"nope,q1.shape,1,x,\r\n"
        f"{first},q1.shape,many,x,\r\n"
    )
    answer = send(bad)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail.startswith("Nothing was changed") and all(f"row {n}" in detail for n in (3, 4, 5, 6)), detail
    assert "row 2" not in detail
    for sid in (first, second):
        assert client.get(f"/api/v1/instructor/submissions/{sid}/overrides", headers=teacher).json()["history"] == []
    assert send("submission,score\r\nx,1\r\n").status_code == 422  # columns missing
    good = (
        f"submission,check_id,score,reason,feedback\r\n{first},q1.shape,4,fair,ok\r\n"
        f"{second},q2.equivalence,full,rubric,\r\n"
    )
    assert send(good).json() == {"created": 2}
    assert (
        final_of(client, tokens, "alice")["final_score"] == "9"
        and final_of(client, tokens, "bob")["final_score"] == "7"
    )


def test_student_sees_effective_score_and_feedback_not_the_reason(
    client: TestClient, tokens: Tokens, database: Database
) -> None:
    sid = submit(client, tokens.alice)
    grade_next(database, report(1, 5))
    body = {"check_id": "q1.shape", "score": 4, "reason": "staff-only note", "feedback": "good reshape"}
    client.post(f"/api/v1/instructor/submissions/{sid}/overrides", json=body, headers=Tokens.header(tokens.instructor))
    view = client.get(f"/api/v1/submissions/{sid}/report", headers=Tokens.header(tokens.alice)).json()
    assert view["score"] == 6 and view["effective_score"] == 9  # the grader's result is kept as it was
    check = next(c for c in view["checks"] if c["id"] == "q1.shape")
    assert check["override"] == {"score": 4, "feedback": "good reshape"} and "staff-only" not in str(view)
    assert next(q for q in view["questions"] if q["id"] == "Q1")["effective_score"] == 4
