"""The course over HTTP on both backends, with an injected clock: policy, lateness, close, extensions, what counts."""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Tokens
from fastapi.testclient import TestClient
from test_svc_instructor import grade_next, report

from service.app import create_app
from service.config import Settings
from service.db import Database

DUE = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # 23:00 in Paris, the night before the spring DST change


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(DUE - timedelta(days=1))


@pytest.fixture
def client(settings: Settings, database: Database, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


def submit_at(client: TestClient, clock: Clock, token: str, when: datetime) -> tuple[int, dict]:
    clock.now = when
    answer = client.post(
        "/api/v1/submissions",
        files=[("files", ("vit.py", b"import torch\n", "text/plain"))],
        headers=Tokens.header(token),
    )
    return answer.status_code, answer.json()


def set_policy(client: TestClient, tokens: Tokens, **policy: object) -> dict:
    answer = client.put("/api/v1/instructor/policy", json=policy, headers=Tokens.header(tokens.instructor))
    assert answer.status_code == 200, answer.text
    return answer.json()


def csv_rows(client: TestClient, tokens: Tokens) -> dict[str, dict]:
    text = client.get("/api/v1/instructor/grades.csv", headers=Tokens.header(tokens.instructor)).text
    return {r["student"]: r for r in csv.DictReader(io.StringIO(text))}


def test_latest_is_by_submission_time_never_by_grading_time(
    client: TestClient, clock: Clock, tokens: Tokens, database: Database, settings: Settings
) -> None:
    """Regrading an older submission once made it the student's latest in grades.csv."""
    _, first = submit_at(client, clock, tokens.alice, DUE - timedelta(hours=5))
    grade_next(database, report(1, 1))
    _, second = submit_at(client, clock, tokens.alice, DUE - timedelta(hours=4))
    grade_next(database, report(4, 4))
    teacher = Tokens.header(tokens.instructor)
    assert client.post(f"/api/v1/instructor/submissions/{first['id']}/regrade", headers=teacher).status_code == 202
    grade_next(database, report(2, 2))  # the regrade of the first one is the last grade recorded
    row = csv_rows(client, tokens)["alice"]
    assert row["submission"] == second["id"] and row["final_score"] == "8", row
    assert (row["Q1"], row["Q2"], row["counts"], row["timing"]) == ("4", "4", "latest", "on_time")
    assert csv_rows(client, tokens)["bob"]["submission"] == ""  # never submitted: a row, empty


def test_policy_lateness_close_and_extensions(client: TestClient, clock: Clock, tokens: Tokens, database) -> None:  # noqa: ANN001
    policy = set_policy(
        client, tokens, timezone="Europe/Paris", due_at="2026-03-28T23:00", grace_minutes=5, late_mode="decay",
        decay_percent_per_hour=10, decay_floor_percent=20, close_at="2026-03-29T11:00", after_close="refuse",
        counts="best",
    )  # fmt: skip
    assert policy["policy"]["due_at"].startswith("2026-03-28T22:00") and policy["due_local"].endswith("CET")
    assert policy["close_local"] == "2026-03-29 11:00:00 CEST" and policy["version"] == 1
    assert submit_at(client, clock, tokens.alice, DUE - timedelta(hours=1))[0] == 202
    grade_next(database, report(4, 4))  # on time: 8
    assert submit_at(client, clock, tokens.alice, DUE + timedelta(hours=4))[0] == 202  # 04:00 CEST: 4 h late
    grade_next(database, report(5, 5))  # 10 at 60 % = 6
    status, closed = submit_at(client, clock, tokens.alice, DUE + timedelta(hours=11, seconds=1))
    assert status == 403 and "2026-03-29 11:00:00 CEST" in closed["detail"], closed
    assert submit_at(client, clock, tokens.alice, DUE + timedelta(hours=11))[0] == 202  # at the close: accepted
    grade_next(database, report(0, 0))

    mine = client.get("/api/v1/course", headers=Tokens.header(tokens.alice)).json()
    timings = [(s["timing"], s["late_minutes"], s["credit_percent"]) for s in mine["submissions"]]
    assert timings == [("late", 660.0, 20.0), ("late", 240.0, 60.0), ("on_time", 0.0, 100.0)]
    assert mine["final_score"] == 8 and mine["counted_submission"] == mine["submissions"][2]["id"]
    assert mine["due_local"] == "2026-03-28 23:00:00 CET" and mine["extended"] is False

    teacher = Tokens.header(tokens.instructor)
    grant = {"student": "alice", "due_at": "2026-03-29T04:00", "reason": "illness"}
    assert client.post("/api/v1/instructor/extensions", json=grant, headers=teacher).status_code == 201
    mine = client.get("/api/v1/course", headers=Tokens.header(tokens.alice)).json()
    assert mine["extended"] and mine["extension_reason"] == "illness"
    assert [s["timing"] for s in mine["submissions"]] == ["late", "on_time", "on_time"]  # re-priced, not regraded
    assert mine["final_score"] == 10 and csv_rows(client, tokens)["alice"]["final_score"] == "10"

    revoke = client.post(
        "/api/v1/instructor/extensions/alice/revoke", json={"reason": "sent by mistake"}, headers=teacher
    )
    assert revoke.status_code == 201
    assert client.get("/api/v1/course", headers=Tokens.header(tokens.alice)).json()["final_score"] == 8
    history = client.get("/api/v1/instructor/extensions", headers=teacher).json()
    assert [(h["action"], h["author"]) for h in history] == [("grant", "prof"), ("revoke", "prof")]
    again = client.post("/api/v1/instructor/extensions/alice/revoke", json={"reason": "twice"}, headers=teacher)
    assert again.status_code == 409


def test_practice_after_close_and_chosen(client: TestClient, clock: Clock, tokens: Tokens, database) -> None:  # noqa: ANN001
    set_policy(client, tokens, due_at=DUE.isoformat(), close_at=(DUE + timedelta(days=1)).isoformat(),
               after_close="practice", counts="chosen")  # fmt: skip
    _, early = submit_at(client, clock, tokens.bob, DUE - timedelta(hours=2))
    grade_next(database, report(5, 4))
    _, on_time = submit_at(client, clock, tokens.bob, DUE - timedelta(hours=1))
    grade_next(database, report(1, 1))
    status, practice = submit_at(client, clock, tokens.bob, DUE + timedelta(days=2))
    assert status == 202
    grade_next(database, report(5, 5))
    bob = Tokens.header(tokens.bob)
    mine = client.get("/api/v1/course", headers=bob).json()
    assert mine["submissions"][0]["timing"] == "practice" and mine["submissions"][0]["credit_percent"] == 0
    assert mine["counted_submission"] == on_time["id"]  # nothing chosen: the latest that counts
    chosen = client.post(f"/api/v1/submissions/{early['id']}/choose", headers=bob)
    assert chosen.status_code == 200 and chosen.json()["counted_submission"] == early["id"]
    assert chosen.json()["final_score"] == 9
    assert (
        client.post(f"/api/v1/submissions/{early['id']}/choose", headers=Tokens.header(tokens.alice)).status_code == 404
    )
    assert csv_rows(client, tokens)["bob"]["counts"] == "chosen"


def test_bad_policies_change_nothing(client: TestClient, tokens: Tokens) -> None:
    teacher = Tokens.header(tokens.instructor)
    for bad in (
        {"timezone": "Europe/Paris", "due_at": "2026-03-29T02:30"},  # skipped by DST
        {"due_at": DUE.isoformat(), "close_at": (DUE - timedelta(seconds=1)).isoformat()},
        {"late_mode": "sometimes"},
        {"windows": [{"until": DUE.isoformat(), "credit_percent": 150}], "due_at": DUE.isoformat()},
    ):
        answer = client.put("/api/v1/instructor/policy", json=bad, headers=teacher)
        assert answer.status_code == 422 and answer.json()["detail"].startswith("Invalid request"), (bad, answer.text)
    assert client.get("/api/v1/instructor/policy", headers=teacher).json()["version"] == 0


def test_students_get_403_on_every_course_instructor_route(client: TestClient, tokens: Tokens) -> None:
    alice = Tokens.header(tokens.alice)
    for method, path, body in (
        ("get", "/api/v1/instructor/policy", None),
        ("put", "/api/v1/instructor/policy", {}),
        ("get", "/api/v1/instructor/extensions", None),
        ("post", "/api/v1/instructor/extensions", {"student": "alice", "due_at": DUE.isoformat(), "reason": "x"}),
        ("post", "/api/v1/instructor/extensions/alice/revoke", {"reason": "x"}),
    ):
        answer = client.request(method, path, json=body, headers=alice)
        assert answer.status_code == 403 and "Instructors only" in answer.json()["detail"], path


def test_cli_sets_policy_and_extensions(
    settings: Settings, database: Database, tokens: Tokens, tmp_path, capsys
) -> None:  # noqa: ANN001
    from service import course, extensions, policy

    good = tmp_path / "policy.json"
    good.write_text('{"timezone": "Europe/Paris", "due_at": "2026-03-28T23:00", "counts": "best"}')
    bad = tmp_path / "bad.json"
    bad.write_text('{"timezone": "Europe/Paris", "due_at": "2026-03-29T02:30"}')
    env = {"VITGRADE_DATABASE_URL": settings.database_url, "VITGRADE_VAR_DIR": str(settings.var_dir)}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        course.get_settings.cache_clear()
        assert course.main(["policy", "set", str(good), "--author", "prof"]) == 0
        assert '"due_local": "2026-03-28 23:00:00 CET"' in capsys.readouterr().out
        assert course.main(["policy", "set", str(bad)]) == 2  # nothing changed
        assert course.main(["extend", "alice", "--due", "2026-03-30T12:00", "--reason", "illness"]) == 0
        assert course.main(["revoke", "alice", "--reason", "mistake"]) == 0
        assert course.main(["extensions"]) == 0
        course.get_settings.cache_clear()
    with database.session() as session:
        assert policy.current(session).counts == "best" and len(policy.history(session)) == 1
        rows = extensions.history(session)
        assert [r.action for r in rows] == ["grant", "revoke"] and extensions.in_force(session) == {}
        assert rows[0].due_at == datetime(2026, 3, 30, 10, 0, tzinfo=UTC)
