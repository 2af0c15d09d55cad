"""``submit`` and ``vitgrade-submit`` against the real service: an API served by uvicorn on a loopback port
(fast: upload, queue position, errors), and API + worker as real processes (slow: the report comes back)."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import served_support
from served_support import served_service

from service.db import Database
from service.migrate import upgrade
from service.models import Role
from service.roster import issue_tokens
from student_template import make_notebook
from vitgrade_student import submit
from vitgrade_student.client import SubmitError
from vitgrade_student.report import SubmissionReport

REPO = Path(__file__).parents[2]

ANSWER = "Attention relates every token to every other one; its cost grows as O(N^2 d) in the number of tokens."


def student_notebook(directory: Path) -> Path:
    """The lab notebook with Q1 solved (the reference's class) and an answer to Q3."""
    from reference.bundle import bundle_submission

    data = json.loads(make_notebook.NOTEBOOK.read_text())
    for cell in data["cells"]:
        if cell["cell_type"] == "markdown" and "".join(cell["source"]).startswith("## Q3"):
            cell["source"] = "## Q3\n\n" + ANSWER + "\n"
    data["cells"].append({"cell_type": "code", "id": "solution", "metadata": {}, "outputs": [],
                          "execution_count": None, "source": bundle_submission()})  # fmt: skip
    path = directory / "vit_lab.ipynb"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def served(tmp_path):
    with served_service(tmp_path / "var") as service:
        yield service


def test_submit_uploads_what_the_grader_keeps_and_reports_the_queue(served, tmp_path):
    notebook = student_notebook(tmp_path)
    lines = []
    accepted = submit(served.token, served.url, notebook=notebook, wait=False, progress=lines.append)
    vit, answers = tmp_path / "vitgrade_submission" / "vit.py", tmp_path / "vitgrade_submission" / "answers.md"
    sent = {f["name"]: f["sha256"] for f in accepted["files"]}
    assert sent == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (vit, answers)}
    assert accepted["status"] == "queued" and accepted["position"] == 1
    assert "class MultiHeadSelfAttention" in vit.read_text() and "import vitgrade_student" not in vit.read_text()
    assert "from vitgrade_student" not in vit.read_text()
    assert ANSWER in answers.read_text()
    assert any("queued at position 1" in line for line in lines), lines


def test_the_token_comes_from_the_environment_or_a_file_and_a_bad_one_is_refused(served, tmp_path, monkeypatch):
    (tmp_path / "vit.py").write_text("import torch\n")
    monkeypatch.setenv("VITGRADE_URL", served.url)
    monkeypatch.delenv("VITGRADE_TOKEN", raising=False)
    monkeypatch.setenv("VITGRADE_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(SubmitError, match="No token"):
        submit(files=[tmp_path / "vit.py"], wait=False)
    token_file = tmp_path / "token"
    token_file.write_text(served.token + "\n")
    monkeypatch.setenv("VITGRADE_TOKEN_FILE", str(token_file))
    assert submit(files=[tmp_path / "vit.py"], wait=False, progress=lambda _: None)["status"] == "queued"
    monkeypatch.setenv("VITGRADE_TOKEN", "vgs_not-a-token")
    with pytest.raises(SubmitError, match="HTTP 401"):
        submit(files=[tmp_path / "vit.py"], wait=False)


@pytest.mark.slow
def test_submit_follows_the_grading_and_returns_the_report(tmp_path):
    """A real uvicorn and a real worker (Q1 only, to keep it short): the report comes back in the notebook's
    process, through ``submit`` and through the ``vitgrade-submit`` command."""
    service = served_support.service_support.LiveService(tmp_path / "var", VITGRADE_SELECT="q1.*,written.q3")
    try:
        database = Database(service.settings)
        upgrade(database)
        token = issue_tokens(database, ["alice"], Role.student)["alice"]
        database.dispose()
        service.start_api()
        service.start_worker()
        notebook = student_notebook(tmp_path)
        lines: list[str] = []
        report = submit(token, service.url, notebook=notebook, poll_s=0.5, timeout_s=600, progress=lines.append)
        assert isinstance(report, SubmissionReport)
        scores = {q["id"]: (q["score"], q["max_score"]) for q in report.data["questions"]}
        assert scores["Q1"] == (6, 6), str(report)
        assert "Q1: 6 / 6" in str(report) and "<table>" in report._repr_html_()
        assert any(line.startswith("queued") or line.startswith("running") for line in lines), lines
        assert lines[-1] == "done"
        env = {"VITGRADE_URL": service.url, "VITGRADE_TOKEN": token, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
        run = subprocess.run(
            [sys.executable, "-m", "vitgrade_student.submit", str(notebook)],
            env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-2000:] + service.log_tail()
        assert "Q1: 6 / 6" in run.stdout
    finally:
        service.stop()
