"""Hostile requests at the service's edges: huge integers, long names, formulas in names, non-JSON errors.

Each test was written against the service before its fix and failed there: ``offset=2**63`` answered
500, a 253-character name (503 UTF-8 bytes) was accepted and then failed its job three times, a name
starting with ``=`` went unchanged into grades.csv, and an unexpected exception answered plain text.
"""

import contextlib
import csv
import io
import json
import select
import socket
import time
from pathlib import Path

import httpx
import pytest
from conftest import LiveService, Tokens
from fastapi.testclient import TestClient

from service.config import Settings
from service.db import Database
from service.models import Role, Submission
from service.roster import issue_tokens
from service.worker import Worker

MODULE = b"import torch\n"
HUGE = [str(2**63), "9" * 40, "-1", str(-(2**63) - 1)]


def post(client: TestClient, token: str, name: str, data: bytes = MODULE):  # noqa: ANN201
    return client.post(
        "/api/v1/submissions", files=[("files", (name, data, "text/plain"))], headers=Tokens.header(token)
    )


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/api/v1/submissions?offset={}", "alice"),
        ("/api/v1/submissions?limit={}", "alice"),
        ("/api/v1/instructor/submissions?offset={}", "instructor"),
        ("/api/v1/instructor/submissions?limit={}", "instructor"),
    ],
)
def test_out_of_range_integers_are_422_with_the_bound(
    client: TestClient, tokens: Tokens, path: str, who: str, value: str
) -> None:
    answer = client.get(path.format(value), headers=Tokens.header(getattr(tokens, who)))
    assert answer.status_code == 422, (path, value, answer.status_code, answer.text[:200])
    detail = answer.json()["detail"]
    parameter = path.split("?")[1].split("=")[0]
    assert parameter in detail and ("less than" in detail or "greater than" in detail), detail
    assert client.get("/api/v1/submissions", headers=Tokens.header(tokens.alice)).status_code == 200


def test_integers_in_range_still_page(client: TestClient, tokens: Tokens) -> None:
    ids = [post(client, tokens.alice, "vit.py").json()["id"] for _ in range(3)]
    page = client.get("/api/v1/submissions?limit=2&offset=1", headers=Tokens.header(tokens.alice)).json()
    assert [s["id"] for s in page] == ids[::-1][1:3]


@pytest.mark.parametrize(
    "name",
    [
        "é" * 248 + ".py",  # 253 characters, 499 UTF-8 bytes: over any file system's NAME_MAX
        "日" * 84 + ".py",  # 87 characters (under the character cap), 255 bytes: over the byte cap
        "a" * 252 + ".py",  # 255 bytes of ASCII: over the byte cap
    ],
    ids=["253-chars-499-bytes", "87-chars-255-bytes", "255-ascii"],
)
def test_file_name_over_the_byte_cap_is_refused_before_queueing(client: TestClient, tokens: Tokens, name: str) -> None:
    answer = post(client, tokens.alice, name)
    assert answer.status_code == 422, (len(name), len(name.encode()), answer.text[:200])
    detail = answer.json()["detail"]
    assert "bytes" in detail and str(len(name.encode())) in detail, detail
    assert client.get("/api/v1/submissions", headers=Tokens.header(tokens.alice)).json() == []


def test_long_unicode_name_under_the_cap_is_graded_and_kept_as_metadata(
    client: TestClient, tokens: Tokens, database: Database, settings: Settings
) -> None:
    name = "é" * 90 + ".py"  # 93 characters, 183 bytes: accepted
    sid = post(client, tokens.alice, name).json()["id"]
    seen: list[Path] = []

    def grade(paths, **kwargs):  # noqa: ANN001, ANN003, ANN202 - records what the grader was given
        from test_svc_worker import fake_report

        seen.extend(paths)
        assert all(p.read_bytes() == MODULE for p in paths)
        return fake_report(5)

    Worker(settings, database, grade=grade).run_once()
    done = client.get(f"/api/v1/submissions/{sid}", headers=Tokens.header(tokens.alice)).json()
    assert done["status"] == "done" and done["files"][0]["name"] == name
    assert [p.name for p in seen] == [name]


def test_legacy_row_with_an_unwritable_name_is_graded_under_a_generated_name(
    client: TestClient, tokens: Tokens, database: Database, settings: Settings
) -> None:
    """A row stored before the byte cap (a 499-byte name) no longer fails its job three times."""
    sid = post(client, tokens.alice, "vit.py").json()["id"]
    bad = "é" * 248 + ".py"
    with database.write_session() as session:
        row = session.get(Submission, sid)
        row.files = [{**row.files[0], "name": bad}]
    seen: list[str] = []

    def grade(paths, **kwargs):  # noqa: ANN001, ANN003, ANN202
        from test_svc_worker import fake_report

        seen.extend(p.name for p in paths)
        return fake_report(5)

    Worker(settings, database, grade=grade).run_once()
    done = client.get(f"/api/v1/submissions/{sid}", headers=Tokens.header(tokens.alice)).json()
    assert done["status"] == "done" and done["attempts"] == 1, done
    assert len(seen) == 1 and seen[0].endswith(".py") and len(seen[0].encode()) <= 255


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1", " =1"])
def test_formula_names_are_neutralised_in_grades_csv(
    client: TestClient, tokens: Tokens, database: Database, name: str
) -> None:
    issue_tokens(database, [name], Role.student)
    text = client.get("/api/v1/instructor/grades.csv", headers=Tokens.header(tokens.instructor)).text
    rows = list(csv.reader(io.StringIO(text)))
    cells = [r[0] for r in rows[1:]]
    assert name not in cells, cells
    assert "'" + name in cells, cells
    assert {"alice", "bob"} <= set(cells)  # ordinary names are left alone


def test_unexpected_exception_answers_json_500(settings: Settings, database: Database, tokens: Tokens) -> None:
    from service.app import create_app

    app = create_app(settings)

    def boom() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/api/v1/boom", boom)
    app.router.routes.insert(0, app.router.routes.pop())  # before the page's catch-all mount at "/"

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/boom")
        assert answer.status_code == 500 and answer.headers["content-type"].startswith("application/json")
        assert "secret" not in answer.text and answer.json()["detail"]
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nope", 404),
        ("GET", "/nope.html", 404),
        ("DELETE", "/api/v1/submissions", 405),
        ("PUT", "/api/v1/me", 405),
        ("POST", "/", 405),
        ("GET", "/api/v1/submissions?limit=x", 422),
    ],
)
def test_every_error_body_is_json_detail(
    client: TestClient, tokens: Tokens, method: str, path: str, status: int
) -> None:
    answer = client.request(method, path, headers=Tokens.header(tokens.alice))
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/json")
    assert isinstance(answer.json()["detail"], str) and answer.json()["detail"]


def send_huge_header(port: int, total: int, deadline: float) -> tuple[int, bytes]:
    """Stream a request whose one header grows to ``total`` bytes; stop when the server answers or hangs up."""
    received = b""
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        chunk = b"a" * 65536
        while sent < total and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 0.5)
            try:
                if readable:
                    data = sock.recv(65536)
                    received += data
                    if not data or b"\r\n\r\n" in received:
                        break
                elif writable:
                    sent += sock.send(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.settimeout(3)
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while data := sock.recv(65536):
                received += data
    return sent, received


def test_huge_request_header_is_431_quickly_and_the_server_keeps_serving(tmp_path: Path) -> None:
    service = LiveService(tmp_path / "var")
    try:
        service.start_api()
        started = time.monotonic()
        sent, answer = send_huge_header(service.port, 200 * 2**20, deadline=started + 15)
        elapsed = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 431"), (sent, answer[:300], service.log_tail())
        assert sent < 64 * 2**20, f"{sent} bytes went out before the answer"  # kernel buffers hold a few MiB
        assert elapsed < 5, f"answered after {elapsed:.1f} s"
        detail = json.loads(answer.split(b"\r\n\r\n", 1)[1])["detail"]
        assert "headers too large" in detail and str(32 * 1024) in detail, detail
        read = int(detail.split("large: ")[1].split(" bytes")[0])  # what the server itself read of the head
        assert 32 * 1024 < read <= 32 * 1024 + 256 * 1024, read  # the cap plus at most one read
        assert httpx.get(service.url + "/healthz", timeout=5).status_code == 200
        padded = httpx.get(service.url + "/healthz", headers={"X-Pad": "a" * 16_000}, timeout=5)
        assert padded.status_code == 200  # ordinary large headers (cookies, long tokens) still pass
        upload = httpx.post(service.url + "/api/v1/submissions", content=b"x" * 300_000, timeout=5,
                            headers={"Content-Type": "multipart/form-data; boundary=b"})  # fmt: skip
        assert upload.status_code in (400, 401, 422), upload.text  # a body is never counted as headers (no 431)
    finally:
        service.stop()
