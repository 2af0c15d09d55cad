"""Q6: the Vision Transformer."""

import torch
from torch import nn

from reference.patch_embedding import PatchEmbedding
from reference.positional_encoding import sinusoidal_positional_encoding
from reference.transformer_block import TransformerBlock


class ViT(nn.Module):
    """Q6: z_0 = [x_cls; x_1 E; ...; x_N E] + E_pos, z_l = Block(z_{l-1}), y = head(LN(z_L^0)).

    The [CLS] token sits at index 0; the classifier reads only that token after the final norm.
    ``pos_embed`` is learned, or the fixed sinusoidal table of ``sinusoidal_positional_encoding``.
    """

    def __init__(
        self,
        img_size: int = 28,
        patch_size: int = 7,
        in_chans: int = 1,
        num_classes: int = 10,
        embed_dim: int = 64,
        nb_blocks: int = 4,
        num_heads: int = 4,
        mlp_ratio: float = 4.0,
        pos_embedding: str = "learned",
    ):
        super().__init__()
        self.patch_embed = PatchEmbedding(img_size, patch_size, in_chans, embed_dim)
        num_tokens = self.patch_embed.num_patches + 1
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        if pos_embedding == "learned":
            self.pos_embed = nn.Parameter(torch.zeros(1, num_tokens, embed_dim))
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        elif pos_embedding == "sinusoidal":
            table = sinusoidal_positional_encoding(num_tokens, embed_dim)  # (N + 1, D)
            self.register_buffer("pos_embed", table.unsqueeze(0))  # (1, N + 1, D)
        else:
            raise ValueError(f"pos_embedding must be 'learned' or 'sinusoidal', got {pos_embedding!r}.")
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.blocks = nn.Sequential(*[TransformerBlock(embed_dim, num_heads, mlp_ratio) for _ in range(nb_blocks)])
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)  # (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([cls, x], dim=1) + self.pos_embed  # (B, N + 1, D)
        x = self.norm(self.blocks(x))  # (B, N + 1, D)
        return self.head(x[:, 0])  # (B, num_classes)
