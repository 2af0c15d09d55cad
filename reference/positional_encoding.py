"""Q6: the sinusoidal positional encoding."""

import torch


def sinusoidal_positional_encoding(num_tokens: int, embed_dim: int) -> torch.Tensor:
    """Q6: PE(k, 2i) = sin(k / 10000^(2i/d)), PE(k, 2i+1) = cos(k / 10000^(2i/d)); shape (num_tokens, d)."""
    position = torch.arange(num_tokens, dtype=torch.float64).unsqueeze(1)  # (N, 1)
    two_i = torch.arange(0, embed_dim, 2, dtype=torch.float64)  # (ceil(d/2),)
    angle = position / 10000 ** (two_i / embed_dim)  # (N, ceil(d/2))
    encoding = torch.zeros(num_tokens, embed_dim, dtype=torch.float64)
    encoding[:, 0::2] = torch.sin(angle)
    encoding[:, 1::2] = torch.cos(angle[:, : embed_dim // 2])
    return encoding.float()
