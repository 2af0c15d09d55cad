"""Counting the SQL statements a piece of code sends (every engine: the app's and the tests'), to show that a
list view takes as many statements for many rows as for a few (no query per row)."""

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def counting() -> Iterator[list[str]]:
    """The statements sent inside the block, in order."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001, ANN002
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def statements_of_get(client: TestClient, path: str, headers: dict[str, str]) -> int:
    """How many statements ``GET path`` sends, once warm (the token cache filled by a first call)."""
    assert client.get(path, headers=headers).status_code == 200, path
    with counting() as statements:
        answer = client.get(path, headers=headers)
    assert answer.status_code == 200, (path, answer.text[:500])
    return len(statements)
