"""The parent's check of a child's state dict (grader/weights.py): every way out of the contract is refused."""

import pytest
import torch

from grader.weights import WeightsRefused, checked_state, expected_shapes
from reference.vit import ViT

KWARGS = {"embed_dim": 16, "nb_blocks": 1, "num_heads": 2}


@pytest.fixture
def state():
    return {k: v.clone() for k, v in ViT(**KWARGS).state_dict().items()}


def refused(expected, got) -> str:
    with pytest.raises(WeightsRefused) as caught:
        checked_state(expected, got, "the test ViT")
    return str(caught.value)


def test_the_contract_state_passes_as_float32_copies(state):
    expected = expected_shapes(ViT(**KWARGS))
    got = checked_state(expected, {k: v.double() for k, v in state.items()}, "the test ViT")
    assert set(got) == set(state) and all(v.dtype == torch.float32 for v in got.values())
    assert all(torch.allclose(got[k], state[k]) for k in state)


def test_missing_unexpected_misshaped_nonfloat_nonfinite_and_oversized_are_refused(state):
    expected = expected_shapes(ViT(**KWARGS))
    message = refused(expected, {**{k: v for k, v in state.items() if k != "head.bias"}, "knn": torch.zeros(3)})
    assert "missing [head.bias]" in message and "unexpected [knn]" in message
    message = refused(expected, {**state, "head.weight": torch.zeros(10, 17)})
    assert "head.weight: expected shape (10, 16), got (10, 17)" in message
    assert "int64" in refused(expected, {**state, "head.bias": torch.zeros(10, dtype=torch.int64)})
    assert "NaN or inf" in refused(expected, {**state, "head.bias": torch.full((10,), float("nan"))})
    assert "bytes" in refused({"w": (4,)}, {"w": torch.zeros(4, dtype=torch.complex128)})
