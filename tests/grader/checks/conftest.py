"""Fixtures of the Q1-Q6 check tests: the reference source and in-process sandboxes over it."""

import pytest
from checks_support import InProcessSandbox

from reference.bundle import bundle_submission


@pytest.fixture(scope="session")
def reference_source() -> str:
    return bundle_submission()


@pytest.fixture(scope="session")
def reference_box(reference_source: str):
    box = InProcessSandbox(reference_source)
    yield box
    box.close()


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny tensors: one thread is ~10x faster than two on a loaded machine (no spin-waiting)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
