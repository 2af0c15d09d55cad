"""Similarity in the service, on both backends: runs over the class, reviews that survive runs, CSV, CLI."""

import csv
import io
import subprocess
import sys
from pathlib import Path

from conftest import Tokens
from fastapi.testclient import TestClient
from similarity_fixtures import independent_solution, reference_solution, renamed
from test_svc_api import submit

from service.db import Database
from service.models import Role
from service.roster import issue_tokens

REPO = Path(__file__).resolve().parents[2]
ANSWER = (
    "## Q3\nSelf-attention lets every patch look at every other patch of the image, so its receptive field is "
    "global from the first layer, while a convolution mixes a small neighbourhood with shared weights.\n"
)


def class_with_a_copy(client: TestClient, tokens: Tokens, database: Database) -> None:
    carol = issue_tokens(database, ["=carol"], Role.student)["=carol"]
    submit(client, tokens.alice, ("vit.py", reference_solution().encode()), ("answers.md", ANSWER.encode()))
    submit(client, tokens.bob, ("vit.py", renamed(reference_solution()).encode()), ("answers.md", ANSWER.encode()))
    submit(client, carol, ("vit.py", independent_solution().encode()))


def test_a_run_finds_the_copied_pair_and_reviews_survive_a_new_run(
    client: TestClient, tokens: Tokens, database: Database
) -> None:
    class_with_a_copy(client, tokens, database)
    prof = Tokens.header(tokens.instructor)
    created = client.post("/api/v1/instructor/similarity/runs", json={}, headers=prof)
    assert created.status_code == 201, created.text
    run = created.json()
    assert run["created_by"] == "prof" and run["scope"] == "counted" and len(run["template_sha256"]) == 64
    code = client.get(f"/api/v1/instructor/similarity/runs/{run['id']}", headers=prof).json()
    top = code["pairs"][0]
    assert {top["a"], top["b"]} == {"alice", "bob"} and top["similarity"] >= 0.9 and top["review"] is None
    assert all({p["a"], p["b"]} != {"alice", "bob"} or p is top for p in code["pairs"])
    answers = client.get(f"/api/v1/instructor/similarity/runs/{run['id']}?kind=answers", headers=prof).json()
    assert {answers["pairs"][0]["a"], answers["pairs"][0]["b"]} == {"alice", "bob"}

    review = {"kind": "code", "a": "bob", "b": "alice", "status": "to_discuss", "note": "same helper names"}
    assert client.post("/api/v1/instructor/similarity/reviews", json=review, headers=prof).status_code == 201
    again = client.post("/api/v1/instructor/similarity/runs", json={"scope": "all"}, headers=prof).json()
    pairs = client.get(f"/api/v1/instructor/similarity/runs/{again['id']}", headers=prof).json()["pairs"]
    kept = next(p for p in pairs if {p["a"], p["b"]} == {"alice", "bob"})
    assert kept["review"]["status"] == "to_discuss" and kept["review"]["reviewer"] == "prof"
    listed = client.get("/api/v1/instructor/similarity/runs", headers=prof).json()
    assert [r["id"] for r in listed] == [again["id"], run["id"]]


def test_csv_export_plain_and_anonymised(client: TestClient, tokens: Tokens, database: Database) -> None:
    class_with_a_copy(client, tokens, database)
    prof = Tokens.header(tokens.instructor)
    run = client.post(
        "/api/v1/instructor/similarity/runs", json={"params": {"report_threshold": 0.0}}, headers=prof
    ).json()
    plain = list(
        csv.reader(
            io.StringIO(client.get(f"/api/v1/instructor/similarity/runs/{run['id']}/pairs.csv", headers=prof).text)
        )
    )
    assert plain[0][:3] == ["student_a", "student_b", "similarity"]
    names = {name for row in plain[1:] for name in row[:2]}
    assert "'=carol" in names and "=carol" not in names  # a formula-looking name is neutralised
    anonymous = client.get(
        f"/api/v1/instructor/similarity/runs/{run['id']}/pairs.csv?anonymise=true", headers=prof
    ).text
    assert "alice" not in anonymous and "bob" not in anonymous and "carol" not in anonymous
    assert anonymous.count("student-") == 2 * (len(plain) - 1)


def test_students_cannot_start_or_read_runs(client: TestClient, tokens: Tokens) -> None:
    alice = Tokens.header(tokens.alice)
    assert client.post("/api/v1/instructor/similarity/runs", json={}, headers=alice).status_code == 403
    assert client.get("/api/v1/instructor/similarity/runs", headers=alice).status_code == 403
    review = {"kind": "code", "a": "alice", "b": "bob", "status": "cleared"}
    assert client.post("/api/v1/instructor/similarity/reviews", json=review, headers=alice).status_code == 403


def test_bad_parameters_and_unknown_runs_are_clear_errors(client: TestClient, tokens: Tokens) -> None:
    prof = Tokens.header(tokens.instructor)
    bad = client.post("/api/v1/instructor/similarity/runs", json={"params": {"code_k": 1}}, headers=prof)
    assert bad.status_code == 422 and "code_k" in bad.json()["detail"]
    assert client.get("/api/v1/instructor/similarity/runs/nope", headers=prof).status_code == 404
    same = {"kind": "code", "a": "bob", "b": "bob", "status": "cleared"}
    assert client.post("/api/v1/instructor/similarity/reviews", json=same, headers=prof).status_code == 422


def test_cli_compares_files_without_a_database(tmp_path: Path) -> None:
    for name, text in (("alice", reference_solution()), ("bob", reference_solution()), ("carol", "def f(:\n")):
        (tmp_path / f"{name}.py").write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "service.similarity", "files", *sorted(map(str, tmp_path.glob("*.py")))],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1.00  alice ~ bob" in done.stdout
    assert "not compared: carol" in done.stdout


def test_an_imported_earlier_term_is_compared_with_the_class(
    client: TestClient,
    tokens: Tokens,
    database: Database,
    settings,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    archive = tmp_path / "term2025"
    (archive / "olga").mkdir(parents=True)
    (archive / "olga" / "vit.py").write_text(reference_solution())
    (archive / "pete.py").write_text(reference_solution())
    env = {
        "PATH": "/usr/bin:/bin",
        "VITGRADE_DATABASE_URL": settings.database_url,
        "VITGRADE_VAR_DIR": str(settings.var_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "service.similarity", "import-archive", "--term", "2025", str(archive)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "imported 2 submissions" in done.stdout
    submit(client, tokens.alice, ("vit.py", renamed(reference_solution()).encode()))
    prof = Tokens.header(tokens.instructor)
    run = client.post("/api/v1/instructor/similarity/runs", json={"include_archive": True}, headers=prof).json()
    pairs = client.get(f"/api/v1/instructor/similarity/runs/{run['id']}", headers=prof).json()["pairs"]
    assert {frozenset((p["a"], p["b"])) for p in pairs} == {
        frozenset({"alice", "2025/olga"}),
        frozenset({"alice", "2025/pete"}),
    }  # two archived submissions are never paired with each other
