"""A notebook's code cells become one module: definitions, imports and constants kept, the rest dropped."""

import ast
import json

from grader.intake import load_submission


def dropped_by_text(submission) -> dict[str, tuple[int, int, str]]:
    return {item.text: (item.cell, item.line, item.reason) for item in submission.dropped}


def top_level_names(source: str) -> set[str]:
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def test_magics_and_shell_lines_are_dropped(write_notebook):
    path = write_notebook(
        [
            ("code", "!pip install timm\n%matplotlib inline\nimport torch"),
            ("code", "%%time\nfor i in range(10**9):\n    pass"),
            ("code", "files = !ls data\nnn_help = 1\ntorch.nn.Linear?\n%load_ext autoreload"),
            ("code", "def f(x):\n    %time y = x\n    return x"),
            ("code", "%%writefile vit.py\nclass ViT:\n    pass"),
        ]
    )
    submission = load_submission([path])
    dropped = dropped_by_text(submission)
    assert dropped["!pip install timm"] == (0, 1, "shell command")
    assert dropped["%matplotlib inline"] == (0, 2, "IPython magic")
    assert dropped["%%time"] == (1, 1, "IPython cell magic (the whole cell)")
    assert dropped["%%writefile vit.py"][2].startswith("%%writefile cell")
    assert dropped["files = !ls data"] == (2, 1, "shell command")
    assert dropped["torch.nn.Linear?"] == (2, 3, "IPython help")
    assert dropped["%load_ext autoreload"] == (2, 4, "IPython magic")
    assert dropped["%time y = x"] == (3, 2, "IPython magic")
    source = submission.module_source
    compile(source, "module", "exec")
    assert "range(10**9)" not in source and "!" not in source and "%" not in source
    assert top_level_names(source) == {"torch", "nn_help", "f"}


def test_training_loop_calls_prints_and_main_block_are_dropped(write_notebook):
    path = write_notebook(
        [
            ("code", "import torch\nfrom torch import nn\n\nEMBED_DIM = 64"),
            ("code", "class Net(nn.Module):\n    def forward(self, x):\n        return x"),
            ("code", "model = Net()\nfor epoch in range(3):\n    train(model)\nprint('done')"),
            ("code", "while True:\n    break\nmodel.eval()"),
            ("code", 'if __name__ == "__main__":\n    train(model)'),
            ("code", "torch.manual_seed(0); SEED = 0"),
            ("code", "model"),
        ]
    )
    submission = load_submission([path])
    dropped = dropped_by_text(submission)
    assert dropped["model = Net()"] == (2, 1, "assignment that runs code (only constants are kept)")
    assert dropped["for epoch in range(3):"] == (2, 2, "top-level loop")
    assert dropped["print('done')"] == (2, 4, "top-level call")
    assert dropped["while True:"] == (3, 1, "top-level loop")
    assert dropped["model.eval()"] == (3, 3, "top-level call")
    assert dropped['if __name__ == "__main__":'] == (4, 1, 'if __name__ == "__main__" block')
    assert dropped["torch.manual_seed(0); SEED = 0"] == (5, 1, "top-level call")
    assert dropped["model"] == (6, 1, "top-level statement")
    assert len(submission.dropped) == 8
    assert top_level_names(submission.module_source) == {"torch", "nn", "EMBED_DIM", "Net", "SEED"}
    assert "SEED = 0" in submission.module_source and "manual_seed" not in submission.module_source


def test_definitions_imports_and_constants_are_kept(write_notebook):
    cells = [
        ("code", "import math\nimport torch.nn.functional as F\nfrom torch import nn"),
        ("code", 'EMBED_DIM = 64\nHIDDEN = 4 * EMBED_DIM\ndevice = "cpu"\nSIZES = (28, 28)\nEPS: float = 1e-6'),
        ("code", "DTYPE = torch.float32\nCONFIG = {'dim': EMBED_DIM, 'heads': -4}\nSCALE = 1 / math.sqrt(EMBED_DIM)"),
        ("code", "LATER = UNKNOWN * 2\ndevice2 = torch.device('cpu')\nnn.Linear.extra = 1\nLIMITS = [n for n in (1,)]"),
        (
            "code",
            "import functools\n\n@functools.lru_cache()\ndef table(n):\n    return n\n\nasync def f():\n    return 1",
        ),
    ]
    submission = load_submission([write_notebook(cells)])
    names = top_level_names(submission.module_source)
    expected = {"math", "F", "nn", "EMBED_DIM", "HIDDEN", "device", "SIZES", "CONFIG", "functools", "table", "f"}
    assert names == expected
    assert "EPS: float = 1e-6" in submission.module_source
    assert "@functools.lru_cache()\ndef table(n):" in submission.module_source
    dropped = dropped_by_text(submission)
    # `torch` is never imported in these cells, so a constant built from it is not kept.
    assert dropped["DTYPE = torch.float32"][2].startswith("assignment that runs code")
    assert dropped["SCALE = 1 / math.sqrt(EMBED_DIM)"][2].startswith("assignment that runs code")
    assert dropped["LATER = UNKNOWN * 2"][2].startswith("assignment that runs code")
    assert dropped["device2 = torch.device('cpu')"][2].startswith("assignment that runs code")
    assert dropped["nn.Linear.extra = 1"][2] == "assignment to an attribute or item"
    assert dropped["LIMITS = [n for n in (1,)]"][2].startswith("assignment that runs code")
    namespace: dict = {}
    exec(compile(submission.module_source, "module", "exec"), namespace)  # our own test code, not a student's
    assert namespace["HIDDEN"] == 256 and namespace["CONFIG"] == {"dim": 64, "heads": -4}


def test_outputs_attachments_and_raw_cells_are_ignored(write_file):
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 4,
        "metadata": {"widgets": {"odd": True}},
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 7,
                "metadata": {},
                "source": ["import torch\n", "X = 1\n"],
                "outputs": [
                    {"output_type": "display_data", "data": {"text/html": "<script>steal()</script>"}, "metadata": {}},
                    {"output_type": "weird", "payload": "not even valid"},
                ],
            },
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": "## Q3\n\nGlobal attention. ![x](attachment:x.png)",
                "attachments": {"x.png": {"image/png": "iVBORw0KGgo="}},
            },
            {"cell_type": "raw", "metadata": {}, "source": "print('raw cells never run')"},
        ],
    }
    submission = load_submission([write_file("lab.ipynb", json.dumps(notebook))])
    assert "steal" not in submission.module_source and "raw cells" not in submission.module_source
    assert top_level_names(submission.module_source) == {"torch", "X"}
    assert submission.answers == {"Q3": "Global attention. ![x](attachment:x.png)"}


def test_answers_from_markdown_cells(write_notebook):
    path = write_notebook(
        [
            ("markdown", "## Question 3: self-attention\n\nImplement it."),
            ("code", "import torch"),
            ("markdown", "## Q3\n\n> the question\n\nEvery token sees every other token."),
            ("markdown", "## Question 4\n\nMulti-head."),
            ("markdown", "## Q4\n\n"),
            ("markdown", "## Q6a\n\nThe class token summarises the image."),
            ("code", "x = 1"),
            ("markdown", "It is read by the head."),
        ]
    )
    submission = load_submission([path])
    assert submission.answers == {
        "Q3": "Every token sees every other token.",
        "Q6a": "The class token summarises the image.\n\nIt is read by the head.",
    }


def test_notebook_without_code_gives_answers_only(write_notebook):
    submission = load_submission([write_notebook([("markdown", "## Q5\n\nx + attn(norm1(x))"), ("code", "")])])
    assert submission.module_source is None and submission.answers == {"Q5": "x + attn(norm1(x))"}
    assert any("no code to grade" in warning for warning in submission.warnings)


def test_future_import_is_hoisted_to_the_top(write_notebook):
    path = write_notebook([("code", "import torch"), ("code", "from __future__ import annotations\nX = 1")])
    source = load_submission([path]).module_source
    compile(source, "module", "exec")
    assert source.index("from __future__") < source.index("import torch")


def test_statements_sharing_a_line_with_non_ascii_text(write_notebook):
    cells = [("code", 'print("é"); GREETING = "héllo"  # ü\nclass Net:\n    name = "ñet"  # comment\n')]
    submission = load_submission([write_notebook(cells)])
    assert '\nGREETING = "héllo"  # ü\n' in submission.module_source
    assert 'class Net:\n    name = "ñet"  # comment\n' in submission.module_source
    assert [item.text for item in submission.dropped] == ['print("é"); GREETING = "héllo"  # ü']


def test_nul_character_in_a_cell_is_an_intake_error(write_notebook):
    from grader.intake import IntakeError

    try:
        load_submission([write_notebook([("code", "X = 1\x00")])])
    except IntakeError as error:
        assert "vit_lab.ipynb, cell 0 cannot be parsed as Python" in error.message
    else:
        raise AssertionError("a NUL character in a cell must be an IntakeError")


def test_reference_as_a_notebook_keeps_every_definition_verbatim(write_notebook):
    from reference.bundle import bundle_submission

    source = bundle_submission()
    lines = source.splitlines()
    segments = []
    for node in ast.parse(source).body:
        start = node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno
        segments.append("\n".join(lines[start - 1 : node.end_lineno]))
    training = "model = ViT()\nfor epoch in range(100):\n    print(epoch)\nraise SystemExit"
    cells = [("code", "!pip install timm\n%matplotlib inline"), *[("code", s) for s in segments], ("code", training)]
    submission = load_submission([write_notebook(cells)])
    for segment in segments[1:]:  # [0] is the bundle's docstring
        assert segment in submission.module_source
    assert "SystemExit" not in submission.module_source and "range(100)" not in submission.module_source
    assert [item.reason for item in submission.dropped] == [
        "shell command",
        "IPython magic",
        "assignment that runs code (only constants are kept)",
        "top-level loop",
        "top-level statement",
    ]
