"""Regrade requests on both backends: one per check, only on one's own graded submission; a TA answers with a
reply alone or with a new score (an override the student sees)."""

from conftest import Tokens
from fastapi.testclient import TestClient
from test_svc_instructor import grade_next, submit
from test_svc_overrides import report

from service.db import Database


def test_ask_once_per_check_and_answer_with_or_without_a_score(
    client: TestClient, tokens: Tokens, database: Database
) -> None:
    alice, bob, teacher = (Tokens.header(t) for t in (tokens.alice, tokens.bob, tokens.instructor))
    sid = submit(client, tokens.alice)
    url = f"/api/v1/submissions/{sid}/regrade-requests"
    assert client.post(url, json={"check_id": "q1.shape", "message": "why?"}, headers=alice).status_code == 409
    grade_next(database, report(1, 5))
    assert client.post(url, json={"check_id": "q1.shape", "message": "mine?"}, headers=bob).status_code == 404
    assert client.post(url, json={"check_id": "q9.none", "message": "x"}, headers=alice).status_code == 422
    first = client.post(url, json={"check_id": "q1.shape", "message": "my shape is right"}, headers=alice)
    assert first.status_code == 201 and first.json()["reply"] is None
    again = client.post(url, json={"check_id": "q1.shape", "message": "please"}, headers=alice)
    assert again.status_code == 409 and "one per check" in again.json()["detail"]
    other = client.post(url, json={"check_id": "q2.equivalence", "message": "and this"}, headers=alice).json()

    queue = client.get("/api/v1/instructor/regrade-requests", headers=teacher).json()
    assert [(r["student"], r["check_id"]) for r in queue] == [("alice", "q1.shape"), ("alice", "q2.equivalence")]
    answered = client.post(
        f"/api/v1/instructor/regrade-requests/{first.json()['id']}/answer",
        json={"reply": "You are right: the reshape is fine.", "score": 5},
        headers=teacher,
    )
    assert answered.status_code == 200 and answered.json()["override_id"] is not None
    client.post(f"/api/v1/instructor/regrade-requests/{other['id']}/answer", json={"reply": "It is correct as graded."},
                headers=teacher)  # fmt: skip
    assert client.get("/api/v1/instructor/regrade-requests", headers=teacher).json() == []  # none open
    seen = client.get(url, headers=alice).json()
    assert [r["reply"] for r in seen] == ["You are right: the reshape is fine.", "It is correct as graded."]
    view = client.get(f"/api/v1/submissions/{sid}/report", headers=alice).json()
    assert view["effective_score"] == 10  # the override made by the answer
    bad = client.post(f"/api/v1/instructor/regrade-requests/{other['id']}/answer", json={"reply": "x", "score": 99},
                      headers=teacher)  # fmt: skip
    assert bad.status_code == 422
    assert client.get("/api/v1/instructor/regrade-requests", headers=alice).status_code == 403
