"""The starter material every student received: its code and its answers file, always subtracted."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from grader.intake.answers import parse_answers
from grader.intake.notebook import read_notebook

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "student_template"


@dataclass(frozen=True)
class Template:
    """The template's code (the module and the notebook's code) and written-answer texts."""

    code: tuple[str, ...]
    answers: tuple[str, ...]  # the whole answers file and each of its sections

    @property
    def sha256(self) -> str:
        """One hash of everything subtracted (stored with each run)."""
        digest = hashlib.sha256()
        for part in self.code + self.answers:
            digest.update(hashlib.sha256(part.encode()).digest())
        return digest.hexdigest()


def load_template(directory: Path = TEMPLATE_DIR) -> Template:
    """``vit.py``, the notebook's code cells and ``answers.md`` of the starter template."""
    code = [(directory / "vit.py").read_text()]
    answers_text = (directory / "answers.md").read_text()
    answers = [answers_text]
    notebook = directory / "vit_lab.ipynb"
    if notebook.exists():
        content = read_notebook(notebook.name, notebook.read_text())
        if content.module_source:
            code.append(content.module_source)
        answers.append(content.markdown)
    sections, _ = parse_answers(answers_text, "answers.md")
    answers.extend(sections.values())
    return Template(tuple(code), tuple(answers))
