"""Roster CLI: one token per student, printed once, stored as sha256; instructors get their own."""

import csv
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from service.config import Settings
from service.db import Database
from service.models import User

ROOT = Path(__file__).resolve().parents[2]


def roster(var_dir: Path, *args: str) -> list[dict[str, str]]:
    env = {**os.environ, "VITGRADE_VAR_DIR": str(var_dir)}
    out = subprocess.run(
        [sys.executable, "-m", "service.roster", *args], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    return list(csv.DictReader(io.StringIO(out.stdout)))


def test_add_import_and_instructor(tmp_path: Path) -> None:
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
