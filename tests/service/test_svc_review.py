"""The review queue of a written question on both backends: answers read from the counted submissions,
identical and near-identical answers grouped, one decision for a group (all or nothing), a seeded order."""

from conftest import Tokens
from fastapi.testclient import TestClient
from test_svc_instructor import grade_next
from test_svc_worker import fake_report

from grader.report import Report
from service.db import Database
from service.models import Role
from service.review import Answer, group
from service.roster import issue_tokens

ANSWERS = {
    "alice": "Attention relates every token to every other token; a convolution only sees a local window.",
    "bob": "attention relates EVERY token to every other token - a convolution only sees a local window",
    "carol": "Attention relates every token to every other token; a convolution only sees a small window.",
    "dave": "Memory grows with the square of the number of patches.",
}


def written_report(found: list[str], missing: list[str]) -> Report:
    details = {"found": found, "missing": missing, "fraction": 1 / 3}
    check = {"id": "written.q3", "question": "written", "category": "written", "status": "passed",
             "score": 1.0, "max_score": 3.0, "details": details}  # fmt: skip
    base = fake_report(1.0).model_dump(mode="json")
    questions = [{"id": "written", "score": 1.0, "max_score": 3.0}]
    return Report.model_validate({**base, "questions": questions, "checks": [check]})


def test_review_queue_groups_similar_answers_and_decides_for_a_group(
    client: TestClient, tokens: Tokens, database: Database
) -> None:
    students = {"alice": tokens.alice, "bob": tokens.bob, **issue_tokens(database, ["carol", "dave"], Role.student)}
    ids = {}
    for name, text in ANSWERS.items():
        files = [("files", ("answers.md", f"## Q3\n\n{text}\n".encode(), "text/markdown"))]
        answer = client.post("/api/v1/submissions", files=files, headers=Tokens.header(students[name]))
        ids[name] = answer.json()["id"]
        grade_next(database, written_report(["global context"], ["quadratic cost"]))
    teacher = Tokens.header(tokens.instructor)
    queue = client.get("/api/v1/instructor/review/q3", headers=teacher).json()
    assert queue["check_id"] == "written.q3"
    sizes = [g["size"] for g in queue["groups"]]
    assert sizes == [3, 1], queue
    assert {a["student"] for a in queue["groups"][0]["answers"]} == {"alice", "bob", "carol"}
    first = queue["groups"][0]["answers"][0]
    assert first["found"] == ["global context"] and first["missing"] == ["quadratic cost"] and first["text"]

    url = "/api/v1/instructor/review/q3/decide"
    members = [a["submission_id"] for a in queue["groups"][0]["answers"]]
    bad = client.post(url, json={"submissions": [*members, "nope"], "score": 3, "reason": "x"}, headers=teacher)
    assert bad.status_code == 409 and bad.json()["detail"].startswith("Nothing was changed")
    assert (
        client.get(f"/api/v1/instructor/submissions/{ids['alice']}/overrides", headers=teacher).json()["history"] == []
    )
    made = client.post(url, json={"submissions": members, "score": 3, "reason": "both ideas"}, headers=teacher)
    assert made.status_code == 201 and made.json()["created"] == 3
    after = client.get("/api/v1/instructor/review/q3", headers=teacher).json()
    scores = {a["student"]: a["effective_score"] for g in after["groups"] for a in g["answers"]}
    assert scores == {"alice": 3, "bob": 3, "carol": 3, "dave": 1}
    assert client.get("/api/v1/instructor/review/q9", headers=teacher).status_code == 404
    assert client.get("/api/v1/instructor/review/q3", headers=Tokens.header(tokens.alice)).status_code == 403


def test_singletons_are_shuffled_by_seed_and_groups_come_first() -> None:
    answers = [Answer(f"s{i}", f"id{i}", f"answer number {i} about topic {i * 7}", "written.q3") for i in range(12)]
    answers.append(Answer("twin", "idt", "Answer number 0 about topic 0!", "written.q3"))
    orders = {tuple(a.student for g in group(answers, seed) for a in g) for seed in range(5)}
    assert len(orders) > 1  # another seed, another order
    assert group(answers, 3) == group(answers, 3)  # the same seed, the same order
    first = group(answers, 1)[0]
    assert {a.student for a in first} == {"s0", "twin"}
