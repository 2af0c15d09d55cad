"""The committed lab notebook is the generator's output, and the grader's intake turns it into the contract."""

import ast
import json
import re

import nbformat
import pytest

import reference
from grader.intake import load_submission
from student_template import make_notebook

CODE_NAMES = [name for section in make_notebook.SECTIONS for name in section.code]


def test_committed_notebook_equals_generator_output():
    assert make_notebook.NOTEBOOK.read_text() == make_notebook.render(), (
        "student_template/vit_lab.ipynb is stale: run `python -m student_template.make_notebook`"
    )


def test_check_flag_reports_a_stale_notebook(tmp_path):
    stale = tmp_path / "vit_lab.ipynb"
    stale.write_text(make_notebook.render().replace("Vision Transformer lab", "Old lab"))
    assert make_notebook.main(["--check", "--output", str(stale)]) == 1
    assert make_notebook.main(["--output", str(stale)]) == 0
    assert make_notebook.main(["--check", "--output", str(stale)]) == 0


def test_notebook_is_deterministic_and_clean():
    data = json.loads(make_notebook.render())
    nbformat.validate(nbformat.from_dict(data))
    assert [cell["id"] for cell in data["cells"]] == [f"cell-{i:02d}" for i in range(len(data["cells"]))]
    for cell in data["cells"]:
        if cell["cell_type"] == "code":
            assert cell["execution_count"] is None and cell["outputs"] == []


def test_one_code_cell_per_contract_definition_taken_from_vit_py():
    assert sorted(CODE_NAMES) == sorted(reference.__all__)
    notebook = nbformat.reads(make_notebook.render(), as_version=4)
    code_cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    template_source = make_notebook.TEMPLATE.read_text()
    for name in CODE_NAMES:
        owners = [source for source in code_cells if f"def {name}(" in source or f"class {name}(" in source]
        assert len(owners) == 1, f"{name} is defined in {len(owners)} code cells"
        assert owners[0] in template_source, f"the cell of {name} is not a verbatim segment of vit.py"


def test_answer_cells_carry_every_heading_and_no_answer():
    notebook = nbformat.reads(make_notebook.render(), as_version=4)
    headings = [cell.source.splitlines()[0] for cell in notebook.cells if re.match(r"## Q\d", cell.source)]
    assert headings == [
        f"## {key}" for key in ("Q3", "Q4", "Q5", "Q6a", "Q6b", "Q6c", "Q7", "Q8a", "Q8b", "Q8c", "Q8d")
    ]


def test_intake_of_the_notebook_gives_the_contract_module_and_drops_training():
    submission = load_submission([make_notebook.NOTEBOOK])
    tree = ast.parse(submission.module_source)
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    assert set(reference.__all__) <= defined
    assert submission.answers == {}
    dropped = {(item.text, item.reason) for item in submission.dropped}
    assert ("for epoch in range(EPOCHS):", "top-level loop") in dropped
    assert not any(isinstance(node, ast.For) for node in tree.body)
    assert "EPOCHS = 2" in submission.module_source  # constants are kept


def test_module_from_the_notebook_builds_the_reference_layout():
    # The template is our own code, so running it here (not in a sandbox) is fine.
    namespace: dict = {}
    exec(compile(load_submission([make_notebook.NOTEBOOK]).module_source, "vit_lab", "exec"), namespace)
    student, answer = namespace["ViT"](nb_blocks=2), reference.ViT(nb_blocks=2)
    student.load_state_dict(answer.state_dict(), strict=True)
    with pytest.raises(NotImplementedError, match="^Q1: "):
        namespace["PatchEmbedding"]()(answer.cls_token.new_zeros(1, 1, 28, 28))
