"""LTI 1.3 grade push over real HTTP: the service and a stand-in LMS (``lti_platform``) each under a real uvicorn.

The LMS verifies our client assertion against the JWKS the service serves, lists members over two NRPS pages,
creates the line item and stores the scores as they came; the scores must be the grades that count.
"""

import copy
import json
import os
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Tokens, free_port
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from lti_platform import INSTRUCTOR, LEARNER, PlatformState, platform_app, serve
from test_svc_instructor import grade_next, report, submit

from service import grades
from service.app import create_app
from service.config import Settings
from service.db import Database
from service.lti import keys
from service.lti.config import LtiSettings
from service.models import Role
from service.roster import issue_tokens

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "10000000000042"
ROSTER = (
    'student,email,SIS User ID\r\n"Łukasiewicz, Zoë",zoë@example.edu,\r\n"Doe, Jane",jane@example.edu,S001\r\n'
    "Ann Other,ann@example.edu,S300\r\nBen Nograde,ben@example.edu,S400\r\n"
)
GRADED = {"Łukasiewicz, Zoë": (4.0, 4.5), "Doe, Jane": (3.0, 2.25), "Ann Other": (5.0, 5.0)}
MEMBERS = [  # three per page: Jane and Sam come on the second page
    {"user_id": "u-zoe", "name": "Zoë Łukasiewicz", "email": unicodedata.normalize("NFD", "ZOË@example.edu"),
     "roles": [LEARNER], "status": "Active"},  # matched by email: another case, decomposed ë
    {"user_id": "u-prof", "name": "Prof", "email": "prof@example.edu", "roles": [INSTRUCTOR]},
    {"user_id": "u-ben", "name": "Ben Nograde", "email": "ben@example.edu", "roles": ["Learner"]},
    {"user_id": "u-jane", "name": "Jane Doe", "email": "jdoe@elsewhere.example", "lis_person_sourcedid": "S001",
     "roles": [LEARNER]},  # matched by SIS id, her email differs
    {"user_id": "u-sam", "name": "Sam Stranger", "email": "sam@example.edu", "roles": [LEARNER]},
]  # fmt: skip
PUSH = "/api/v1/instructor/exports/lti"


@dataclass
class Course:
    instructor: str
    students: dict[str, str]  # name -> token
    key: Path


@pytest.fixture
def course(settings: Settings, database: Database, tmp_path: Path) -> Course:
    """Four roster students: Zoë ("Last, First", Unicode) and Jane graded and on the LMS, Ann graded but not on
    the LMS, Ben on the LMS with no grade."""
    instructor = issue_tokens(database, ["prof"], Role.instructor)["prof"]
    with TestClient(create_app(settings)) as client:
        answer = client.post(
            "/api/v1/instructor/roster", files={"file": ("roster.csv", ROSTER.encode(), "text/csv")},
            headers=Tokens.header(instructor),
        )  # fmt: skip
        assert answer.status_code == 200 and not answer.json()["problems"], answer.text
        created = answer.json()["created"]
        for name, (q1, q2) in GRADED.items():
            submit(client, created[name])
            grade_next(database, report(q1, q2))
    key = tmp_path / "lti" / "tool.pem"
    keys.generate(key)
    return Course(instructor, created, key)


def expected_scores(database: Database) -> dict[str, tuple[float, float]]:
    """LMS user id -> (final score that counts, max score), from the gradebook."""
    with database.session() as session:
        rows = {r.student: r for r in grades.grade_rows(session)}
    zoe, jane = rows["Łukasiewicz, Zoë"], rows["Doe, Jane"]
    return {"u-zoe": (zoe.final_score, zoe.max_score), "u-jane": (jane.final_score, jane.max_score)}


@contextmanager
def lms(settings: Settings, course: Course, platform: dict[str, Any] | None = None, **lti: Any) -> Iterator[tuple]:
    """The stand-in LMS and the service, both served; yields (LMS state, service URL)."""
    platform_port, tool_port = free_port(), free_port()
    url, tool = f"http://127.0.0.1:{platform_port}", f"http://127.0.0.1:{tool_port}"
    state = PlatformState(url=url, client_id=CLIENT_ID, members=copy.deepcopy(MEMBERS), page_size=3,
                          tool_jwks_url=f"{tool}/lti/jwks.json", **(platform or {}))  # fmt: skip
    registration = LtiSettings(
        issuer="https://canvas.test", client_id=CLIENT_ID, deployment_id="7:abc", auth_token_url=f"{url}/token",
        lineitems_url=f"{url}/lineitems", memberships_url=f"{url}/memberships?page=1", private_key_path=course.key,
        backoff_s=0.01, **lti,
    )  # fmt: skip
    with serve(platform_app(state), platform_port), serve(create_app(settings, lti_settings=registration), tool_port):
        yield state, tool


def push(url: str, token: str, **params: Any) -> httpx.Response:
    return httpx.post(url + PUSH, headers=Tokens.header(token), params=params, timeout=120)


def test_push_posts_the_grades_that_count(settings: Settings, database: Database, course: Course) -> None:
    with lms(settings, course) as (state, url):
        answer = push(url, course.instructor)
        assert answer.status_code == 200, answer.text
        summary = answer.json()
        expected = expected_scores(database)
        assert len({v for v, _ in expected.values()}) == 2 and all(v > 0 for v, _ in expected.values())
        stored = {body["userId"]: body for _, body in state.scores}
        assert {u: (b["scoreGiven"], b["scoreMaximum"]) for u, b in stored.items()} == expected
        for body in stored.values():
            assert (body["activityProgress"], body["gradingProgress"]) == ("Completed", "FullyGraded")
            assert datetime.fromisoformat(body["timestamp"]).utcoffset() is not None, body["timestamp"]
        [item] = state.lineitems
        assert (item["label"], item["scoreMaximum"], item["resourceId"]) == ("ViT lab", 100, "vitgrade-vit-lab")
        assert {target for target, _ in state.scores} == {item["id"]} and summary["lineitem"] == item["id"]
        assert summary["lineitem_created"] and summary["matched"] == 3 and summary["failed"] == []
        assert sorted((p["student"], p["user_id"], p["score_given"]) for p in summary["pushed"]) == sorted(
            [("Doe, Jane", "u-jane", expected["u-jane"][0]), ("Łukasiewicz, Zoë", "u-zoe", expected["u-zoe"][0])]
        )
        assert summary["no_grade"] == ["Ben Nograde"] and summary["unmatched"] == ["Ann Other"]
        assert summary["learners_not_in_roster"] == ["Sam Stranger"]  # the instructor is no learner
        assert state.requests.count(("GET", "/memberships")) == 2  # both pages

        again = push(url, course.instructor)
        assert again.status_code == 200 and not again.json()["lineitem_created"], again.text
        assert len(state.lineitems) == 1 and len(state.scores) == 4  # found by resourceId, not created twice
        assert state.token_calls == 1  # the access token was cached
        first, second = state.scores[0][1], state.scores[2][1]
        assert datetime.fromisoformat(second["timestamp"]) >= datetime.fromisoformat(first["timestamp"])

        student = push(url, course.students["Ann Other"])
        assert student.status_code == 403 and len(state.scores) == 4


def test_a_key_the_platform_does_not_know_is_refused_before_anything_is_sent(
    settings: Settings, database: Database, course: Course
) -> None:
    ours = keys.load(course.key)
    stranger = keys.ToolKey(rsa.generate_private_key(public_exponent=65537, key_size=2048), ours.kid)  # same kid
    with lms(settings, course, platform={"tool_jwks": stranger.jwks()}) as (state, url):
        answer = push(url, course.instructor)
    assert answer.status_code == 502, answer.text
    detail = answer.json()["detail"]
    assert "refused our client assertion" in detail and "invalid_client" in detail, detail
    assert "Signature verification failed" in detail and "No score was sent" in detail, detail
    assert state.token_errors == ["Signature verification failed"] * len(state.token_errors) and state.token_errors
    assert state.scores == [] and state.lineitems == [] and state.requests == []


def test_429_is_retried_and_the_push_completes(settings: Settings, database: Database, course: Course) -> None:
    with lms(settings, course, platform={"throttle": [429]}) as (state, url):
        answer = push(url, course.instructor)
    assert answer.status_code == 200, answer.text
    assert state.score_attempts == ["u-jane", "u-jane", "u-zoe"]  # the first score was answered 429, then taken
    assert {b["userId"]: b["scoreGiven"] for _, b in state.scores} == {
        u: v for u, (v, _) in expected_scores(database).items()
    }
    assert answer.json()["failed"] == [] and len(answer.json()["pushed"]) == 2


def test_refusals_are_reported_with_the_platform_message_and_retries_are_bounded(
    settings: Settings, database: Database, course: Course
) -> None:
    refusal = (422, {"errors": [{"message": "User not found in course or is not a student"}]})
    platform = {"throttle": [503, 503, 503], "refuse": {"u-zoe": refusal}}
    with lms(settings, course, platform=platform, attempts=3) as (state, url):
        answer = push(url, course.instructor)
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert state.score_attempts == ["u-jane"] * 3 + ["u-zoe"]  # 503 three times (all tries), a 422 once
    assert state.scores == [] and summary["pushed"] == []  # nothing stored, nothing reported as pushed
    failed = {f["student"]: f for f in summary["failed"]}
    assert failed["Doe, Jane"]["status"] == 503 and "slow down" in failed["Doe, Jane"]["message"]
    assert failed["Łukasiewicz, Zoë"]["status"] == 422
    assert "User not found in course" in failed["Łukasiewicz, Zoë"]["message"]


def test_a_next_page_on_another_origin_gets_no_token(settings: Settings, database: Database, course: Course) -> None:
    """Hostile: a Link header that sends the next page elsewhere; our bearer token must not follow it."""
    with lms(settings, course) as (state, url):
        port = state.url.rsplit(":", 1)[1]
        state.next_url = f"http://localhost:{port}/memberships?page=2"  # same server, another origin
        answer = push(url, course.instructor)
    assert answer.status_code == 502 and "Refusing to send our token" in answer.json()["detail"], answer.text
    assert state.requests == [("GET", "/memberships")] and state.scores == [] and state.lineitems == []


def test_not_configured_is_a_409_that_names_the_settings(settings: Settings, database: Database, tmp_path) -> None:
    teacher = issue_tokens(database, ["prof"], Role.instructor)["prof"]
    student = issue_tokens(database, ["sam"], Role.student)["sam"]
    app = create_app(settings, lti_settings=LtiSettings(private_key_path=tmp_path / "absent.pem"))
    with TestClient(app) as client:
        answer = client.post(PUSH, headers=Tokens.header(teacher))
        assert answer.status_code == 409, answer.text
        detail = answer.json()["detail"]
        assert "VITGRADE_LTI_CLIENT_ID" in detail and "VITGRADE_LTI_AUTH_TOKEN_URL" in detail and "keygen" in detail
        assert client.post(PUSH, headers=Tokens.header(student)).status_code == 403
        jwks = client.get("/lti/jwks.json")
        assert jwks.status_code == 404 and str(tmp_path) not in jwks.text  # no server path to a stranger


def test_cli_dry_run_matches_and_sends_nothing(settings: Settings, database: Database, course: Course) -> None:
    registered = keys.load(course.key).jwks()
    with lms(settings, course, platform={"tool_jwks": registered}) as (state, _):
        env = {
            **os.environ, "PYTHONPATH": str(ROOT), "VITGRADE_VAR_DIR": str(settings.var_dir),
            "VITGRADE_DATABASE_URL": settings.database_url, "VITGRADE_LTI_ISSUER": "https://canvas.test",
            "VITGRADE_LTI_CLIENT_ID": CLIENT_ID, "VITGRADE_LTI_AUTH_TOKEN_URL": f"{state.url}/token",
            "VITGRADE_LTI_LINEITEMS_URL": f"{state.url}/lineitems",
            "VITGRADE_LTI_MEMBERSHIPS_URL": f"{state.url}/memberships",
            "VITGRADE_LTI_PRIVATE_KEY_PATH": str(course.key),
        }  # fmt: skip
        result = subprocess.run(
            [sys.executable, "-m", "service.lti", "push", "--dry-run"], env=env, cwd=ROOT, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["dry_run"] and summary["lineitem"] is None and summary["lineitem_created"]
    would = {p["user_id"]: (p["score_given"], p["score_maximum"]) for p in summary["pushed"]}
    assert would == expected_scores(database)
    assert state.scores == [] and state.lineitems == [] and state.token_calls == 1
