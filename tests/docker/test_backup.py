"""docker/backup.py: ``backup`` then ``restore`` gives back the database and the uploads (instructors.md)."""

import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "docker" / "backup.py"


def run(args: list[str], var_dir: Path, stdin: bytes = b"") -> subprocess.CompletedProcess:
    env = {**os.environ, "VITGRADE_VAR_DIR": str(var_dir), "PYTHONPATH": str(ROOT)}
    env.pop("VITGRADE_DATABASE_URL", None)
    env.pop("VITGRADE_STORAGE_DIR", None)
    return subprocess.run(args, input=stdin, capture_output=True, env=env, timeout=120)


def test_backup_and_restore_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "source"
    added = run([sys.executable, "-m", "service.roster", "add", "alice"], source)
    assert added.returncode == 0, added.stderr
    blob = source / "uploads" / "ab" / "cd" / ("abcd" + "0" * 60)
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"print('hello')\n")

    archived = run([sys.executable, str(BACKUP), "backup"], source)
    assert archived.returncode == 0, archived.stderr
    archive = tmp_path / "backup.tar"
    archive.write_bytes(archived.stdout)
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["uploads/ab/cd/" + blob.name, "vitgrade.sqlite3"]

    target = tmp_path / "target"
    restored = run([sys.executable, str(BACKUP), "restore"], target, stdin=archived.stdout)
    assert restored.returncode == 0, restored.stderr
    assert (target / "uploads" / "ab" / "cd" / blob.name).read_bytes() == b"print('hello')\n"
    listed = run([sys.executable, "-m", "service.roster", "list"], target)
    assert listed.returncode == 0 and b"alice" in listed.stdout

    again = run([sys.executable, str(BACKUP), "restore"], target, stdin=archived.stdout)
    assert again.returncode != 0 and b"--force" in again.stderr


def test_restore_refuses_paths_outside(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar"
    payload = tmp_path / "payload"
    payload.write_text("x")
    with tarfile.open(archive, "w") as tar:
        tar.add(payload, arcname="uploads/../../escape")
    result = run([sys.executable, str(BACKUP), "restore"], tmp_path / "var", stdin=archive.read_bytes())
    assert result.returncode != 0 and b"refusing" in result.stderr
    assert not (tmp_path / "escape").exists()
