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


class ActivationAfterOutput(MLP):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.fc2(self.act(self.fc1(x))))  # (B, N, D), a GELU after fc2 too


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
        id="q2.activation_after_output",
        question="Q2",
        name="an extra activation after the output layer fc2",
        hint=(
            "The activation goes between the two layers only: return fc2(act(fc1(x))). A GELU after fc2 "
            "(e.g. nn.Sequential(fc1, GELU, fc2, GELU)) clips the block's output before the residual."
        ),
        target=MLP,
        variant=ActivationAfterOutput,
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
