"""The container smoke test (issue 5 item 4): ``docker/smoke-test.sh`` against a real Docker engine.

Run with ``pytest -m docker tests/docker/test_smoke.py``. ``BASE_IMAGE`` picks the base of the build
(``vitgrade-base:bookworm`` from ``docker/build-local-base.sh`` on machines without Docker Hub);
``SKIP_BUILD=1 IMAGE=...`` reuses an image.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.docker


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


def default_base() -> dict[str, str]:
    """Build on the local base (docker/build-local-base.sh) when it exists and no BASE_IMAGE is set."""
    if "BASE_IMAGE" in os.environ:
        return {}
    local = "vitgrade-base:bookworm"
    found = subprocess.run(["docker", "image", "inspect", local], capture_output=True, timeout=30).returncode == 0
    return {"BASE_IMAGE": local} if found else {}


@pytest.mark.skipif(not docker_available(), reason="no Docker engine answers `docker info`")
def test_smoke() -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "docker" / "smoke-test.sh")],
        capture_output=True,
        text=True,
        timeout=60 * 60,
        env={**os.environ, **default_base()},
    )
    assert result.returncode == 0, result.stderr[-6000:]
    assert "PASS" in result.stderr
