"""``GET /student-kit/`` says how to install the kit; ``GET /student-kit/<wheel>`` serves it, built once."""

import subprocess
import sys
import zipfile
from io import BytesIO

import httpx
import pytest
from fastapi.testclient import TestClient
from served_support import served_service

import service.student_kit
from grader.student_kit import wheel as kit_wheel_module
from service.app import create_app
from service.config import Settings


@pytest.fixture
def client(tmp_path, kit_fixtures_path, monkeypatch):
    built = []

    def build_with_the_session_fixtures(out_dir, seed):  # the real wheel, on the fixtures built once per session
        built.append(seed)
        return kit_wheel_module.build_wheel(out_dir, seed, fixtures=kit_fixtures_path)

    monkeypatch.setattr(service.student_kit, "_build", build_with_the_session_fixtures)
    with TestClient(create_app(Settings(var_dir=tmp_path / "var"))) as test_client:
        test_client.built = built
        yield test_client


def test_the_page_gives_the_install_command_and_the_wheel_installs(client):
    described = client.get("/student-kit/").json()
    name = kit_wheel_module.wheel_name()
    assert described["wheel"].endswith(f"/student-kit/{name}")
    assert described["install"] == f"pip install {described['wheel']}"
    answer = client.get(f"/student-kit/{name}")
    assert answer.status_code == 200
    with zipfile.ZipFile(BytesIO(answer.content)) as archive:
        assert "vitgrade_student/data/fixtures.safetensors" in archive.namelist()
        assert archive.testzip() is None
    assert client.get(f"/student-kit/{name}").content == answer.content
    assert len(client.built) == 1  # built once, then served from the var dir
    assert client.built[0] != client.app.state.settings.seed


def test_an_unknown_kit_name_is_a_404(client):
    answer = client.get("/student-kit/reference-0.1.0-py3-none-any.whl")
    assert answer.status_code == 404 and "vitgrade_student" in answer.json()["detail"]
    assert client.built == []


def test_pip_installs_the_kit_from_the_services_address(tmp_path, kit_fixtures_path, monkeypatch):
    """The one command students run: ``pip install <service>/student-kit/<wheel>`` over HTTP."""
    monkeypatch.setattr(
        service.student_kit, "_build", lambda out, seed: kit_wheel_module.build_wheel(out, seed, kit_fixtures_path)
    )
    with served_service(tmp_path / "var") as served:
        pip, verb, url = httpx.get(f"{served.url}/student-kit/").json()["install"].split()
        assert (pip, verb) == ("pip", "install")
        offline = ["--no-deps", "--no-index", "--target", str(tmp_path / "site")]  # the dependencies are here
        command = [sys.executable, "-m", pip, verb, *offline, url]
        run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, (command, run.stdout[-2000:], run.stderr[-2000:])
    assert (tmp_path / "site" / "vitgrade_student" / "data" / "fixtures.safetensors").is_file()
