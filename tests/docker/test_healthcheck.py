"""docker/healthcheck.py: the role the entrypoint recorded decides what "healthy" means."""

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEALTHCHECK = ROOT / "docker" / "healthcheck.py"


def check(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), *args], capture_output=True, text=True, env=full_env, timeout=60
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_role_is_healthy(tmp_path: Path) -> None:
    result = check(tmp_path)
    assert result.returncode == 0 and "no long-running role" in result.stdout


def test_serve_without_a_server_is_unhealthy(tmp_path: Path) -> None:
    (tmp_path / "vitgrade-role").write_text("serve\n")
    result = check(tmp_path, VITGRADE_PORT=str(free_port()))
    assert result.returncode == 1 and "unhealthy" in result.stdout


def test_worker_without_database_is_unhealthy(tmp_path: Path) -> None:
    result = check(tmp_path, "worker", VITGRADE_VAR_DIR=str(tmp_path / "var"), VITGRADE_DATABASE_URL="")
    assert result.returncode == 1 and result.stdout.startswith("unhealthy: database"), result.stderr


def test_worker_without_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    env = {**os.environ, "VITGRADE_VAR_DIR": str(tmp_path / "var"), "VITGRADE_DATABASE_URL": ""}
    migrated = subprocess.run([sys.executable, "-m", "service.migrate"], capture_output=True, env=env, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    result = check(tmp_path, "worker", VITGRADE_VAR_DIR=str(tmp_path / "var"), VITGRADE_DATABASE_URL="")
    assert result.returncode == 1 and "no running worker row" in result.stdout, result.stderr
