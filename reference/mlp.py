"""Q2: the transformer's feed-forward network."""

import torch
from torch import nn


class MLP(nn.Module):
    """Q2: MLP(x) = fc2(GELU(fc1(x))), one hidden layer, same input and output dimension."""

    def __init__(self, in_features: int, hidden_features: int):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))  # (B, N, D) -> (B, N, H) -> (B, N, D)
