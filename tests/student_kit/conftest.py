"""Fixtures of the student-kit tests: the kit's fixtures built once from the reference, namespaces of sources."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "grader" / "checks"))  # checks_support: the grader's side

from grader.student_kit.build import build_fixtures  # noqa: E402
from grader.student_kit.public import public_seed  # noqa: E402
from vitgrade_student.fixtures import load_fixtures  # noqa: E402


@pytest.fixture(scope="session")
def kit_fixtures_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("kit") / "fixtures.safetensors"
    build_fixtures(path, public_seed(0))
    return path


@pytest.fixture(scope="session")
def kit_fixtures(kit_fixtures_path):
    return load_fixtures(kit_fixtures_path)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny tensors: one thread is faster than two on a loaded machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def kit_wheel(kit_fixtures_path, tmp_path_factory) -> Path:
    from grader.student_kit.wheel import build_wheel

    return build_wheel(tmp_path_factory.mktemp("wheel"), public_seed(0), fixtures=kit_fixtures_path)
