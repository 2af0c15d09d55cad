"""Q2 mistakes: the activation of the transformer's MLP (tanh GELU is accepted: grader/checks/variants.py)."""

import torch
import torch.nn.functional as F

from grader.diagnostics.catalog import Mistake, register
from reference.mlp import MLP


class ReluMLP(MLP):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(x)))  # (B, N, D)


class LinearMLP(MLP):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.fc1(x))  # (B, N, D)


register(
    Mistake(
        id="q2.relu",
        question="Q2",
        name="ReLU instead of GELU in the MLP",
        hint="The ViT MLP uses GELU: self.act = nn.GELU() and fc2(act(fc1(x))).",
        target=MLP,
        variant=ReluMLP,
    ),
    Mistake(
        id="q2.no_activation",
        question="Q2",
        name="no activation between fc1 and fc2",
        hint="Apply the GELU between the two layers: fc2(act(fc1(x))); without it the MLP is one linear map.",
        target=MLP,
        variant=LinearMLP,
    ),
)
