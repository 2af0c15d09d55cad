"""Fixtures of the diagnostics tests."""

import pytest


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny tensors: one thread avoids spin-waiting on a loaded machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
