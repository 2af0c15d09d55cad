"""Every list view on both backends takes as many SQL statements for 30 rows as for 3: no query per row.

The class grows through the real API and queue (submissions with answers, grades, regrade requests,
extensions, overrides); the similarity runs are stored rows (computing 30 runs would only be slow)."""

from collections.abc import Iterator

import pytest
from conftest import Tokens
from fastapi.testclient import TestClient
from statements import statements_of_get
from test_svc_instructor import grade_next
from test_svc_review import written_report

from service.app import create_app
from service.config import Settings
from service.db import Database
from service.models import Role, SimilarityRun
from service.roster import issue_tokens


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    """The app with tokens cached for the whole test: a cache refill must not land in a counted request."""
    with TestClient(create_app(settings.model_copy(update={"auth_cache_s": 3600.0}))) as test_client:
        yield test_client


ANSWER = b"## Q3\n\nAttention relates every token to every other token, student %d.\n"


class Course:
    """A class that grows: each new student (and alice, each time) hands in a graded submission."""

    def __init__(self, client: TestClient, database: Database, tokens: Tokens):
        self.client, self.database = client, database
        self.alice = Tokens.header(tokens.alice)
        self.teacher = Tokens.header(tokens.instructor)
        self.students = 0
        self.first: str | None = None  # alice's first submission: its overrides grow

    def submit(self, headers: dict[str, str]) -> str:
        files = [("files", ("answers.md", ANSWER % self.students, "text/markdown"))]
        answer = self.client.post("/api/v1/submissions", files=files, headers=headers)
        assert answer.status_code == 202, answer.text
        grade_next(self.database, written_report(["global context"], ["quadratic cost"]))
        return answer.json()["id"]

    def grow(self, size: int) -> None:
        while self.students < size:
            self.students += 1
            name = f"student{self.students:02d}"
            headers = Tokens.header(issue_tokens(self.database, [name], Role.student)[name])
            sid = self.submit(headers)
            asked = self.client.post(
                f"/api/v1/submissions/{sid}/regrade-requests",
                json={"check_id": "written.q3", "message": "I named the quadratic cost."}, headers=headers,
            )  # fmt: skip
            assert asked.status_code == 201, asked.text
            granted = self.client.post(
                "/api/v1/instructor/extensions",
                json={"student": name, "due_at": "2030-01-01T12:00:00+00:00", "reason": "illness"},
                headers=self.teacher,
            )
            assert granted.status_code == 201, granted.text
            mine = self.submit(self.alice)
            self.first = self.first or mine
            made = self.client.post(
                f"/api/v1/instructor/submissions/{self.first}/overrides",
                json={"check_id": "written.q3", "score": self.students % 3, "reason": f"pass {self.students}"},
                headers=self.teacher,
            )  # fmt: skip
            assert made.status_code == 201, made.text
            with self.database.write_session() as session:
                session.add(SimilarityRun(created_by="prof", scope="counted", params={}, template_sha256="0" * 64,
                                          code_report={"pairs": []}, answers_report={"pairs": []}))  # fmt: skip

    def statements(self) -> dict[str, int]:
        """Statements per list view, with the class as it is now."""
        teacher, alice = self.teacher, self.alice
        views = {
            "/api/v1/submissions?limit=500": alice,
            "/api/v1/instructor/submissions?limit=1000": teacher,
            "/api/v1/instructor/students/alice/submissions": teacher,
            "/api/v1/instructor/review/q3": teacher,
            "/api/v1/instructor/regrade-requests?open_only=false": teacher,
            "/api/v1/instructor/roster": teacher,
            "/api/v1/instructor/extensions": teacher,
            f"/api/v1/instructor/submissions/{self.first}/overrides": teacher,
            "/api/v1/instructor/grades": teacher,
            "/api/v1/instructor/grades.csv": teacher,
            "/api/v1/instructor/stats": teacher,
            "/api/v1/instructor/exports/moodle": teacher,
            "/api/v1/instructor/similarity/runs": teacher,
            "/api/v1/course": alice,
        }
        return {path: statements_of_get(self.client, path, headers) for path, headers in views.items()}


def test_list_views_take_as_many_statements_for_30_rows_as_for_3(
    client: TestClient, tokens: Tokens, database: Database
) -> None:
    course = Course(client, database, tokens)
    course.grow(3)
    few = course.statements()
    course.grow(30)
    many = course.statements()
    grown = {path: (few[path], many[path]) for path in few if many[path] != few[path]}
    assert grown == {}, f"statements (3 rows, 30 rows) of the views that query per row: {grown}"
    review = client.get("/api/v1/instructor/review/q3", headers=course.teacher).json()
    assert sum(g["size"] for g in review["groups"]) == 31  # 30 students and alice: the rows were there
    assert len(client.get("/api/v1/submissions?limit=500", headers=course.alice).json()) == 30
