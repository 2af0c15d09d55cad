"""The kit's own parts: the notebook export rules, results as text and HTML, the runtime's manners."""

import ast
import builtins
import json
import time

import pytest
import torch

from reference.bundle import bundle_submission
from student_template import make_notebook
from vitgrade_student import check, check_all
from vitgrade_student.export import cell_statements, export_notebook
from vitgrade_student.fixtures import FixturesMissing, load_fixtures
from vitgrade_student.results import Results
from vitgrade_student.runtime import StudentCodeError, run


def _names(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "student", "exec"), namespace)  # our own reference source, in a test
    return namespace


def test_export_keeps_what_the_grader_keeps_and_drops_the_kit():
    known = set(dir(builtins))
    cell = (
        "%matplotlib inline\nimport torch\nfrom vitgrade_student import check\nimport vitgrade_student as kit\n"
        "EMBED = 64\nSIZE = EMBED * 2\nmodel = torch.nn.Linear(2, 2)\n!pip install timm\n"
        "def f():\n    return EMBED\nprint(f())\ncheck('q1')\nfor i in range(3):\n    pass\n"
    )
    kept = cell_statements(cell, known)
    assert kept == ["import torch", "EMBED = 64", "SIZE = EMBED * 2", "def f():\n    return EMBED"]
    assert cell_statements("%%time\nclass A:\n    pass\n", known) == []


def test_export_keeps_the_statements_the_graders_intake_keeps(tmp_path):
    from grader.intake.submission import load_submission

    cells = [
        "import math\nimport torch\nfrom torch import nn\n%load_ext autoreload\nSCALE = 1 / 8\nNAMES = ('a', 'b')\n",
        "x = torch.zeros(3)\nprint(x)\ntry:\n    from vitgrade_student import check\nexcept ImportError:\n    pass\n",
        "class Net(nn.Module):\n    def forward(self, x):\n        return x * SCALE\n\n\nNET = Net\nnet = Net()\n",
        "%%capture\nimport os\n",
        "if __name__ == '__main__':\n    main()\n@torch.no_grad()\ndef f(x):\n    return x\n",
    ]
    notebook = make_notebook.nbformat.v4.new_notebook()
    notebook.cells = [make_notebook.nbformat.v4.new_code_cell(c, id=f"c{i}") for i, c in enumerate(cells)]
    path = tmp_path / "mixed.ipynb"
    path.write_text(make_notebook.nbformat.writes(notebook))

    def statements(source: str) -> list[str]:
        return [ast.dump(node) for node in ast.parse(source).body if not isinstance(node, ast.Expr)]

    assert statements(export_notebook(path)[0]) == statements(load_submission([path]).module_source)


def test_export_of_the_lab_notebook_defines_the_contract_and_keeps_the_answers(tmp_path):
    data = json.loads(make_notebook.NOTEBOOK.read_text())
    for cell in data["cells"]:
        if "".join(cell["source"]).startswith("## Q6b"):
            cell["source"] = "## Q6b\n\nThe positional embedding tells the model where each patch was.\n"
    path = tmp_path / "lab.ipynb"
    path.write_text(json.dumps(data))
    module, answers = export_notebook(path)
    names = _names(module)
    assert {"PatchEmbedding", "MLP", "SelfAttention", "MultiHeadSelfAttention", "TransformerBlock", "ViT"} <= set(names)
    assert "check(" not in module and "for epoch" not in module
    assert answers.startswith("## Q3") and "where each patch was" in answers


def test_results_read_as_text_and_html(kit_fixtures):
    results = check("q2", _names(bundle_submission()), fixtures=kit_fixtures)
    assert isinstance(results, Results) and results.passed and len(results) == 3
    assert str(results).splitlines()[0] == "PASS  q2.shape"
    assert "<table>" in results._repr_html_() and "3/3 public checks passed locally" in results._repr_html_()
    assert results["q2.property"].passed
    with pytest.raises(ValueError, match="local checks cover"):
        check("q7", {}, fixtures=kit_fixtures)


def test_html_escapes_what_the_student_wrote(kit_fixtures):
    source = (
        bundle_submission()
        + "\n\nclass MLP(MLP):\n    def forward(self, x):\n        raise ValueError('<b>bold</b>')\n"
    )
    results = check("q2.shape", _names(source), fixtures=kit_fixtures)
    assert results["q2.shape"].status == "error" and "<b>bold</b>" in results["q2.shape"].message
    assert "<b>bold</b>" not in results._repr_html_() and "&lt;b&gt;" in results._repr_html_()


def test_a_missing_name_fails_and_the_global_random_state_is_left_alone(kit_fixtures):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    results = check_all({"torch": torch}, fixtures=kit_fixtures)
    assert all(r.status == "failed" and "does not define" in r.message for r in results)
    request = kit_fixtures.checks["q1.shape"].requests[0]
    with pytest.raises(StudentCodeError) as raised:
        run({"PatchEmbedding": lambda **kwargs: object()}, request.op, request.args, request.inputs)
    assert raised.value.kind == "bad_output"
    assert torch.equal(before, torch.get_rng_state())


def test_every_question_checks_in_well_under_a_second(kit_fixtures):
    names = _names(bundle_submission())
    check_all(names, fixtures=kit_fixtures)  # warm up
    for question in ("q1", "q2", "q3", "q4", "q5", "q6"):
        start = time.process_time()  # CPU time: the machine's load does not count
        assert check(question, names, fixtures=kit_fixtures).passed
        assert time.process_time() - start < 1.0, question


def test_without_fixtures_the_kit_says_where_to_get_them(tmp_path, monkeypatch):
    monkeypatch.delenv("VITGRADE_KIT_FIXTURES", raising=False)
    with pytest.raises(FixturesMissing, match="install the kit from your course's service"):
        load_fixtures(tmp_path / "absent.safetensors")


def test_the_notebook_to_submit_is_the_kernels_or_the_only_one_here(tmp_path, monkeypatch):
    from vitgrade_student.client import SubmitError
    from vitgrade_student.submit import find_notebook

    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SubmitError, match="Say which notebook"):
        find_notebook()
    (tmp_path / "lab.ipynb").write_text("{}")
    assert find_notebook() == tmp_path / "lab.ipynb"
    (tmp_path / "copy.ipynb").write_text("{}")
    with pytest.raises(SubmitError, match="copy.ipynb"):
        find_notebook()
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "copy.ipynb"))
    assert find_notebook() == tmp_path / "copy.ipynb"
