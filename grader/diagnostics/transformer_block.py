"""Q5 mistakes: where the LayerNorms and the residual connections go in the pre-norm block."""

import torch

from grader.diagnostics.catalog import Mistake, register
from reference.transformer_block import TransformerBlock


class PostNorm(TransformerBlock):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.attn(x))  # (B, N, D)
        return self.norm2(x + self.mlp(x))  # (B, N, D)


class NoAttentionResidual(TransformerBlock):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.attn(self.norm1(x))  # (B, N, D)
        return x + self.mlp(self.norm2(x))


class NoMlpResidual(TransformerBlock):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))  # (B, N, D)
        return self.mlp(self.norm2(x))


class ResidualFromNormalized(TransformerBlock):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = h + self.attn(h)  # (B, N, D), the residual carries LN(x) instead of x
        h = self.norm2(x)
        return h + self.mlp(h)


class SharedNorm(TransformerBlock):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))  # (B, N, D)
        return x + self.mlp(self.norm1(x))  # norm1 where norm2 belongs


register(
    Mistake(
        id="q5.post_norm",
        question="Q5",
        name="post-norm (LayerNorm after each residual addition)",
        hint=(
            "The ViT block is pre-norm: x = x + attn(norm1(x)), then x = x + mlp(norm2(x)); "
            "apply LayerNorm before attention and MLP, not after the additions."
        ),
        target=TransformerBlock,
        variant=PostNorm,
    ),
    Mistake(
        id="q5.no_attention_residual",
        question="Q5",
        name="no residual connection around the attention",
        hint="Add the input back: x = x + self.attn(self.norm1(x)).",
        target=TransformerBlock,
        variant=NoAttentionResidual,
    ),
    Mistake(
        id="q5.no_mlp_residual",
        question="Q5",
        name="no residual connection around the MLP",
        hint="Add the input back: return x + self.mlp(self.norm2(x)).",
        target=TransformerBlock,
        variant=NoMlpResidual,
    ),
    Mistake(
        id="q5.residual_from_normalized",
        question="Q5",
        name="residuals that add the normalised input LN(x) instead of x",
        hint="Keep the raw x on the residual path: x = x + attn(norm1(x)), not h = norm1(x); x = h + attn(h).",
        target=TransformerBlock,
        variant=ResidualFromNormalized,
    ),
    Mistake(
        id="q5.shared_norm",
        question="Q5",
        name="norm1 used before the MLP instead of norm2",
        hint="Each sub-layer has its own LayerNorm: norm1 before attention, norm2 before the MLP.",
        target=TransformerBlock,
        variant=SharedNorm,
    ),
)
