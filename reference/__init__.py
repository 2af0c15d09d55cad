"""The answer key of the ViT lab: one module per question, with the written answers and experiments."""

from reference.mlp import MLP
from reference.multi_head_attention import MultiHeadSelfAttention
from reference.patch_embedding import PatchEmbedding
from reference.positional_encoding import sinusoidal_positional_encoding
from reference.self_attention import SelfAttention
from reference.timm_vit import vit_small_for_mnist
from reference.transformer_block import TransformerBlock
from reference.vit import ViT

__all__ = [
    "MLP",
    "MultiHeadSelfAttention",
    "PatchEmbedding",
    "SelfAttention",
    "TransformerBlock",
    "ViT",
    "sinusoidal_positional_encoding",
    "vit_small_for_mnist",
]
