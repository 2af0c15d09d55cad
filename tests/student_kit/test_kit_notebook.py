"""The lab notebook with its check cells and a submit cell, executed headlessly (nbclient + ipykernel)."""

import inspect
import json

import nbformat
import pytest
from served_support import served_service

from reference.patch_embedding import PatchEmbedding
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


def test_check_and_submit_cells_run_in_a_kernel(tmp_path, monkeypatch, kit_fixtures_path):
    notebook = nbformat.reads(make_notebook.render(), as_version=4)
    notebook.cells = [c for c in notebook.cells if not c.source.startswith(HEAVY)]
    q1 = next(i for i, c in enumerate(notebook.cells) if c.source.startswith("class PatchEmbedding("))
    notebook.cells[q1].source = "import torch\nfrom torch import nn\n\n\n" + inspect.getsource(PatchEmbedding)
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            "from vitgrade_student import submit\nanswer = submit(wait=False)\nanswer['status']", id="submit"
        )
    )
    path = tmp_path / "vit_lab.ipynb"
    path.write_text(nbformat.writes(notebook))
    with served_service(tmp_path / "var") as service:
        monkeypatch.setenv("VITGRADE_URL", service.url)
        monkeypatch.setenv("VITGRADE_TOKEN", service.token)
        monkeypatch.setenv("VITGRADE_KIT_FIXTURES", str(kit_fixtures_path))
        monkeypatch.setenv("JPY_SESSION_NAME", str(path))
        client = nbclient.NotebookClient(
            notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        )
        client.execute()
    checks = {c.source.split('check("')[1][:2]: _outputs(c) for c in notebook.cells if 'display(check("' in c.source}
    assert sorted(checks) == ["q1", "q2", "q3", "q4", "q5", "q6"]
    assert "3/3 public checks passed locally" in checks["q1"], checks["q1"]
    for question in ("q2", "q3", "q4", "q5", "q6"):
        assert "not implemented yet" in checks[question] and "error" not in checks[question].split("public checks")[0]
    assert "<table>" in checks["q1"]
    assert "'queued'" in _outputs(notebook.cells[-1])
    sent = (tmp_path / "vitgrade_submission" / "vit.py").read_text()
    assert "class PatchEmbedding" in sent and "display(" not in sent
    assert json.loads(path.read_text())["cells"]  # the notebook on disk is what was exported
