"""Damaged inputs (seeded random mutations) give a Submission or an IntakeError, never another exception."""

import io
import json
import random
import zipfile

import pytest

from grader.intake import IntakeError, load_submission

ROUNDS = 150
ODD_VALUES = [None, 0, -1, 3.5, "", "%%time\nx", "!pip\n", [], {}, ["a", 1], {"a": None}, True, "def f(:"]


def never_faults(path) -> None:
    try:
        load_submission([path])
    except IntakeError as error:
        assert error.message


@pytest.fixture(scope="module")
def originals(request) -> dict[str, bytes]:
    root = request.config.rootpath
    module = (root / "student_template" / "vit.py").read_bytes()
    answers = b"## Q3\n\nglobal\n\n## Q6 a\n\ncls\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("lab/vit.py", module)
        archive.writestr("lab/answers.md", answers)
    return {
        "vit_lab.ipynb": (root / "student_template" / "vit_lab.ipynb").read_bytes(),
        "vit.py": module,
        "answers.md": answers,
        "lab.zip": buffer.getvalue(),
    }


@pytest.mark.parametrize("name", ["vit_lab.ipynb", "vit.py", "answers.md", "lab.zip"])
def test_byte_mutations(originals, write_file, name: str):
    rng = random.Random(f"bytes:{name}")
    for _ in range(ROUNDS):
        data = bytearray(originals[name])
        for _ in range(rng.randint(1, 8)):
            if not data:
                break
            position = rng.randrange(len(data))
            choice = rng.random()
            if choice < 0.4:
                data[position] = rng.randrange(256)
            elif choice < 0.7:
                del data[position : position + rng.randint(1, 50)]
            else:
                data[position:position] = rng.choice([b"{", b'"', b"\\", b"%", b"!", b"\n", b"## Q3\n", b"\x00"])
        never_faults(write_file(name, bytes(data)))


def test_notebook_structure_mutations(originals, write_file):
    rng = random.Random("structure")
    for _ in range(ROUNDS * 2):
        notebook = json.loads(originals["vit_lab.ipynb"])
        paths = list(_paths(notebook))
        for _ in range(rng.randint(1, 3)):
            *parents, last = rng.choice(paths)
            parent = notebook
            for key in parents:
                parent = parent[key]
            if isinstance(parent, dict) and rng.random() < 0.3:
                parent.pop(last, None)
            elif isinstance(parent, dict) or isinstance(last, int) and last < len(parent):
                parent[last] = rng.choice(ODD_VALUES)
            paths = list(_paths(notebook))
        never_faults(write_file("vit_lab.ipynb", json.dumps(notebook)))


def _paths(node, prefix=()):
    if prefix:
        yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from _paths(value, (*prefix, key))
