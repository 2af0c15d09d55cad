"""Roster import (CRLF, bad rows) and LMS exports against golden files, on both backends.

The fixtures hold a Canvas gradebook export with "Last, First" names, quotes, Unicode, a Points Possible
row, a test student and a student the roster lacks; the golden files were written by hand from the
format's rules (what Canvas and Moodle import), not from the code's output.
"""

import time
from pathlib import Path

from conftest import Tokens
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_svc_instructor import grade_next, report, submit

from service.db import Database
from service.models import User

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "service"


def golden(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def import_roster(client: TestClient, tokens: Tokens) -> dict:
    data = (FIXTURES / "roster_crlf.csv").read_bytes()
    answer = client.post(
        "/api/v1/instructor/roster", files={"file": ("roster.csv", data, "text/csv")},
        headers=Tokens.header(tokens.instructor),
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_roster_import_accepts_crlf_and_reports_bad_rows(
    client: TestClient, tokens: Tokens, database: Database
) -> None:
    imported = import_roster(client, tokens)
    assert sorted(imported["created"]) == ["carl", "jdoe", "pob", "zoe"]
    assert [p.split(":")[0] for p in imported["problems"]] == ["row 6", "row 7", "row 8"], imported["problems"]
    assert "no student name" in imported["problems"][0] and "not an email" in imported["problems"][1]
    assert "twice" in imported["problems"][2]
    with database.session() as session:
        zoe = session.scalar(select(User).where(User.name == "zoe"))
        assert (zoe.email, zoe.sis_id) == ("zoë@example.edu", "S002")  # the first row wins; no '\r' left anywhere
    again = import_roster(client, tokens)
    assert again["created"] == {} and sorted(again["updated"]) == ["carl", "jdoe", "pob", "zoe"]
    first = imported["created"]["jdoe"]
    assert client.get("/api/v1/me", headers=Tokens.header(first)).status_code == 200  # tokens kept on update


def grade_class(client: TestClient, tokens: Tokens, database: Database) -> None:
    created = import_roster(client, tokens)["created"]
    for name, q1, q2 in (("jdoe", 4, 4.5), ("pob", 5, 5), ("carl", 1, 2)):
        submit(client, created[name])
        grade_next(database, report(q1, q2))


def test_canvas_export_matches_the_golden_file(client: TestClient, tokens: Tokens, database: Database) -> None:
    grade_class(client, tokens, database)
    answer = client.post(
        "/api/v1/instructor/exports/canvas",
        files={"file": ("canvas.csv", (FIXTURES / "canvas_export.csv").read_bytes(), "text/csv")},
        params={"column": "ViT lab (4242)"},
        headers=Tokens.header(tokens.instructor),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["csv"] == golden("canvas_expected.csv")
    assert body["missing_in_lms"] == ["alice", "bob", "carl"]  # alice and bob: the fixtures' other students
    assert body["missing_in_roster"] == ["Nobody, Ann"]


def test_canvas_needs_a_canvas_file_and_one_column(client: TestClient, tokens: Tokens) -> None:
    teacher = Tokens.header(tokens.instructor)
    url = "/api/v1/instructor/exports/canvas"
    two = (FIXTURES / "canvas_export.csv").read_bytes()
    answer = client.post(url, files={"file": ("c.csv", two, "text/csv")}, headers=teacher)
    assert answer.status_code == 422 and "ViT lab (4242)" in answer.json()["detail"]  # two candidates: say which
    other = client.post(url, files={"file": ("c.csv", b"name,score\r\na,1\r\n", "text/csv")}, headers=teacher)
    assert other.status_code == 422 and "Not a Canvas gradebook export" in other.json()["detail"]
    latin = client.post(url, files={"file": ("c.csv", "Zoë".encode("latin-1"), "text/csv")}, headers=teacher)
    assert latin.status_code == 422 and "UTF-8" in latin.json()["detail"]


def test_moodle_exports_match_the_golden_files(client: TestClient, tokens: Tokens, database: Database) -> None:
    grade_class(client, tokens, database)
    teacher = Tokens.header(tokens.instructor)
    email = client.get("/api/v1/instructor/exports/moodle", headers=teacher).json()
    assert email["csv"] == golden("moodle_email_expected.csv") and email["missing_in_lms"] == ["alice", "bob", "pob"]
    ids = client.get("/api/v1/instructor/exports/moodle?key=idnumber", headers=teacher).json()
    assert ids["csv"] == golden("moodle_idnumber_expected.csv")
    assert sorted(ids["missing_in_lms"]) == ["alice", "bob", "pob"]
    assert client.get("/api/v1/instructor/exports/moodle?key=name", headers=teacher).status_code == 422


def test_students_get_403_on_export_and_roster_routes(client: TestClient, tokens: Tokens) -> None:
    alice = Tokens.header(tokens.alice)
    for method, path, files in (
        ("post", "/api/v1/instructor/exports/canvas", {"file": ("c.csv", b"x", "text/csv")}),
        ("get", "/api/v1/instructor/exports/moodle", None),
        ("post", "/api/v1/instructor/exports/lti", None),
        ("post", "/api/v1/instructor/roster", {"file": ("r.csv", b"student\r\nmallory\r\n", "text/csv")}),
    ):
        answer = client.request(method, path, files=files, headers=alice)
        assert answer.status_code == 403 and "Instructors only" in answer.json()["detail"], path


def test_revoke_and_issue_tokens_from_the_roster(client: TestClient, tokens: Tokens, settings) -> None:  # noqa: ANN001
    teacher = Tokens.header(tokens.instructor)
    revoked = client.post("/api/v1/instructor/roster/alice/revoke", headers=teacher)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    time.sleep(settings.auth_cache_s + 0.2)  # the token cache forgets within auth_cache_s
    assert client.get("/api/v1/me", headers=Tokens.header(tokens.alice)).status_code == 401
    listed = {u["name"]: u for u in client.get("/api/v1/instructor/roster", headers=teacher).json()}
    assert listed["alice"]["revoked_at"] and listed["bob"]["revoked_at"] is None
    issued = client.post("/api/v1/instructor/roster/alice/token", headers=teacher).json()
    assert issued["token"].startswith("vgs_")
    assert client.get("/api/v1/me", headers=Tokens.header(issued["token"])).json()["name"] == "alice"
    assert client.post("/api/v1/instructor/roster/nobody/revoke", headers=teacher).status_code == 404
    assert client.post("/api/v1/instructor/roster/prof/revoke", headers=teacher).status_code == 409
    assert client.post("/api/v1/instructor/roster/bob/revoke", headers=Tokens.header(tokens.bob)).status_code == 403
