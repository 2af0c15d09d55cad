"""Keep the process-wide torch settings that the training code changes from leaking into other tests."""

import pytest
import torch


@pytest.fixture(autouse=True)
def restore_torch_settings():
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    threads = torch.get_num_threads()
    yield
    torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
    torch.set_num_threads(threads)
