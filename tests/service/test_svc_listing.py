"""The submission lists on both backends: one statement per page (grades included), pages in a stable order,
filters, and the page chosen through an index."""

import re

from conftest import Tokens
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from test_svc_instructor import grade_next, report, submit

from service import views
from service.db import Database

LIST = "/api/v1/instructor/submissions"


def test_a_page_is_one_statement_with_every_grade(client: TestClient, tokens: Tokens, database: Database) -> None:
    ids = []
    for index in range(5):
        ids.append(submit(client, tokens.alice if index % 2 else tokens.bob))
        grade_next(database, report(index, 1))
    teacher = Tokens.header(tokens.instructor)
    client.post(f"/api/v1/instructor/submissions/{ids[1]}/regrade", headers=teacher)
    grade_next(database, report(5, 5))

    statements: list[str] = []
    record = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with database.session() as session:
            page = views.listing(session, limit=3, offset=1)
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert len([s for s in statements if re.match(r"\s*SELECT", s)]) == 1, statements
    assert [v.id for v in page] == [ids[3], ids[2], ids[1]]  # newest first, the page after the first one
    assert [g.score for g in page[2].grades] == [2.0, 10.0] and page[2].score == 10.0

    whole = client.get(LIST, params={"limit": 2}, headers=teacher).json()
    rest = client.get(LIST, params={"limit": 10, "offset": 2}, headers=teacher).json()
    assert [s["id"] for s in whole + rest] == ids[::-1]
    alice = client.get(LIST, params={"student": "alice", "status": "done"}, headers=teacher).json()
    assert [s["id"] for s in alice] == [ids[3], ids[1]]
    assert client.get(LIST, params={"student": "nobody"}, headers=teacher).status_code == 404
    assert client.get("/api/v1/submissions", headers=Tokens.header(tokens.bob)).json()[0]["id"] == ids[4]


def test_the_page_is_chosen_through_an_index(database: Database) -> None:
    """The plan of the page's subquery uses the list's indexes (no full scan and sort of the submissions)."""
    plans = {
        "": "ix_submissions_created",
        "WHERE status = 'done'": "ix_submissions_status_created",
        "WHERE user_id = 'u'": "ix_submissions_user_created",
    }
    with database.engine.begin() as conn:
        if not database.sqlite:  # PostgreSQL plans by statistics: a class of 200 students with 10 submissions each
            users = (
                "INSERT INTO users (id, name, role, token_hash, created_at) "
                "SELECT 'u' || i, 'u' || i, 'student', md5(i::text), now() FROM generate_series(1, 200) i"
            )
            submissions = (
                "INSERT INTO submissions (id, user_id, created_at, status, files) "
                "SELECT 's' || i, 'u' || (i % 200 + 1), now() - i * interval '1 minute', "
                "(ARRAY['done', 'error', 'queued'])[i % 3 + 1], '[]' FROM generate_series(1, 2000) i"
            )
            conn.execute(text(users))
            conn.execute(text(submissions))
            conn.execute(text("ANALYZE submissions"))
        for where, index in plans.items():
            query = f"SELECT id FROM submissions {where} ORDER BY created_at DESC, id DESC LIMIT 100 OFFSET 100"
            explain = "EXPLAIN QUERY PLAN " if database.sqlite else "EXPLAIN "
            plan = " ".join(str(row[-1]) for row in conn.execute(text(explain + query.replace("'u'", "'u7'"))))
            assert index in plan, (where, plan)
