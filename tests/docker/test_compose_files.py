"""compose.yaml and compose.cpu.yaml: the worker's security settings, the GPU reservation, and the CPU
variant kept in step with the GPU worker (issue 5 item 2)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_CAPS = {"CHOWN", "DAC_OVERRIDE", "SETUID", "SETGID", "KILL", "SYS_ADMIN"}


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def test_no_version_key_and_named_volumes() -> None:
    compose = load("compose.yaml")
    assert "version" not in compose
    assert {"db", "submissions", "cache"} <= set(compose["volumes"])
    assert "pgdata" not in compose["volumes"]  # PostgreSQL's data is a host folder, made only with its profile
    for name in ("api", "worker"):
        mounts = {entry.split(":")[0]: entry.split(":")[1] for entry in compose["services"][name]["volumes"]}
        assert mounts["db"] == "/var/lib/vitgrade/db"
        assert mounts["submissions"] == "/var/lib/vitgrade/uploads"


def test_worker_reserves_one_nvidia_gpu() -> None:
    devices = load("compose.yaml")["services"]["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]


@pytest.mark.parametrize(("file", "service"), [("compose.yaml", "worker"), ("compose.cpu.yaml", "worker-cpu")])
def test_worker_is_locked_down(file: str, service: str) -> None:
    worker = load(file)["services"][service]
    assert worker["cap_drop"] == ["ALL"]
    assert set(worker["cap_add"]) == SANDBOX_CAPS
    assert "no-new-privileges=true" in worker["security_opt"]
    assert worker["read_only"] is True
    assert any(entry.startswith("/tmp:") for entry in worker["tmpfs"])
    assert worker["mem_limit"] and worker["memswap_limit"] == worker["mem_limit"]
    assert 0 < worker["pids_limit"] <= 4096
    assert "privileged" not in worker
    assert not any("docker.sock" in volume for volume in worker["volumes"])


def test_api_runs_unprivileged() -> None:
    api = load("compose.yaml")["services"]["api"]
    assert "user" not in api  # the image's user: vitgrade
    assert api["cap_drop"] == ["ALL"] and "cap_add" not in api
    assert api["read_only"] is True
    assert api["healthcheck"]["test"][-1] == "serve"


def test_cpu_worker_matches_gpu_worker() -> None:
    """compose.cpu.yaml repeats the worker (compose cannot drop a reservation); only the device differs."""
    gpu = dict(load("compose.yaml")["services"]["worker"])
    cpu_file = load("compose.cpu.yaml")["services"]
    cpu = dict(cpu_file["worker-cpu"])
    assert cpu_file["worker"] == {"profiles": ["gpu"]}
    assert gpu.pop("deploy") and "deploy" not in cpu
    gpu_env, cpu_env = gpu.pop("environment"), cpu.pop("environment")
    assert gpu_env.pop("VITGRADE_DEVICE").endswith("cuda}") and cpu_env.pop("VITGRADE_DEVICE") == "cpu"
    assert gpu_env == cpu_env
    assert gpu == cpu


def test_postgres_is_opt_in() -> None:
    services = load("compose.yaml")["services"]
    assert services["postgres"]["profiles"] == ["postgres"]
    assert all("profiles" not in services[name] for name in ("api", "worker"))


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose (v1) is not installed")
@pytest.mark.parametrize("files", [["compose.yaml"], ["compose.yaml", "compose.cpu.yaml"]])
def test_compose_v1_accepts_the_files(files: list[str]) -> None:
    command = ["docker-compose", "--project-directory", str(ROOT)]
    for name in files:
        command += ["-f", str(ROOT / name)]
    result = subprocess.run([*command, "config", "-q"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
