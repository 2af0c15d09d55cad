"""The sandbox's uid range and hidden directories come from the grader's settings, handed down when a grade
starts a sandbox (never read from the environment when the sandbox module is imported)."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from grader.sandbox import Sandbox, SandboxLimits
from grader.sandbox.process import SandboxSlot, default_hidden_paths, plan_for
from grader.settings import GraderSettings

ROOT = Path(__file__).resolve().parents[3]
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="the uid drop and the mount namespace need root")
LIMITS = SandboxLimits(request_timeout_s=60, start_timeout_s=300)
PROBE = """
import os, torch

def exists(path):
    return torch.tensor([int(os.path.exists(path))])
"""


def test_hidden_paths_and_uid_base_follow_the_settings(tmp_path):
    settings = GraderSettings(
        cache_dir=tmp_path / "cache",
        data_dir=tmp_path / "data",
        sandbox_hide=[tmp_path / "keys"],
        sandbox_uid_base=62000,
    )
    box = Sandbox("x = 1", **settings.sandbox_placement())
    assert box.uid_base == 62000
    wanted = {str((tmp_path / name).resolve()) for name in ("cache", "data", "keys")}
    assert wanted <= set(box.hidden)
    assert {str(ROOT), str(Path.home().resolve())} <= set(box.hidden)  # always, whatever the settings say
    assert set(default_hidden_paths()) <= set(box.hidden)
    masked = plan_for("root", str(tmp_path), None, LIMITS, "cpu", None, box.hidden)
    assert wanted <= set(masked.hidden)
    assert plan_for("uid", str(tmp_path), None, LIMITS, "cpu", None, box.hidden).hidden == []  # no mount namespace


def test_a_sandbox_built_without_settings_reads_them_when_built(monkeypatch, tmp_path):
    monkeypatch.setenv("VITGRADE_CACHE_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("VITGRADE_SANDBOX_UID_BASE", "63000")
    box = Sandbox("x = 1")
    assert box.uid_base == 63000 and str((tmp_path / "elsewhere").resolve()) in box.hidden
    monkeypatch.setenv("VITGRADE_SANDBOX_UID_BASE", "64000")  # read per sandbox, not once at import
    assert Sandbox("x = 1").uid_base == 64000


@ROOT_ONLY
def test_slot_uid_is_the_configured_base_plus_the_slot():
    slot = SandboxSlot(uid_base=62000)
    try:
        assert slot.uid == slot.gid == 62000 + slot.number
    finally:
        slot.release()


@pytest.fixture
def visible_secret():
    """A directory the child would see (under /etc, which every level leaves visible) holding a secret file."""
    folder = Path(tempfile.mkdtemp(prefix="vitgrade-placement-", dir="/etc"))
    folder.chmod(0o755)  # readable by the sandbox uid: only the mask may hide it
    (folder / "secret.txt").write_text("answer key")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _sees(box: Sandbox, path: Path) -> bool:
    assert box.import_error is None, box.import_error
    return bool(box.request("call", {"name": "exists", "args": [str(path)]}).tensors["output"].item())


@ROOT_ONLY
def test_a_configured_cache_dir_is_hidden_from_the_child_wherever_it_is(monkeypatch, visible_secret):
    """Hostile: a cache dir set with VITGRADE_CACHE_DIR outside the default place used to stay readable by the
    child (only the default ~/.cache/vitgrade was masked)."""
    with Sandbox(PROBE, limits=LIMITS, isolation_level="root", hide=[]) as box:
        assert _sees(box, visible_secret / "secret.txt")  # the control: without the mask, the child reads it
    monkeypatch.setenv("VITGRADE_CACHE_DIR", str(visible_secret))
    with Sandbox(PROBE, limits=LIMITS, isolation_level="root") as box:
        assert not _sees(box, visible_secret / "secret.txt")
    placement = GraderSettings(cache_dir=visible_secret).sandbox_placement()
    monkeypatch.delenv("VITGRADE_CACHE_DIR")
    with Sandbox(PROBE, limits=LIMITS, isolation_level="root", **placement) as box:
        assert not _sees(box, visible_secret / "secret.txt")


def test_every_sandbox_of_a_grade_is_placed_by_the_grade_settings(monkeypatch, tmp_path):
    """The grade's settings reach each sandbox it starts: the reference's timing child and the submission's."""
    import grader.sandbox
    from grader.api import grade_files

    placed = []

    class Recording(grader.sandbox.Sandbox):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            placed.append((self.uid_base, set(self.hidden)))

    monkeypatch.setattr(grader.sandbox, "Sandbox", Recording)
    from reference.bundle import bundle_submission

    module = tmp_path / "vit.py"
    module.write_text(bundle_submission())  # the reference as one self-contained module
    settings = GraderSettings(sandbox_uid_base=62000, sandbox_hide=[tmp_path / "keys"], limits=LIMITS)
    report = grade_files([module], device="cpu", select=["q1.shape"], settings=settings)
    assert report.succeeded and report.score == report.max_score > 0, report.message
    assert len(placed) >= 2  # timing the reference, then the submission
    assert all(uid == 62000 and str((tmp_path / "keys").resolve()) in hidden for uid, hidden in placed), placed
