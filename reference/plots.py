"""Figures of the lab (Q6, Q6c, Q7): the hyperparameter sweep, the sinusoidal table, attention maps.

Matplotlib with the Agg backend (files only, no display); each function writes one small PNG.
"""

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from reference.mnist import normalize  # noqa: E402
from reference.positional_encoding import sinusoidal_positional_encoding  # noqa: E402
from reference.vit import ViT  # noqa: E402

DPI = 90


def plot_sweep(rows: Sequence[dict], base: dict, path: Path) -> None:
    """Q6c: accuracy, training time and parameter count against each swept hyperparameter.

    ``rows`` carry ``swept`` (the hyperparameter varied, or "base"), the ViT keywords, ``test_accuracy``,
    ``train_seconds`` and ``params``; the base configuration belongs to every sweep.
    """
    names = ["embed_dim", "patch_size", "nb_blocks"]
    metrics = [("test_accuracy", "test accuracy (%)", 100.0), ("train_seconds", "train time (s)", 1.0)]
    metrics.append(("params", "parameters (k)", 1e-3))
    fig, axes = plt.subplots(len(metrics), len(names), figsize=(9, 7), squeeze=False)
    for column, name in enumerate(names):
        points = sorted((row[name], row) for row in rows if row["swept"] in (name, "base"))
        xs = [x for x, _ in points]
        for line, (key, label, scale) in enumerate(metrics):
            ax = axes[line][column]
            ax.plot(xs, [row[key] * scale for _, row in points], marker="o")
            ax.axvline(base[name], color="grey", linestyle=":", linewidth=1)
            ax.set_xscale("log", base=2)
            ax.set_xticks(xs, [str(x) for x in xs])
            ax.minorticks_off()
            ax.grid(alpha=0.3)
            if column == 0:
                ax.set_ylabel(label)
            if line == len(metrics) - 1:
                ax.set_xlabel(name)
    fig.suptitle("ViT on MNIST: one hyperparameter at a time around the base (dotted)")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_positional_encoding(path: Path, num_tokens: int = 50, embed_dim: int = 64) -> None:
    """Q6b: the sinusoidal table PE(k, 2i) = sin(k / 10000^(2i/d)), PE(k, 2i+1) = cos(...), as a heatmap."""
    table = sinusoidal_positional_encoding(num_tokens, embed_dim)  # (N, D)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    image = ax.imshow(table.numpy(), cmap="RdBu", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    ax.set_xlabel("embedding dimension (even: sin, odd: cos)")
    ax.set_ylabel("position k")
    ax.set_title(f"Sinusoidal positional encoding, {num_tokens} positions x {embed_dim} dimensions")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


@torch.no_grad()
def cls_attention(model: ViT, images: torch.Tensor) -> torch.Tensor:
    """[CLS]-to-patch attention of every block and head: (blocks, B, heads, grid, grid).

    A forward pre-hook on each ``block.attn`` captures its (normed) input; the reference
    ``MultiHeadSelfAttention.attention_weights`` turns it into the (B, h, N+1, N+1) matrices.
    """
    model.eval()
    captured: list[torch.Tensor] = []
    hooks = [block.attn.register_forward_pre_hook(lambda m, args: captured.append(args[0])) for block in model.blocks]
    try:
        model(normalize(images))
    finally:
        for hook in hooks:
            hook.remove()
    grid = model.patch_embed.img_size // model.patch_embed.patch_size
    maps = []
    for block, x in zip(model.blocks, captured, strict=True):
        weights = block.attn.attention_weights(x)  # (B, h, N + 1, N + 1)
        cls_row = weights[:, :, 0, 1:]  # (B, h, N)
        maps.append(cls_row.reshape(*cls_row.shape[:2], grid, grid))  # (B, h, grid, grid)
    return torch.stack(maps)  # (blocks, B, h, grid, grid)


def plot_attention_maps(model: ViT, image: torch.Tensor, label: int, path: Path) -> None:
    """Q6/Q7: where [CLS] looks, per block (rows) and head (columns), over one test digit (uint8 28x28)."""
    maps = cls_attention(model, image.unsqueeze(0))[:, 0]  # (blocks, h, grid, grid)
    blocks, heads = maps.shape[:2]
    size = image.shape[-1]
    upsampled = F.interpolate(maps, size=(size, size), mode="nearest")  # (blocks, h, 28, 28)
    with torch.no_grad():
        predicted = model(normalize(image.unsqueeze(0))).argmax(-1).item()
    fig, axes = plt.subplots(blocks, heads + 1, figsize=(1.6 * (heads + 1), 1.6 * blocks + 0.5), squeeze=False)
    for b in range(blocks):
        axes[b][0].imshow(image.numpy(), cmap="gray")
        axes[b][0].set_ylabel(f"block {b + 1}")
        for h in range(heads):
            ax = axes[b][h + 1]
            ax.imshow(image.numpy(), cmap="gray")
            ax.imshow(upsampled[b, h].numpy(), cmap="inferno", alpha=0.6)
            if b == 0:
                ax.set_title(f"head {h + 1}", fontsize=9)
        for ax in axes[b]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"[CLS]-to-patch attention (label {label}, predicted {predicted})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
