"""Bad requests on both backends: each gets the right 4xx and a message, and the service keeps working."""

import io
import stat
import zipfile

import pytest
from conftest import Tokens
from fastapi.testclient import TestClient

from service.config import Settings

MODULE = b"import torch\n"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Small caps so that oversize cases stay small; a rate limit of 3 per minute."""
    return settings.model_copy(
        update={"max_file_bytes": 8000, "max_request_bytes": 12000, "max_files": 3, "rate_limit_count": 3}
    )


def zip_bytes(*members: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info, data)
    return buffer.getvalue()


def symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def post(client: TestClient, token: str | None, files: list[tuple[str, bytes]], field: str = "files"):  # noqa: ANN201
    headers = Tokens.header(token) if token else {}
    return client.post(
        "/api/v1/submissions", files=[(field, (n, d, "application/octet-stream")) for n, d in files], headers=headers
    )


BOMB = zip_bytes(("vit.py", b"\0" * 3_000_000))


@pytest.mark.parametrize(
    ("case", "files", "status", "words"),
    [
        ("oversized file", [("vit.py", b"x" * 8001)], 413, "too large"),
        ("oversized request", [("a.py", b"x" * 4500), ("b.md", b"y" * 4500), ("c.md", b"z" * 4500)], 413, "in all"),
        ("too many files", [(f"{i}.md", b"# a\n") for i in range(4)], 413, "Too many files"),
        ("wrong extension", [("vit.exe", b"MZ...")], 415, "unsupported file type"),
        ("no extension", [("Makefile", b"all:\n")], 415, "unsupported file type"),
        ("binary .py", [("vit.py", b"import torch\x00\x01")], 415, "binary"),
        ("empty file", [("vit.py", b"")], 422, "empty"),
        ("blank file", [("answers.md", b"  \n\n")], 422, "empty"),
        ("zip bomb", [("sub.zip", BOMB)], 422, "zip bomb"),
        ("dot-dot zip name", [("sub.zip", zip_bytes(("../../etc/cron.d/x.py", MODULE)))], 422, "'..'"),
        ("absolute zip name", [("sub.zip", zip_bytes(("/etc/passwd.py", MODULE)))], 422, "absolute"),
        ("symlink in zip", [("sub.zip", zip_bytes((symlink_info("vit.py"), b"/etc/passwd")))], 422, "symbolic link"),
        ("too many zip entries", [("sub.zip", zip_bytes(*[(f"f{i}.md", b"") for i in range(65)]))], 422, "entries"),
        ("not a zip", [("sub.zip", b"PK\x03\x04 this is not really a zip")], 422, "not a valid zip"),
    ],
)
def test_bad_upload_is_refused_with_a_message(
    client: TestClient, tokens: Tokens, case: str, files: list, status: int, words: str
) -> None:
    answer = post(client, tokens.alice, files)
    assert answer.status_code == status, (case, answer.text)
    assert words.lower() in answer.json()["detail"].lower(), (case, answer.json())
    assert post(client, tokens.bob, [("vit.py", MODULE)]).status_code == 202  # still working


def test_no_files_and_wrong_field(client: TestClient, tokens: Tokens) -> None:
    empty = client.post("/api/v1/submissions", headers=Tokens.header(tokens.alice), data={"note": "hi"})
    assert empty.status_code == 422 and "No files" in empty.json()["detail"]
    wrong = post(client, tokens.alice, [("vit.py", MODULE)], field="file")
    assert wrong.status_code == 422 and "No files" in wrong.json()["detail"]


def test_broken_multipart_is_400(client: TestClient, tokens: Tokens) -> None:
    answer = client.post(
        "/api/v1/submissions",
        content=b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.py"\r\n\r\nimport',
        headers={**Tokens.header(tokens.alice), "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert answer.status_code in (400, 422) and answer.json()["detail"]
    assert post(client, tokens.alice, [("vit.py", MODULE)]).status_code == 202


def test_declared_body_too_large_is_413_before_reading(client: TestClient, tokens: Tokens) -> None:
    answer = client.post(
        "/api/v1/submissions",
        content=b"x" * 100,
        headers={**Tokens.header(tokens.alice), "Content-Type": "multipart/form-data; boundary=b",
                 "Content-Length": str(10**9)},
    )  # fmt: skip
    assert answer.status_code == 413 and "Request too large" in answer.json()["detail"]


def test_streamed_body_too_large_is_413(client: TestClient, tokens: Tokens) -> None:
    def chunks():  # noqa: ANN202 - no Content-Length: the middleware counts as it streams
        for _ in range(60):
            yield b"x" * 4096

    answer = client.post(
        "/api/v1/submissions",
        content=chunks(),
        headers={**Tokens.header(tokens.alice), "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert answer.status_code == 413


@pytest.mark.parametrize(
    ("headers", "words"),
    [({}, "Missing token"), ({"Authorization": "Bearer nope"}, "Invalid token"), ({"Authorization": "Basic x"}, "")],
)
def test_missing_or_bad_token_is_401(client: TestClient, headers: dict, words: str) -> None:
    for method, path in (("post", "/api/v1/submissions"), ("get", "/api/v1/submissions"), ("get", "/api/v1/me")):
        answer = getattr(client, method)(path, headers=headers)
        assert answer.status_code == 401, (method, path)
        assert words in answer.json()["detail"]
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_unknown_and_foreign_ids_are_404(client: TestClient, tokens: Tokens) -> None:
    alice = post(client, tokens.alice, [("vit.py", MODULE)]).json()["id"]
    for token, sid in (
        (tokens.bob, alice),
        (tokens.alice, "00000000-0000-4000-8000-000000000000"),
        (tokens.alice, "x"),
    ):
        answer = client.get(f"/api/v1/submissions/{sid}", headers=Tokens.header(token))
        assert answer.status_code == 404 and answer.json()["detail"]


def test_student_on_instructor_routes_is_403(client: TestClient, tokens: Tokens) -> None:
    for method, path in (
        ("get", "/api/v1/instructor/submissions"),
        ("get", "/api/v1/instructor/grades.csv"),
        ("get", "/api/v1/instructor/stats"),
        ("post", "/api/v1/instructor/regrade-all"),
        ("post", "/api/v1/instructor/submissions/x/regrade"),
    ):
        answer = getattr(client, method)(path, headers=Tokens.header(tokens.alice))
        assert answer.status_code == 403 and "Instructors only" in answer.json()["detail"], path


def test_bad_query_parameter_is_422(client: TestClient, tokens: Tokens) -> None:
    answer = client.get("/api/v1/instructor/submissions?since=yesterday", headers=Tokens.header(tokens.instructor))
    assert answer.status_code == 422 and "since" in answer.json()["detail"]


def test_rate_limit_is_429_with_retry_after(client: TestClient, tokens: Tokens) -> None:
    for _ in range(3):
        assert post(client, tokens.alice, [("vit.py", MODULE)]).status_code == 202
    limited = post(client, tokens.alice, [("vit.py", MODULE)])
    assert limited.status_code == 429 and "Rate limit" in limited.json()["detail"]
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert post(client, tokens.bob, [("vit.py", MODULE)]).status_code == 202  # per student
