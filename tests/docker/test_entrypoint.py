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


@pytest.fixture
def env_stub_path(tmp_path: Path) -> str:
    """A ``python`` that prints the cache dir the grader would get, then its arguments."""
    bin_dir = tmp_path / "envbin"
    bin_dir.mkdir()
    stub = bin_dir / "python"
    stub.write_text(
        '#!/bin/sh\nprintf "cache=%s\\n" "$VITGRADE_CACHE_DIR"\nfor a in "$@"; do printf "%s\\n" "$a"; done\n'
    )
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    return f"{bin_dir}:{os.environ['PATH']}"


def baked_cache(root: Path) -> Path:
    """What the image bakes: a baseline and Q8's two checkpoints."""
    baked = root / "baked"
    (baked / "baseline").mkdir(parents=True)
    (baked / "q8").mkdir()
    (baked / "baseline" / "abc.json").write_text('{"accuracy": 0.74}')
    (baked / "q8" / "ckpt.safetensors").write_bytes(b"weights")
    (baked / "q8" / "ckpt.mnist.safetensors").write_bytes(b"adapted")
    return baked


def run_grade(path: str, cache: Path, baked: Path, *args: str) -> tuple[int, list[str], str]:
    env = {**os.environ, "PATH": path, "TMPDIR": "/tmp", "VITGRADE_DATA_PROFILE": ""}
    env |= {"VITGRADE_CACHE_DIR": str(cache), "VITGRADE_BAKED_CACHE_DIR": str(baked)}
    result = subprocess.run(["bash", str(ENTRYPOINT), "grade", *args], capture_output=True, text=True, env=env)
    return result.returncode, result.stdout.splitlines(), result.stderr


def test_grade_links_the_baked_cache_without_overwriting(tmp_path: Path, env_stub_path: str) -> None:
    baked = baked_cache(tmp_path)
    cache = tmp_path / "cache"
    (cache / "baseline").mkdir(parents=True)
    (cache / "baseline" / "abc.json").write_text("computed here")  # a file of the cache's own is kept
    module = tmp_path / "vit.py"
    module.write_text("x")
    code, out, err = run_grade(env_stub_path, cache, baked, str(module))
    assert code == 0, err
    assert out[:3] == [f"cache={cache}", "-m", "grader"]
    assert (cache / "baseline" / "abc.json").read_text() == "computed here"
    assert not (cache / "baseline" / "abc.json").is_symlink()
    for name in ("ckpt.safetensors", "ckpt.mnist.safetensors"):
        link = cache / "q8" / name
        assert link.is_symlink() and link.resolve() == (baked / "q8" / name).resolve()
    assert (cache / "q8" / "ckpt.safetensors").read_bytes() == b"weights"


def test_links_to_files_no_longer_baked_are_dropped(tmp_path: Path, env_stub_path: str) -> None:
    baked = baked_cache(tmp_path)
    cache = tmp_path / "cache"
    (cache / "baseline").mkdir(parents=True)
    (cache / "baseline" / "old.json").symlink_to(baked / "baseline" / "old.json")  # an older image's key
    elsewhere = tmp_path / "elsewhere.json"
    (cache / "baseline" / "mine.json").symlink_to(elsewhere)  # dangling, but not the image's: kept
    module = tmp_path / "vit.py"
    module.write_text("x")
    code, _, err = run_grade(env_stub_path, cache, baked, str(module))
    assert code == 0, err
    assert not (cache / "baseline" / "old.json").is_symlink()
    assert (cache / "baseline" / "mine.json").is_symlink()
    assert (cache / "baseline" / "abc.json").is_symlink()


def test_unwritable_cache_reads_the_baked_one(tmp_path: Path, env_stub_path: str) -> None:
    baked = baked_cache(tmp_path)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    module = tmp_path / "vit.py"
    module.write_text("x")
    code, out, err = run_grade(env_stub_path, blocker / "cache", baked, str(module))
    assert code == 0, err
    assert out[0] == f"cache={baked}"
    assert "cannot be written" in err
