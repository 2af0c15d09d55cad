"""Q8c: train timm's ViT-S adapted to MNIST (``vit_small_for_mnist``), from scratch or from ImageNet weights.

The training loop is the one of ``reference.train``. Without network, ``--pretrained --weights-file
PATH`` loads a local checkpoint (``.safetensors`` or ``.pth`` of ``vit_small_patch16_224``) through
timm's own pretrained-loading code, which resamples the position embedding and the patch kernel
and sums the RGB input kernel to one channel.

    python -m reference.finetune_timm --data-profile full --epochs 3 --device cuda
    python -m reference.finetune_timm --pretrained --weights-file vit_small.safetensors --device cuda
"""

import argparse
import logging
from pathlib import Path

from reference.mnist import MnistSplit, load_split
from reference.timm_vit import TIMM_VIT_SMALL, vit_small_for_mnist
from reference.train import (
    TrainSummary,
    add_arguments,
    emit_summary,
    fit_and_evaluate,
    make_deterministic,
    recipe_from_args,
    resolve_device,
)


def head(split: MnistSplit, limit: int | None) -> MnistSplit:
    """The first ``limit`` samples of a split (all of it when ``limit`` is None)."""
    if limit is None:
        return split
    return MnistSplit(images=split.images[:limit], labels=split.labels[:limit])


def run(args: argparse.Namespace) -> TrainSummary:
    """Build the adapted ViT-S (seeded), train it with the shared loop and evaluate it."""
    recipe = recipe_from_args(args)
    device = resolve_device(args.device)
    make_deterministic(recipe.seed, recipe.threads, warn_only=device.type == "cuda")
    model = vit_small_for_mnist(args.pretrained, args.weights_file, patch_size=args.patch_size)
    train_split = head(load_split(args.data_profile, train=True, data_dir=args.data_dir), args.train_limit)
    test_split = head(load_split(args.data_profile, train=False, data_dir=args.data_dir), args.test_limit)
    description = {
        "name": TIMM_VIT_SMALL,
        "pretrained": args.pretrained,
        "weights_file": str(args.weights_file) if args.weights_file else None,
        "img_size": 28,
        "in_chans": 1,
        "patch_size": args.patch_size,
        "num_classes": 10,
    }
    return fit_and_evaluate(
        model, description, recipe, train_split, test_split, device, args.data_profile, not args.quiet
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m reference.finetune_timm", description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.set_defaults(epochs=3, lr=5e-4, batch_size=128, warmup_fraction=0.1)
    parser.add_argument("--pretrained", action="store_true", help="start from ImageNet weights (timm loader)")
    parser.add_argument("--weights-file", type=Path, help="local checkpoint of vit_small_patch16_224")
    parser.add_argument("--patch-size", type=int, default=4, help="patch size of the adapted model (28 %% p == 0)")
    parser.add_argument("--train-limit", type=int, help="train on the first N training digits only")
    parser.add_argument("--test-limit", type=int, help="evaluate on the first N test digits only")
    parser.add_argument("--output", type=Path, help="also write the JSON summary here")
    args = parser.parse_args(argv)
    if args.weights_file is not None and not args.pretrained:
        parser.error("--weights-file needs --pretrained")
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    emit_summary(run(args), args.output)


if __name__ == "__main__":
    main()
