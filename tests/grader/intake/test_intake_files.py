"""Uploads that cannot be graded give an IntakeError a student understands; good ones combine."""

import ast
import json
import shutil

import pytest
from intake_builders import MODULE

from grader.intake import IntakeError, Submission, load_submission
from grader.intake import limits as intake_limits


def intake_error(paths) -> str:
    with pytest.raises(IntakeError) as caught:
        load_submission(paths)
    return caught.value.message


def test_notebook_with_bad_json(write_file):
    message = intake_error([write_file("vit_lab.ipynb", '{"cells": [{"cell_type": "code",')])
    assert "JSON is broken on line 1" in message and "vit_lab.ipynb" in message


def test_notebook_of_format_3(fixture_file):
    message = intake_error([fixture_file("notebook_v3.ipynb.json", "vit_lab.ipynb")])
    assert "format 3" in message and "format 4" in message


def test_notebook_with_missing_keys(write_file):
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": "x=1"}]}
    message = intake_error([write_file("vit_lab.ipynb", json.dumps(notebook))])
    assert "not a valid Jupyter notebook" in message and "required property" in message and "cells/0" in message


def test_json_that_is_not_a_notebook(write_file):
    message = intake_error([write_file("vit_lab.ipynb", json.dumps({"model": "vit", "layers": 4}))])
    assert "not a Jupyter notebook" in message


def test_syntax_error_names_line_column_and_text(fixture_file):
    message = intake_error([fixture_file("syntax_error.py.txt", "vit.py")])
    assert "vit.py has a syntax error on line 5, column 22" in message
    assert "return torch.relu(x" in message


def test_syntax_error_in_a_notebook_cell_names_the_cell(write_notebook):
    path = write_notebook([("code", "import torch"), ("markdown", "text"), ("code", "x = 1\ndef f(:\n    pass")])
    message = intake_error([path])
    assert "vit_lab.ipynb, cell 2 has a syntax error on line 2" in message and "def f(:" in message


def test_non_utf8_module(write_file):
    message = intake_error([write_file("vit.py", "x = 1\n# résumé\n".encode("latin-1"))])
    assert "not UTF-8" in message and "line 2" in message and "0xe9" in message


def test_utf8_with_bom_is_accepted(write_file):
    submission = load_submission([write_file("vit.py", b"\xef\xbb\xbf" + MODULE.encode())])
    assert submission.module_source.startswith("import torch")


@pytest.mark.parametrize("content", [b"", b"  \n\n"])
def test_empty_file(write_file, content):
    assert "vit.py is empty" in intake_error([write_file("vit.py", content)])


def test_binary_file(write_file):
    message = intake_error([write_file("vit.py", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")])
    assert "binary file" in message


def test_unknown_extension_alone(write_file):
    message = intake_error([write_file("model.pt", b"weights")])
    assert "model.pt" in message and ".pt" in message and ".py, .ipynb, .md and .zip" in message


def test_unknown_extra_file_is_a_warning(write_file):
    submission = load_submission([write_file("vit.py", MODULE), write_file("notes.txt", "hello")])
    assert submission.module_source == MODULE
    assert any("notes.txt" in warning and "ignored" in warning for warning in submission.warnings)


def test_file_over_the_size_cap(write_file, monkeypatch):
    monkeypatch.setattr(intake_limits, "MAX_FILE_BYTES", 100)
    message = intake_error([write_file("vit.py", MODULE)])
    assert "the limit is 100 B" in message


def test_no_files():
    assert "No file was submitted" in intake_error([])


def test_missing_path(tmp_path):
    assert "not a file" in intake_error([tmp_path / "vit.py"])


def test_py_with_md_combines_module_and_answers(write_file):
    answers = "## Q3\n\nGlobal receptive field.\n\n## Q7\n\nO(N^2 d) in the number of tokens.\n"
    submission = load_submission([write_file("vit.py", MODULE), write_file("answers.md", answers)])
    assert isinstance(submission, Submission)
    assert submission.module_source == MODULE and submission.module_file == "vit.py"
    assert submission.answers == {"Q3": "Global receptive field.", "Q7": "O(N^2 d) in the number of tokens."}
    assert [(note.name, note.kind) for note in submission.files] == [("vit.py", "py"), ("answers.md", "md")]
    assert all(len(note.sha256) == 64 and note.size > 0 for note in submission.files)
    assert submission.dropped == [] and submission.warnings == []


def test_answers_only(write_file):
    submission = load_submission([write_file("answers.md", "## Q4\n\nheads split D.\n")])
    assert submission.module_source is None and submission.answers == {"Q4": "heads split D."}


def test_nothing_to_grade_from_the_untouched_answers_template(repo_root):
    assert "Nothing to grade" in intake_error([repo_root / "student_template" / "answers.md"])


def test_untouched_template_is_gradable(template_submission):
    submission = load_submission(template_submission)
    assert submission.module_file == "vit.py" and submission.answers == {}
    assert any("no answered sections" in warning for warning in submission.warnings)


def test_reference_submission_has_every_answer(reference_submission):
    if not reference_submission[1].is_file():
        pytest.skip("reference/answers.md is not written yet")
    submission = load_submission(reference_submission)
    assert submission.module_source and len(submission.answers) >= 9


def test_module_missing_contract_names_is_still_a_submission(write_file):
    submission = load_submission([write_file("vit.py", "import torch\n")])
    assert submission.module_source == "import torch\n"


def test_py_module_top_level_statements_are_warned_not_dropped(write_file):
    source = MODULE + '\nEMBED_DIM = 64\nmodel = MLP(4, 8)\nprint(model)\n\nif __name__ == "__main__":\n    print(1)\n'
    submission = load_submission([write_file("vit.py", source)])
    assert submission.module_source == source and submission.dropped == []
    assert (
        len(submission.warnings) == 1
        and "line 15" in submission.warnings[0]
        and "print(model)" in submission.warnings[0]
    )


def test_two_modules_prefer_vit_py(write_file, write_notebook):
    notebook = write_notebook([("code", "import torch")])
    submission = load_submission([notebook, write_file("vit.py", MODULE)])
    assert submission.module_file == "vit.py"
    assert "2 modules given (vit_lab.ipynb, vit.py): used vit.py." in submission.warnings


def test_two_modules_without_vit_py_are_ambiguous(write_file):
    message = intake_error([write_file("a.py", MODULE), write_file("b.py", MODULE)])
    assert "a.py, b.py" in message and "vit.py" in message


def test_uploaded_paths_are_named_without_their_folder(write_file, tmp_path):
    folder = tmp_path / "uploads" / "secret"
    folder.mkdir(parents=True)
    shutil.copy(write_file("vit.py", MODULE), folder / "vit.py")
    submission = load_submission([folder / "vit.py"])
    assert submission.files[0].name == "vit.py" and str(tmp_path) not in submission.model_dump_json()


def test_notebook_saved_as_py_is_read_as_a_notebook(write_notebook, write_file):
    notebook = write_notebook([("code", "import torch\nprint(1)"), ("markdown", "## Q5\n\npre-norm")])
    submission = load_submission([write_file("vit.py", notebook.read_bytes())])
    assert submission.module_source is not None and "print(1)" not in submission.module_source
    assert submission.answers == {"Q5": "pre-norm"}
    assert "vit.py holds a Jupyter notebook, not Python source: it was read as a notebook." in submission.warnings


def test_python_saved_as_ipynb_says_so(write_file):
    message = intake_error([write_file("vit_lab.ipynb", MODULE)])
    assert "looks like Python source" in message


def test_large_notebook_hints_at_clearing_outputs(write_notebook, monkeypatch):
    monkeypatch.setattr(intake_limits, "MAX_FILE_BYTES", 100)
    message = intake_error([write_notebook([("code", "import torch\n" * 20)])])
    assert "the limit is 100 B per file" in message and "Clear All Outputs" in message


def test_dropped_notes_are_capped(write_notebook, monkeypatch):
    monkeypatch.setattr(intake_limits, "MAX_NOTES", 2)
    submission = load_submission([write_notebook([("code", "import torch\n" + "print(1)\n" * 5)])])
    assert len(submission.dropped) == 2
    assert "vit_lab.ipynb: 3 more dropped statements are not listed." in submission.warnings


def test_hostile_notebook_name_cannot_change_the_module(write_notebook):
    path = write_notebook([("code", "X = 1")], name='a"""\nimport os\n#.ipynb')
    source = load_submission([path]).module_source
    tree = ast.parse(source)
    assert [type(node).__name__ for node in tree.body] == ["Expr", "Assign"]


def test_report_notes_are_plain_json_without_the_code(write_file):
    submission = load_submission([write_file("vit.py", MODULE), write_file("answers.md", "## Q3\n\nglobal\n")])
    notes = submission.report_notes()
    assert json.loads(json.dumps(notes)) == notes
    assert notes["answers_found"] == ["Q3"] and notes["module_file"] == "vit.py"
    assert notes["files"][0]["kind"] == "py" and "import torch" not in json.dumps(notes)


def test_deeply_nested_json_is_an_intake_error(write_file):
    message = intake_error([write_file("vit_lab.ipynb", "[" * 100_000 + "]" * 100_000)])
    assert "nested too deeply" in message


def test_deeply_nested_metadata_is_an_intake_error_or_valid(write_file):
    metadata: dict = {}
    for _ in range(900):
        metadata = {"x": metadata}
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": []}
    try:
        load_submission([write_file("vit_lab.ipynb", json.dumps(notebook))])
    except IntakeError as error:  # either way, never a grader fault
        assert "nested too deeply" in error.message or "Nothing to grade" in error.message
