"""The image carries Q7's reference baseline and Q8's checkpoint: a fresh container's grade computes neither.

Run with ``pytest -m docker tests/docker/test_baked_cache.py``. ``IMAGE`` names the image to test (default
``vitgrade:smoke``, built here like docker/smoke-test.sh does when it is missing; ``BASE_IMAGE`` as there).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("IMAGE", "vitgrade:smoke")
pytestmark = pytest.mark.docker

# Grades in the container, then lists on stderr every regular file of the cache: the entrypoint only links the
# baked files, so a file here is one the grade computed (a baseline trained again, a checkpoint made again).
GRADE_AND_LIST = """
/opt/vitgrade/docker/entrypoint.sh grade /submission --select q7.accuracy 'q8.*' --format json || exit $?
cd "$VITGRADE_CACHE_DIR" && find . -type f ! -name '*.partial' -printf 'computed %P\\n' >&2
find . -type l -printf 'linked %P\\n' >&2
"""


def docker(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


def docker_available() -> bool:
    return shutil.which("docker") is not None and docker("info", timeout=30).returncode == 0


@pytest.fixture(scope="module")
def image() -> str:
    if docker("image", "inspect", IMAGE, timeout=30).returncode != 0:
        base = os.environ.get("BASE_IMAGE") or (
            "vitgrade-base:bookworm"
            if docker("image", "inspect", "vitgrade-base:bookworm", timeout=30).returncode == 0
            else "python:3.11-slim"
        )
        build = ["build", "-f", "docker/Dockerfile", "--network", "host", "--build-arg", f"BASE_IMAGE={base}"]
        result = subprocess.run(
            ["docker", *build, "--build-arg", "MNIST=bundled", "-t", IMAGE, "."],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return IMAGE


@pytest.fixture(scope="module")
def reference_dir(tmp_path_factory: pytest.TempPathFactory, image: str) -> Path:
    folder = tmp_path_factory.mktemp("reference")
    bundle = docker("run", "--rm", "--network", "none", image, "python", "-m", "reference.bundle")
    assert bundle.returncode == 0, bundle.stderr
    (folder / "vit.py").write_text(bundle.stdout)
    folder.chmod(0o755)
    (folder / "vit.py").chmod(0o644)
    return folder


def manifest(image: str) -> dict:
    result = docker("run", "--rm", "--network", "none", image, "shell", "-c", "cat /opt/vitgrade/baked.json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(not docker_available(), reason="no Docker engine answers `docker info`")
def test_baked_keys_are_the_graders(image: str) -> None:
    result = docker("run", "--rm", "--network", "none", image, "bake", "--check", "--into", "/opt/vitgrade/cache")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("current cpu/bundled/seed 0 ") for line in lines), lines
    assert sum(line.startswith("current q8 ") for line in lines) == 2, lines


@pytest.mark.skipif(not docker_available(), reason="no Docker engine answers `docker info`")
@pytest.mark.parametrize("user", [[], ["--user", "0:0", "--group-add", "10001"]], ids=["vitgrade", "root"])
def test_ci_form_trains_no_baseline(image: str, reference_dir: Path, user: list[str]) -> None:
    baked = {(entry["device"], entry["data_profile"], entry["seed"]): entry for entry in manifest(image)["baselines"]}
    mount = ["-v", f"{reference_dir}:/submission:ro"]
    result = docker("run", "--rm", "--network", "none", *user, *mount, image, "shell", "-c", GRADE_AND_LIST)
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout)
    computed = [line for line in result.stderr.splitlines() if line.startswith("computed ")]
    linked = [line for line in result.stderr.splitlines() if line.startswith("linked ")]
    assert computed == [], f"the grade computed what the image should carry: {computed}"
    assert any(line.startswith("linked baseline/") for line in linked), linked
    assert sum(line.startswith("linked q8/") for line in linked) == 2, linked
    checks = {check["id"]: check for check in report["checks"]}
    assert all(check["score"] == check["max_score"] for check in checks.values()), checks
    environment = report["environment"]
    entry = baked[(environment["device"], environment["data_profile"], environment["seed"])]
    assert checks["q7.accuracy"]["details"]["reference_accuracy"] == entry["reference_accuracy"]
    assert environment["suite_sha256"] == entry["suite_sha256"]
