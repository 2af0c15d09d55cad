"""One settings object: the grader's settings nested in the service's, read from one set of documented variables."""

import os
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from grader.settings import ENV_PREFIX, GraderSettings
from service.config import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


def test_flat_variables_reach_the_grader_alone_and_inside_the_service(monkeypatch, tmp_path):
    monkeypatch.setenv("VITGRADE_DEVICE", "CUDA:1")
    monkeypatch.setenv("VITGRADE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("VITGRADE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VITGRADE_SANDBOX_UID_BASE", "61000")
    monkeypatch.setenv("VITGRADE_SANDBOX_HIDE", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    monkeypatch.setenv("VITGRADE_LIMITS", '{"request_timeout_s": 7}')
    monkeypatch.setenv("VITGRADE_TIMING__REQUEST_FLOOR_S", "3")
    alone, nested = GraderSettings(), Settings().grader
    assert alone.model_dump() == nested.model_dump()
    assert nested.device == "cuda:1" and nested.sandbox_uid_base == 61000
    assert nested.cache_dir == tmp_path / "cache" and nested.data_dir == tmp_path / "data"
    assert nested.sandbox_hide == [tmp_path / "a", tmp_path / "b"]
    assert nested.limits.request_timeout_s == 7 and nested.limits.cpu_seconds == 1800
    assert nested.timing.request_floor_s == 3
    assert nested.hidden_paths() == [tmp_path / "cache", tmp_path / "data", tmp_path / "a", tmp_path / "b"]


def test_nested_variables_win_over_flat_ones_and_merge_with_them(monkeypatch, tmp_path):
    monkeypatch.setenv("VITGRADE_DEVICE", "cuda")
    monkeypatch.setenv("VITGRADE_GRADER__DEVICE", "cpu")
    monkeypatch.setenv("VITGRADE_CACHE_DIR", str(tmp_path))  # only in the flat form: must survive the nested one
    monkeypatch.setenv("VITGRADE_LIMITS__REQUEST_TIMEOUT_S", "7")
    monkeypatch.setenv("VITGRADE_GRADER__LIMITS__CPU_SECONDS", "33")
    for settings in (GraderSettings(), Settings().grader):
        assert settings.device == "cpu" and settings.cache_dir == tmp_path
        assert (settings.limits.request_timeout_s, settings.limits.cpu_seconds) == (7, 33)


def test_arguments_in_code_win_over_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("VITGRADE_GRADER__DEVICE", "cuda")
    monkeypatch.setenv("VITGRADE_CACHE_DIR", str(tmp_path))
    settings = Settings(grader={"device": "cpu"})
    assert settings.grader.device == "cpu" and settings.grader.cache_dir == tmp_path
    given = GraderSettings(device="cpu", cache_dir=tmp_path / "x")
    assert Settings(grader=given).grader is given


def test_worker_slots_come_from_the_one_device_variable(monkeypatch):
    monkeypatch.setenv("VITGRADE_DEVICE", "cuda:1")
    monkeypatch.setenv("VITGRADE_WORKER_CONCURRENCY", "2")
    assert Settings().slot_devices == ["cuda:1", "cuda:1"]
    monkeypatch.setenv("VITGRADE_DEVICES", "cuda:0, cuda:1")
    assert Settings().slot_devices == ["cuda:0", "cuda:1"]
    assert "device" not in Settings.model_fields  # no second, unrelated device field


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("VITGRADE_DEVICE", "gpu0", "expected cpu, cuda, cuda:N"),
        ("VITGRADE_SANDBOX_UID_BASE", "0", "greater than"),
        ("VITGRADE_DEVICES", "cuda:0,tpu", "expected cpu, cuda, cuda:N"),
    ],
)
def test_a_bad_value_stops_the_start_and_says_why(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    builds = (Settings,) if name == "VITGRADE_DEVICES" else (GraderSettings, Settings)
    for build in builds:
        with pytest.raises(ValidationError, match=expected):
            build()


# --- environment reads ------------------------------------------------------------------------------------

READS = re.compile(r"os\.environ\.get\(|os\.getenv\(|os\.environ\[|environ\.get\(|getenv\(")
ALLOWED_READS = {
    "grader/sandbox/process.py": "the child-environment builder: which GPUs this process may hand on",
}


def test_no_environment_read_outside_the_settings_modules():
    """Settings are read in grader/settings.py and service/config.py (pydantic-settings), nowhere else."""
    found = {}
    for package in ("grader", "service"):
        for path in (ROOT / package).rglob("*.py"):
            relative = str(path.relative_to(ROOT))
            hits = [n for n, line in enumerate(path.read_text().splitlines(), 1) if READS.search(line)]
            if hits:
                found[relative] = hits
    assert set(ALLOWED_READS) <= set(found), "the pattern no longer finds the one allowed read: fix the test"
    assert set(found) <= set(ALLOWED_READS), {k: v for k, v in found.items() if k not in ALLOWED_READS}


def test_the_worker_command_line_device_replaces_the_one_device_setting(monkeypatch, tmp_path):
    import service.worker as worker_module

    monkeypatch.setenv("VITGRADE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("VITGRADE_DEVICE", "cpu")
    monkeypatch.setenv("VITGRADE_WORKER_NICE", "0")  # never renice the test process
    monkeypatch.setattr(worker_module.signal, "signal", lambda *args: None)  # keep pytest's own handlers
    monkeypatch.setattr(worker_module.logs, "configure", lambda level: None)
    seen = {}

    class Recording:
        def __init__(self, settings, database):  # noqa: ANN001
            seen["settings"] = settings
            self.stop = None

        def run(self) -> None:
            pass

    monkeypatch.setattr(worker_module, "Worker", Recording)
    worker_module.get_settings.cache_clear()
    try:
        worker_module.main(["--device", "CUDA:1", "--concurrency", "2"])
    finally:
        worker_module.get_settings.cache_clear()
    assert seen["settings"].grader.device == "cuda:1"
    assert seen["settings"].slot_devices == ["cuda:1", "cuda:1"]
