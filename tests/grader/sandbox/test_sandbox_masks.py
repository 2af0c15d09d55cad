"""The namespaced isolation, applied in a forked process: hidden directories stay hidden whatever the order
of the mounts, and no descriptor the isolation opened survives it."""

import os
from pathlib import Path

import pytest

from grader.sandbox.isolation import IsolationPlan
from grader.sandbox.process import python_paths

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="mount namespaces need CAP_SYS_ADMIN")


def _in_child(plan: IsolationPlan, probe) -> str:
    """Apply ``plan`` in a forked process, then run ``probe()``; its text, or 'fail <error>'."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        report = "fail"
        try:
            os.close(read)
            plan.apply()
            report = probe(write)
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            report = f"fail {error!r}"
        finally:
            os.write(write, report.encode())
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


def _plan(workdir: Path, hidden: list[str], keep: list[str]) -> IsolationPlan:
    return IsolationPlan(level="root", workdir=str(workdir), hidden=hidden, keep=keep, use_seccomp=False)


@ROOT_ONLY
def test_a_hidden_directory_under_tmp_stays_hidden_with_its_python_bound_back(tmp_path):
    """A repository under /tmp (as in many CI checkouts) with its virtual environment inside it."""
    repo = tmp_path / "repo"
    (repo / ".venv" / "lib").mkdir(parents=True)
    (repo / "reference").mkdir()
    (repo / "reference" / "vit.py").write_text("secret")
    work = tmp_path / "work"
    work.mkdir()
    plan = _plan(work, [str(repo)], [str(repo / ".venv")])

    def probe(_fd: int) -> str:
        return f"venv={os.path.isdir(repo / '.venv' / 'lib')} secret={os.path.exists(repo / 'reference')}"

    assert _in_child(plan, probe) == "venv=True secret=False"


@ROOT_ONLY
def test_a_hidden_directory_that_a_bind_brings_back_fails_the_start(tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    report = _in_child(_plan(work, [str(secret)], [str(secret)]), lambda _fd: "started")
    assert report.startswith("fail") and "still visible in the sandbox" in report, report


@ROOT_ONLY
def test_no_descriptor_the_isolation_opened_survives_it(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    before = set(os.listdir("/proc/self/fd"))

    def probe(write_fd: int) -> str:
        now = {name for name in os.listdir("/proc/self/fd") if _is_open(int(name))}
        extra = sorted(now - before - {str(write_fd)})
        return f"extra={[os.readlink(f'/proc/self/fd/{fd}') for fd in extra]}"

    assert _in_child(_plan(work, [], python_paths()), probe) == "extra=[]"


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True
