"""Q7: train the reference ViT on MNIST: the one training loop of the project.

Data stays in memory as tensors (``reference.mnist``), on the device when there is one; every epoch
indexes a seeded random permutation (no per-sample DataLoader). AdamW with a linear warmup then a
cosine decay; with a time budget the schedule runs on the clock, so the cosine reaches zero when the
budget is spent. ``experiments.py``, ``finetune_timm.py`` and ``benchmarks/train_mnist.py`` reuse
``train_model`` and ``evaluate``.

    python -m reference.train --data-profile full --time-budget 60 --output summary.json
"""

import argparse
import logging
import math
import os
import platform
import sys
import time
from pathlib import Path

import timm
import torch
import torch.nn.functional as F
from pydantic import BaseModel, Field
from torch import nn
from tqdm import tqdm

from reference.mnist import PROFILES, MnistSplit, load_split, normalize
from reference.vit import ViT

log = logging.getLogger(__name__)


class Recipe(BaseModel):
    """How to train: the optimiser, the schedule, the budget and the seed."""

    epochs: int = Field(default=5, ge=1, description="passes over the training set (at most, with a time budget)")
    batch_size: int = Field(default=128, ge=1, description="samples per optimiser step")
    lr: float = Field(default=2e-3, gt=0, description="peak learning rate of AdamW")
    weight_decay: float = Field(default=0.05, ge=0, description="AdamW decoupled weight decay")
    warmup_fraction: float = Field(default=0.05, ge=0, le=1, description="share of the schedule spent warming up")
    label_smoothing: float = Field(default=0.0, ge=0, lt=1, description="cross-entropy label smoothing")
    shift: int = Field(default=0, ge=0, description="augmentation: random translation of up to this many pixels")
    time_budget: float | None = Field(default=None, gt=0, description="stop training after this many seconds")
    seed: int = Field(default=0, description="seeds the permutations and the augmentation")
    threads: int | None = Field(default=None, ge=1, description="torch CPU threads (None: torch's default)")
    amp: bool = Field(default=True, description="bf16 autocast (CUDA only)")
    compile: bool = Field(default=False, description="torch.compile the model (CUDA only)")


class History(BaseModel):
    """What happened during training."""

    steps: int = Field(description="optimiser steps taken")
    samples: int = Field(description="training samples seen")
    epochs: float = Field(description="passes over the training set, fractional when stopped early")
    seconds: float = Field(description="wall time of the training loop")
    samples_per_second: float = Field(description="training throughput")
    stopped_by_budget: bool = Field(description="the time budget ended training before the last epoch")
    epoch_losses: list[float] = Field(description="mean training loss of each (possibly partial) epoch")


def resolve_device(device: str) -> torch.device:
    """``auto`` is CUDA when available, else CPU."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but torch sees no CUDA device.")
    return torch.device(device)


def make_deterministic(seed: int, threads: int | None = None, warn_only: bool = False) -> None:
    """Seed torch and ask for deterministic kernels (cuBLAS needs its workspace setting first).

    ``warn_only`` lets kernels without a deterministic version run (with a warning): on CUDA the fused
    attention backward of timm is one of them.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=warn_only)
    torch.backends.cudnn.benchmark = False
    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)


def random_shift(images: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by up to ``shift`` pixels (zero padding, then a random crop), on tensors."""
    B, C, H, W = images.shape
    padded = F.pad(images, (shift, shift, shift, shift))  # (B, C, H + 2s, W + 2s)
    offsets = torch.randint(0, 2 * shift + 1, (2, B), generator=generator, device=generator.device)
    offsets = offsets.to(images.device)
    rows = offsets[0, :, None] + torch.arange(H, device=images.device)  # (B, H)
    cols = offsets[1, :, None] + torch.arange(W, device=images.device)  # (B, W)
    batch = torch.arange(B, device=images.device)[:, None, None, None]  # (B, 1, 1, 1)
    channel = torch.arange(C, device=images.device)[None, :, None, None]  # (1, C, 1, 1)
    return padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]  # (B, C, H, W)


def lr_factor(progress: float, warmup_fraction: float) -> float:
    """Linear warmup to 1 over ``warmup_fraction`` of training, then cosine decay to 0; progress in [0, 1]."""
    if progress < warmup_fraction:
        return progress / warmup_fraction
    decay = (progress - warmup_fraction) / max(1e-8, 1 - warmup_fraction)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, decay)))


def train_model(
    model: nn.Module,
    train_split: MnistSplit,
    recipe: Recipe,
    device: torch.device | str = "cpu",
    *,
    progress: bool = False,
) -> History:
    """Train ``model`` in place on an in-memory split; returns the history. Inputs are (B, 1, 28, 28)."""
    device = torch.device(device)
    if recipe.threads is not None:
        torch.set_num_threads(recipe.threads)
    model.to(device).train()
    images = train_split.images.to(device)  # (N, 28, 28) uint8
    labels = train_split.labels.to(device)  # (N,)
    n = len(labels)
    steps_per_epoch = math.ceil(n / recipe.batch_size)
    total_steps = recipe.epochs * steps_per_epoch
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if param.ndim <= 1 or name.endswith(("pos_embed", "cls_token")) else decay).append(param)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": recipe.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=recipe.lr,
        fused=device.type == "cuda",
    )
    generator = torch.Generator(device=device).manual_seed(recipe.seed)
    on_cuda = device.type == "cuda"
    forward = torch.compile(model) if (recipe.compile and on_cuda) else model
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=recipe.amp and on_cuda)

    step, samples, losses, stopped = 0, 0, [], False
    bar = tqdm(total=total_steps, disable=not progress, file=sys.stderr, unit="step", dynamic_ncols=True)
    start = time.perf_counter()
    for _ in range(recipe.epochs):
        order = torch.randperm(n, generator=generator, device=device)
        epoch_loss = torch.zeros((), device=device)
        epoch_steps = 0
        for begin in range(0, n, recipe.batch_size):
            elapsed = time.perf_counter() - start
            fraction = step / total_steps
            if recipe.time_budget is not None:
                if elapsed >= recipe.time_budget:
                    stopped = True
                    break
                fraction = max(fraction, elapsed / recipe.time_budget)
            for group in optimizer.param_groups:
                group["lr"] = recipe.lr * lr_factor(fraction, recipe.warmup_fraction)
            index = order[begin : begin + recipe.batch_size]
            x = normalize(images[index])  # (B, 1, 28, 28)
            if recipe.shift:
                x = random_shift(x, recipe.shift, generator)
            with autocast:
                loss = F.cross_entropy(forward(x), labels[index], label_smoothing=recipe.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            epoch_loss += loss.detach()
            epoch_steps += 1
            step += 1
            samples += len(index)
            bar.update(1)
            if progress and step % 20 == 0:
                bar.set_postfix(loss=f"{loss.item():.3f}")
        if epoch_steps:
            losses.append(float(epoch_loss) / epoch_steps)
        if stopped:
            break
    if on_cuda:
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    bar.close()
    return History(
        steps=step,
        samples=samples,
        epochs=samples / n,
        seconds=seconds,
        samples_per_second=samples / max(seconds, 1e-9),
        stopped_by_budget=stopped,
        epoch_losses=losses,
    )


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, device: torch.device | str = "cpu", batch_size: int = 1000):
    """Predicted classes (N,) for uint8 images (N, 28, 28)."""
    device = torch.device(device)
    model.to(device).eval()
    out = []
    for begin in range(0, len(images), batch_size):
        x = normalize(images[begin : begin + batch_size].to(device))  # (B, 1, 28, 28)
        out.append(model(x).argmax(dim=-1).cpu())
    return torch.cat(out)


def evaluate(model: nn.Module, split: MnistSplit, device: torch.device | str = "cpu") -> float:
    """Accuracy of ``model`` on a split, in [0, 1]."""
    return (predict(model, split.images, device) == split.labels).float().mean().item()


class TrainSummary(BaseModel):
    """The JSON summary of ``python -m reference.train``."""

    test_accuracy: float = Field(description="accuracy on the test split of the data profile, in [0, 1]")
    train_seconds: float = Field(description="wall time of training (evaluation excluded)")
    eval_seconds: float = Field(description="wall time of the test evaluation")
    samples_per_second: float = Field(description="training throughput")
    epochs: float = Field(description="passes over the training set")
    steps: int = Field(description="optimiser steps")
    stopped_by_budget: bool = Field(description="the time budget ended training")
    final_loss: float | None = Field(description="mean training loss of the last epoch")
    params: int = Field(description="trainable parameters")
    device: str = Field(description="torch device and its name")
    machine: str = Field(description="CPU model and core count")
    threads: int = Field(description="torch CPU threads")
    torch: str = Field(description="torch version")
    timm: str = Field(description="timm version")
    data_profile: str = Field(description="bundled or full")
    train_size: int = Field(description="training samples")
    test_size: int = Field(description="test samples")
    model: dict = Field(description="ViT keyword arguments")
    recipe: Recipe = Field(description="the training recipe")


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or platform), with the number of cores."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} cores"


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"


def fit_and_evaluate(
    model: nn.Module,
    model_description: dict,
    recipe: Recipe,
    train_split: MnistSplit,
    test_split: MnistSplit,
    device: torch.device,
    data_profile: str,
    progress: bool = False,
) -> TrainSummary:
    """Train ``model`` with ``train_model``, evaluate it on ``test_split`` and summarise both."""
    history = train_model(model, train_split, recipe, device, progress=progress)
    start = time.perf_counter()
    accuracy = evaluate(model, test_split, device)
    return TrainSummary(
        test_accuracy=accuracy,
        train_seconds=history.seconds,
        eval_seconds=time.perf_counter() - start,
        samples_per_second=history.samples_per_second,
        epochs=history.epochs,
        steps=history.steps,
        stopped_by_budget=history.stopped_by_budget,
        final_loss=history.epoch_losses[-1] if history.epoch_losses else None,
        params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        device=device_name(device),
        machine=cpu_model(),
        threads=torch.get_num_threads(),
        torch=torch.__version__,
        timm=timm.__version__,
        data_profile=data_profile,
        train_size=len(train_split),
        test_size=len(test_split),
        model=model_description,
        recipe=recipe,
    )


def run(
    model_kwargs: dict,
    recipe: Recipe,
    data_profile: str = "bundled",
    device: str = "auto",
    progress: bool = False,
    data_dir: Path | None = None,
) -> TrainSummary:
    """Build a seeded reference ViT, train it on ``data_profile``, evaluate on its test split."""
    torch_device = resolve_device(device)
    make_deterministic(recipe.seed, recipe.threads, warn_only=torch_device.type == "cuda")
    train_split = load_split(data_profile, train=True, data_dir=data_dir)
    test_split = load_split(data_profile, train=False, data_dir=data_dir)
    model = ViT(**model_kwargs)
    return fit_and_evaluate(model, model_kwargs, recipe, train_split, test_split, torch_device, data_profile, progress)


def emit_summary(summary: TrainSummary, output: Path | None) -> None:
    """Write the JSON summary to stdout (and to ``output`` when given); log the headline figures."""
    text = summary.model_dump_json(indent=2)
    if output:
        output.write_text(text + "\n")
    sys.stdout.write(text + "\n")
    log.info("test accuracy %.4f after %.1f s of training", summary.test_accuracy, summary.train_seconds)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The model, recipe and data options shared by the training entry points."""
    parser.add_argument("--data-profile", choices=PROFILES, default="bundled")
    parser.add_argument("--data-dir", type=Path, help="default: $VITGRADE_DATA_DIR or ~/.cache/vitgrade/data")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto")
    parser.add_argument("--epochs", type=int, default=Recipe().epochs)
    parser.add_argument("--time-budget", type=float, help="seconds of training, then evaluate")
    parser.add_argument("--batch-size", type=int, default=Recipe().batch_size)
    parser.add_argument("--lr", type=float, default=Recipe().lr)
    parser.add_argument("--weight-decay", type=float, default=Recipe().weight_decay)
    parser.add_argument("--warmup-fraction", type=float, default=Recipe().warmup_fraction)
    parser.add_argument("--label-smoothing", type=float, default=Recipe().label_smoothing)
    parser.add_argument("--shift", type=int, default=Recipe().shift, help="random-translation augmentation (px)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    parser.add_argument("--compile", action="store_true", help="torch.compile on CUDA")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def recipe_from_args(args: argparse.Namespace) -> Recipe:
    return Recipe(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        warmup_fraction=args.warmup_fraction,
        label_smoothing=args.label_smoothing,
        shift=args.shift,
        time_budget=args.time_budget,
        seed=args.seed,
        threads=args.threads,
        amp=not args.no_amp,
        compile=args.compile,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m reference.train", description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--embed-dim", type=int, default=64)
    parser.add_argument("--patch-size", type=int, default=7)
    parser.add_argument("--nb-blocks", type=int, default=4)
    parser.add_argument("--num-heads", type=int, default=4)
    parser.add_argument("--mlp-ratio", type=float, default=4.0)
    parser.add_argument("--pos-embedding", choices=("learned", "sinusoidal"), default="learned")
    parser.add_argument("--output", type=Path, help="also write the JSON summary here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    model_kwargs = dict(
        patch_size=args.patch_size,
        embed_dim=args.embed_dim,
        nb_blocks=args.nb_blocks,
        num_heads=args.num_heads,
        mlp_ratio=args.mlp_ratio,
        pos_embedding=args.pos_embedding,
    )
    summary = run(model_kwargs, recipe_from_args(args), args.data_profile, args.device, not args.quiet, args.data_dir)
    emit_summary(summary, args.output)


if __name__ == "__main__":
    main()
