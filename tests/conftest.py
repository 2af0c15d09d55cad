"""Shared fixtures: where the reference and the template live."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def reference_submission(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The reference as a student would hand it in: one module and the answers."""
    from reference.bundle import bundle_submission

    folder = tmp_path_factory.mktemp("reference_submission")
    module = folder / "vit.py"
    module.write_text(bundle_submission())
    return [module, ROOT / "reference" / "answers.md"]


@pytest.fixture(scope="session")
def template_submission() -> list[Path]:
    """The untouched student template: stubs and empty answers."""
    return [ROOT / "student_template" / "vit.py", ROOT / "student_template" / "answers.md"]
