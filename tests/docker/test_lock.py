"""docker/requirements.lock pins the project's runtime dependencies exactly (issue 5 item 1)."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "docker" / "requirements.lock"


def pins() -> dict[str, str]:
    lines = [line for line in LOCK.read_text().splitlines() if line and not line.startswith("#")]
    return {canonicalize_name(line.split("==")[0]): line.split("==")[1] for line in lines}


def test_every_line_is_an_exact_pin() -> None:
    lines = [line for line in LOCK.read_text().splitlines() if line and not line.startswith("#")]
    assert lines and all(line.count("==") == 1 and ";" not in line for line in lines)


def test_lock_agrees_with_pyproject() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    locked = pins()
    for text in dependencies:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is a dependency but not in the lock"
        assert requirement.specifier.contains(locked[name]), f"{name}: lock {locked[name]} vs {requirement}"
    assert "psycopg-binary" in locked  # psycopg[binary]: extras are followed
    assert "pytest" not in locked and "ruff" not in locked  # dev extras stay out of the image


def test_lock_matches_the_environment() -> None:
    """Regenerate with ``python docker/make_lock.py`` after changing a dependency.

    A direct dependency that differs fails; differences only in transitive packages (a newer release
    picked by a fresh install) are reported as a skip, since the image installs the lock, not the venv.
    """
    result = subprocess.run(
        [sys.executable, str(ROOT / "docker" / "make_lock.py"), "--check"], capture_output=True, text=True
    )
    if result.returncode == 0:
        return
    sys.path.insert(0, str(ROOT / "docker"))
    try:
        import make_lock
    finally:
        sys.path.pop(0)
    current = {line for line in make_lock.render().splitlines() if "==" in line}
    locked = {line for line in LOCK.read_text().splitlines() if "==" in line}
    changed = {canonicalize_name(line.split("==")[0]) for line in current ^ locked}
    direct = {
        canonicalize_name(Requirement(text).name)
        for text in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    assert not changed & direct, f"direct dependencies differ from the lock: {sorted(changed & direct)}"
    pytest.skip(f"only transitive packages differ from the lock: {sorted(changed)}")
