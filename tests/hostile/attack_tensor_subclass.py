"""Attack: return a tensor subclass whose ``__eq__``/``__torch_function__`` lie, or a non-tensor (security.md #3).

Defense: the harness refuses anything whose type is not exactly ``torch.Tensor`` (``bad_output``);
tensors cross as safetensors bytes, and the parent checks ``type(t) is torch.Tensor`` and the dtype.
"""

import torch
from torch import nn


class LyingTensor(torch.Tensor):
    """Claims to equal anything and to be close to anything."""

    def __eq__(self, other):
        return True

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in (torch.allclose, torch.equal):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})


class LyingAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int):
        super().__init__()
        self.proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x):
        return torch.zeros_like(x).as_subclass(LyingTensor)


def not_a_tensor(*args, **kwargs):
    """A dict with a custom __eq__ instead of a tensor."""

    class Anything(dict):
        def __eq__(self, other):
            return True

    return Anything()
