"""docker/entrypoint.sh ``grade``: a directory stands for the files the grader should read (issue 5 item 3).

The entrypoint ends in ``exec python -m grader ...``; here ``python`` on PATH is a stub that prints its
arguments, so the test sees exactly what the grader would receive.
"""

import os
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


@pytest.fixture
def stub_path(tmp_path: Path) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "python"
    stub.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    return f"{bin_dir}:{os.environ['PATH']}"


def grade_args(stub_path: str, *args: str, profile: str = "") -> tuple[int, list[str], str]:
    env = {**os.environ, "PATH": stub_path, "TMPDIR": "/tmp", "VITGRADE_DATA_PROFILE": profile}
    result = subprocess.run(["bash", str(ENTRYPOINT), "grade", *args], capture_output=True, text=True, env=env)
    return result.returncode, result.stdout.splitlines(), result.stderr


def test_directory_expands_to_module_and_answers(tmp_path: Path, stub_path: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("vit.py", "answers.md", "README.md", "train.py", "vit_lab.ipynb"):
        (repo / name).write_text("x")
    code, argv, _ = grade_args(stub_path, str(repo), "--format", "junit", "--fail-under", "50")
    assert code == 0
    assert argv == ["-m", "grader", f"{repo}/vit.py", f"{repo}/answers.md", "--format", "junit", "--fail-under", "50"]


def test_directory_with_a_notebook_only(tmp_path: Path, stub_path: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "vit_lab.ipynb").write_text("{}")
    (repo / "notes.txt").write_text("x")
    code, argv, _ = grade_args(stub_path, str(repo))
    assert code == 0 and argv == ["-m", "grader", f"{repo}/vit_lab.ipynb"]


def test_directory_without_the_usual_names_passes_everything(tmp_path: Path, stub_path: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("model.py", "notes.md", "data.csv"):
        (repo / name).write_text("x")
    code, argv, _ = grade_args(stub_path, str(repo))
    assert code == 0 and argv == ["-m", "grader", f"{repo}/model.py", f"{repo}/notes.md"]


def test_empty_directory_is_not_gradable(tmp_path: Path, stub_path: str) -> None:
    code, argv, err = grade_args(stub_path, str(tmp_path))
    assert code == 1 and argv == []
    assert "holds no .py" in err


def test_image_profile_is_the_default_and_can_be_overridden(tmp_path: Path, stub_path: str) -> None:
    module = tmp_path / "vit.py"
    module.write_text("x")
    _, argv, _ = grade_args(stub_path, str(module), profile="full")
    assert argv[-2:] == ["--data-profile", "full"]
    _, argv, _ = grade_args(stub_path, str(module), "--data-profile", "bundled", profile="full")
    assert argv.count("--data-profile") == 1 and argv[-1] == "bundled"


def test_output_directory_argument_is_not_expanded(tmp_path: Path, stub_path: str) -> None:
    module = tmp_path / "vit.py"
    module.write_text("x")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, argv, _ = grade_args(stub_path, str(module), "--output", str(out_dir))
    assert code == 0 and argv[-2:] == ["--output", str(out_dir)]
