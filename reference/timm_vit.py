"""Q8: timm's ViT-S adapted to MNIST."""

from pathlib import Path

import timm
import torch
from torch import nn

TIMM_VIT_SMALL = "vit_small_patch16_224"


def vit_small_for_mnist(
    pretrained: bool = False,
    weights_file: str | Path | None = None,
    *,
    img_size: int = 28,
    in_chans: int = 1,
    num_classes: int = 10,
    patch_size: int = 4,
) -> nn.Module:
    """Q8b: ViT-S/16 rebuilt for (B, in_chans, img_size, img_size) inputs and ``num_classes`` outputs.

    timm does the adaptation when it loads pretrained weights: the position embedding is resampled
    to the new token grid, the patch-embedding kernel to the new patch size, the RGB input conv is
    summed to ``in_chans`` channels, and the classifier is re-initialised for ``num_classes``.
    With ``weights_file`` the weights come from that local file instead of the hub.
    """
    overlay = dict(file=str(weights_file), custom_load=False) if weights_file is not None else None
    return timm.create_model(
        TIMM_VIT_SMALL,
        pretrained=pretrained,
        pretrained_cfg_overlay=overlay,
        img_size=img_size,
        in_chans=in_chans,
        num_classes=num_classes,
        patch_size=patch_size,
    )


def demonstrate_input_mismatch(batch_size: int = 2) -> dict[str, str]:
    """Q8a: what the unmodified ViT-S (224x224, 3 channels) says about MNIST-sized and 1-channel tensors."""
    model = timm.create_model(TIMM_VIT_SMALL, pretrained=False).eval()
    outcomes = {}
    for shape in ((batch_size, 1, 28, 28), (batch_size, 3, 28, 28), (batch_size, 1, 224, 224)):
        try:
            with torch.no_grad():
                model(torch.zeros(shape))
            outcomes[str(shape)] = "ran"
        except Exception as error:  # noqa: BLE001 - the error itself is the demonstration
            outcomes[str(shape)] = f"{type(error).__name__}: {error}"
    return outcomes
