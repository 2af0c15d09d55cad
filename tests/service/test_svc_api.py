"""The student API on both backends: submit, follow, list, isolation between students, durability of the 202."""

from pathlib import Path

from conftest import Tokens
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.db import Database
from service.models import Job, Status, Submission

MODULE = b"import torch\n\nclass MLP(torch.nn.Module):\n    pass\n"
ANSWERS = b"## Q3\nAttention relates every patch to every other patch.\n"


def submit(client: TestClient, token: str, *files: tuple[str, bytes]):  # noqa: ANN201
    return client.post(
        "/api/v1/submissions",
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
        headers=Tokens.header(token),
    )


def test_submit_answers_202_with_links_and_position(client: TestClient, tokens: Tokens, database: Database) -> None:
    answer = submit(client, tokens.alice, ("vit.py", MODULE), ("answers.md", ANSWERS))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "queued" and body["position"] == 1
    assert body["links"]["report"] == f"/api/v1/submissions/{body['id']}/report"
    assert answer.headers["location"] == body["links"]["self"]
    assert [f["name"] for f in body["files"]] == ["vit.py", "answers.md"]
    # the row and the files were durable before the answer
    with database.session() as session:
        row = session.get(Submission, body["id"])
        assert row is not None and row.status == Status.queued
        assert session.scalars(select(Job).where(Job.submission_id == row.id)).one().status == Status.queued
    store = client.app.state.store  # on disk with SQLite, in the database with PostgreSQL
    assert store.get(body["files"][0]["sha256"]) == MODULE


def test_status_and_queue_position(client: TestClient, tokens: Tokens) -> None:
    first = submit(client, tokens.alice, ("vit.py", MODULE)).json()
    second = submit(client, tokens.bob, ("vit.py", MODULE + b"# bob\n")).json()
    status = client.get(f"/api/v1/submissions/{second['id']}", headers=Tokens.header(tokens.bob)).json()
    assert status["status"] == "queued" and status["position"] == 2 and status["student"] == "bob"
    mine = client.get("/api/v1/submissions", headers=Tokens.header(tokens.alice)).json()
    assert [s["id"] for s in mine] == [first["id"]]


def test_other_students_submission_is_404(client: TestClient, tokens: Tokens) -> None:
    mine = submit(client, tokens.alice, ("vit.py", MODULE)).json()
    for path in ("", "/report", "/report/gradescope", "/report/junit"):
        answer = client.get(f"/api/v1/submissions/{mine['id']}{path}", headers=Tokens.header(tokens.bob))
        assert answer.status_code == 404, path
        assert "among yours" in answer.json()["detail"]
    assert client.get("/api/v1/submissions", headers=Tokens.header(tokens.bob)).json() == []


def test_report_before_grading_is_409(client: TestClient, tokens: Tokens) -> None:
    mine = submit(client, tokens.alice, ("vit.py", MODULE)).json()
    answer = client.get(mine["links"]["report"], headers=Tokens.header(tokens.alice))
    assert answer.status_code == 409 and "queued" in answer.json()["detail"]


def test_ids_are_unguessable_uuid4(client: TestClient, tokens: Tokens) -> None:
    import uuid

    ids = {submit(client, tokens.alice, ("vit.py", MODULE + bytes([65 + i]))).json()["id"] for i in range(3)}
    assert len(ids) == 3 and all(uuid.UUID(i).version == 4 for i in ids)


def test_assignment_lists_questions_and_caps(client: TestClient, tokens: Tokens) -> None:
    body = client.get("/api/v1/assignment").json()
    assert body["accepted_files"] == [".py", ".ipynb", ".md", ".zip"]
    assert body["max_score"] == sum(q["points"] for q in body["questions"])
    for question in body["questions"]:
        assert all(c["question"] == question["id"] for c in question["checks"])


def test_openapi_and_page_are_served(client: TestClient) -> None:
    assert "/api/v1/submissions" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and "<script" in page.text


def test_restart_of_the_api_loses_nothing(settings, database: Database, tokens: Tokens, tmp_path: Path) -> None:  # noqa: ANN001
    from service.app import create_app

    with TestClient(create_app(settings)) as first:
        created = submit(first, tokens.alice, ("vit.py", MODULE)).json()
    with TestClient(create_app(settings)) as second:
        status = second.get(f"/api/v1/submissions/{created['id']}", headers=Tokens.header(tokens.alice)).json()
    assert status["status"] == "queued" and status["files"] == created["files"]
