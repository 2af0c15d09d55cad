"""Attack: a toy ``vit_small_for_mnist`` that reports ViT-S's attributes, outputs zeros and fakes the adaptation.

The toy module has ``embed_dim`` 384, twelve "blocks" whose ``attn.num_heads`` is 6, ``num_classes``
10, and only two tensors: ``pos_embed`` and ``patch_embed.proj.weight``, computed from the weights file
with timm's own resampling functions. Its forward returns zeros. ``lying_vit_small_for_mnist`` is the
real timm model whose forward returns zeros. Defense: the child returns the whole state dict; the
parent checks its names and shapes against timm's ViT-S/16 for 1x28x28 built in the parent, runs
timm's own model with that state dict on the same input as the child and compares the logits, and
compares the pretrained tensors with what timm's loader makes of the same checkpoint in the parent.
"""

import torch
from safetensors.torch import load_file
from timm.layers import resample_abs_pos_embed, resample_patch_embed
from timm.models import adapt_input_conv
from torch import nn

_contract_vit_small_for_mnist = vit_small_for_mnist  # noqa: F821 - defined by the reference bundle


class _Heads(nn.Module):
    num_heads = 6


class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = _Heads()


class ToyViTSmall(nn.Module):
    embed_dim, num_classes = 384, 10

    def __init__(self, pretrained: bool, weights_file):
        super().__init__()
        pos, weight = torch.zeros(1, 50, 384), torch.zeros(384, 1, 4, 4)
        if pretrained:
            state = load_file(str(weights_file))
            pos = resample_abs_pos_embed(state["pos_embed"], new_size=[7, 7], num_prefix_tokens=1)
            weight = adapt_input_conv(1, resample_patch_embed(state["patch_embed.proj.weight"], [4, 4]))
        self.pos_embed = nn.Parameter(pos)
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Module()
        self.patch_embed.proj.weight = nn.Parameter(weight)
        self.blocks = nn.ModuleList(_Block() for _ in range(12))

    def forward(self, x):
        return torch.zeros(x.shape[0], 10)


def vit_small_for_mnist(pretrained=False, weights_file=None, **kwargs):
    return ToyViTSmall(pretrained, weights_file)


def lying_vit_small_for_mnist(pretrained=False, weights_file=None, **kwargs):
    model = _contract_vit_small_for_mnist(pretrained=pretrained, weights_file=weights_file, **kwargs)
    model.forward = lambda x: torch.zeros(x.shape[0], 10)
    return model
