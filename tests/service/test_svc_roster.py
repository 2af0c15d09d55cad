"""Roster CLI: one token per student, printed once, stored as sha256; instructors get their own."""

import csv
import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from service.config import Settings, get_settings
from service.db import Database
from service.models import User
from service.roster import main


@pytest.fixture
def roster(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):  # noqa: ANN201
    """``python -m service.roster ARGS`` (in-process), returning the CSV it prints."""

    def run(var_dir: Path, *args: str) -> list[dict[str, str]]:
        monkeypatch.setenv("VITGRADE_VAR_DIR", str(var_dir))
        get_settings.cache_clear()
        capsys.readouterr()
        assert main(list(args)) == 0
        get_settings.cache_clear()
        return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))

    return run


def test_add_import_and_instructor(tmp_path: Path, roster) -> None:  # noqa: ANN001
    var = tmp_path / "var"
    added = roster(var, "add", "alice", "bob")
    roster_csv = tmp_path / "roster.csv"
    roster_csv.write_text("student,email\ncarol,c@example.org\ndave,d@example.org\n")
    imported = roster(var, "import", str(roster_csv))
    teacher = roster(var, "instructor", "prof")
    assert [r["name"] for r in added + imported] == ["alice", "bob", "carol", "dave"]
    assert teacher[0]["role"] == "instructor" and teacher[0]["token"].startswith("vgi_")
    tokens = [r["token"] for r in added + imported + teacher]
    assert len(set(tokens)) == 5 and all(len(t) > 40 for t in tokens)
    database = Database(Settings(var_dir=var))
    with database.session() as session:
        stored = {u.name: u.token_hash for u in session.scalars(select(User))}
    database.dispose()
    assert stored["alice"] == hashlib.sha256(added[0]["token"].encode()).hexdigest()
    assert not any(t in stored.values() for t in tokens)  # only hashes are stored
    rotated = roster(var, "add", "alice")
    assert rotated[0]["token"] != added[0]["token"]
