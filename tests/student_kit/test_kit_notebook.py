"""The lab notebook with its check cells and a submit cell, executed headlessly (nbclient + ipykernel)."""

import inspect
from pathlib import Path

import nbformat
import pytest
import served_support
from served_support import served_service

from reference.patch_embedding import PatchEmbedding
from service.db import Database
from service.migrate import upgrade
from service.models import Role
from service.roster import issue_tokens
from student_template import make_notebook

nbclient = pytest.importorskip("nbclient")

HEAVY = ("# Q7: train your ViT", "# Q8a: what does the unmodified ViT-S")  # MNIST download, timm's ViT-S


def _outputs(cell) -> str:
    texts = []
    for output in cell.get("outputs", []):
        texts.append(output.get("text", ""))
        texts += [str(v) for v in output.get("data", {}).values()]
        texts += output.get("traceback", [])
    return "\n".join(texts)


def run_lab(directory: Path, submit_cell: str, monkeypatch, url: str, token: str, fixtures: Path):
    """The generated notebook, Q1 solved, the heavy cells left out and ``submit_cell`` last, run in a kernel."""
    notebook = nbformat.reads(make_notebook.render(), as_version=4)
    notebook.cells = [c for c in notebook.cells if not c.source.startswith(HEAVY)]
    q1 = next(i for i, c in enumerate(notebook.cells) if c.source.startswith("class PatchEmbedding("))
    notebook.cells[q1].source = "import torch\nfrom torch import nn\n\n\n" + inspect.getsource(PatchEmbedding)
    notebook.cells.append(nbformat.v4.new_code_cell(submit_cell, id="submit"))
    path = directory / "vit_lab.ipynb"
    path.write_text(nbformat.writes(notebook))
    monkeypatch.setenv("VITGRADE_URL", url)
    monkeypatch.setenv("VITGRADE_TOKEN", token)  # the environment, never the notebook
    monkeypatch.setenv("VITGRADE_KIT_FIXTURES", str(fixtures))
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    resources = {"metadata": {"path": str(directory)}}
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources=resources).execute()
    assert token not in path.read_text()
    return notebook


def test_check_and_submit_cells_run_in_a_kernel(tmp_path, monkeypatch, kit_fixtures_path):
    cell = "from vitgrade_student import submit\nanswer = submit(wait=False)\nanswer['status']"
    with served_service(tmp_path / "var") as service:
        notebook = run_lab(tmp_path, cell, monkeypatch, service.url, service.token, kit_fixtures_path)
    checks = {c.source.split('check("')[1][:2]: _outputs(c) for c in notebook.cells if 'display(check("' in c.source}
    assert sorted(checks) == ["q1", "q2", "q3", "q4", "q5", "q6"]
    assert "3/3 public checks passed locally" in checks["q1"], checks["q1"]
    assert "<table>" in checks["q1"]
    for question in ("q2", "q3", "q4", "q5", "q6"):
        assert "not implemented yet" in checks[question] and "error" not in checks[question].split("public checks")[0]
    assert "'queued'" in _outputs(notebook.cells[-1])
    sent = (tmp_path / "vitgrade_submission" / "vit.py").read_text()
    assert "class PatchEmbedding" in sent and "display(" not in sent


@pytest.mark.slow
def test_the_submit_cell_shows_the_graded_report(tmp_path, monkeypatch, kit_fixtures_path):
    """API and worker as real processes (Q1 graded only): the report is displayed in the notebook."""
    service = served_support.service_support.LiveService(tmp_path / "var", VITGRADE_SELECT="q1.*")
    try:
        database = Database(service.settings)
        upgrade(database)
        token = issue_tokens(database, ["alice"], Role.student)["alice"]
        database.dispose()
        service.start_api()
        service.start_worker()
        cell = "from vitgrade_student import submit\nsubmit(poll_s=0.5)"
        notebook = run_lab(tmp_path, cell, monkeypatch, service.url, token, kit_fixtures_path)
    finally:
        service.stop()
    shown = _outputs(notebook.cells[-1])
    assert "Q1: 6 / 6" in shown and "<h4>Submission" in shown, shown[-3000:]
    assert "queued" in shown or "running" in shown  # the progress lines
