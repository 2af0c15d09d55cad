"""Q6c/Q7: sweep embed_dim, patch_size and nb_blocks one at a time around a base ViT, with figures.

Writes to ``reference/results/`` (or ``--output-dir``): ``sweep.csv``, ``sweep.md`` (accuracy, train
time, parameters per configuration), ``sweep.png``, ``positional_encoding.png`` and
``attention_maps.png`` ([CLS] attention of the trained base model over a test digit).

    python -m reference.experiments            # small grid, bundled digits, a few minutes on a CPU
    python -m reference.experiments --full     # larger grid on the full 60k/10k set (a GPU helps)
"""

import argparse
import csv
import logging
from pathlib import Path

import torch

from reference.mnist import PROFILES, MnistSplit, load_split
from reference.plots import plot_attention_maps, plot_positional_encoding, plot_sweep
from reference.train import Recipe, TrainSummary, fit_and_evaluate, make_deterministic, predict, resolve_device
from reference.vit import ViT

log = logging.getLogger(__name__)

RESULTS_DIR = Path(__file__).parent / "results"
BASE = dict(embed_dim=64, patch_size=7, nb_blocks=4, num_heads=4)
GRID = dict(embed_dim=[32, 64, 128], patch_size=[4, 7, 14], nb_blocks=[1, 2, 4, 8])
FULL_GRID = dict(embed_dim=[16, 32, 64, 128, 256], patch_size=[2, 4, 7, 14], nb_blocks=[1, 2, 4, 6, 8, 12])
COLUMNS = ["swept", "embed_dim", "patch_size", "nb_blocks", "num_heads", "tokens", "params", "epochs"]
COLUMNS += ["test_accuracy", "train_seconds", "samples_per_second"]


def configurations(grid: dict[str, list[int]], base: dict[str, int]) -> list[tuple[str, dict[str, int]]]:
    """The base, then each hyperparameter varied alone (the base value is not repeated)."""
    configs = [("base", dict(base))]
    for name, values in grid.items():
        for value in values:
            if value != base[name]:
                configs.append((name, {**base, name: value}))
    return configs


def row_of(swept: str, config: dict[str, int], summary: TrainSummary) -> dict:
    tokens = (28 // config["patch_size"]) ** 2 + 1
    return {
        "swept": swept,
        **config,
        "tokens": tokens,
        "params": summary.params,
        "epochs": round(summary.epochs, 2),
        "test_accuracy": round(summary.test_accuracy, 4),
        "train_seconds": round(summary.train_seconds, 1),
        "samples_per_second": round(summary.samples_per_second),
    }


def markdown_table(rows: list[dict], caption: str) -> str:
    """The sweep as a markdown table, grouped by the hyperparameter varied."""
    lines = [
        caption,
        "",
        "| varied | embed_dim | patch_size | tokens | nb_blocks | params | accuracy (%) | train time (s) |",
    ]
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        lines.append(
            f"| {row['swept']} | {row['embed_dim']} | {row['patch_size']} | {row['tokens']} | {row['nb_blocks']} "
            f"| {row['params']:,} | {100 * row['test_accuracy']:.1f} | {row['train_seconds']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def run_sweep(
    grid: dict[str, list[int]],
    recipe: Recipe,
    data_profile: str,
    device: torch.device,
    output_dir: Path,
    train_limit: int | None = None,
    progress: bool = False,
    data_dir: Path | None = None,
) -> list[dict]:
    """Train every configuration with the same recipe and seed; write the CSV, table and figures."""
    output_dir.mkdir(parents=True, exist_ok=True)
    train_split = load_split(data_profile, train=True, data_dir=data_dir)
    test_split = load_split(data_profile, train=False, data_dir=data_dir)
    if train_limit is not None:
        train_split = MnistSplit(train_split.images[:train_limit], train_split.labels[:train_limit])
    rows, base_model = [], None
    for swept, config in configurations(grid, BASE):
        make_deterministic(recipe.seed, recipe.threads, warn_only=device.type == "cuda")
        model = ViT(**config)
        summary = fit_and_evaluate(model, config, recipe, train_split, test_split, device, data_profile, progress)
        rows.append(row_of(swept, config, summary))
        log.info("%s %s: accuracy %.4f, %.1f s", swept, config, summary.test_accuracy, summary.train_seconds)
        if swept == "base":
            base_model = model.cpu()
    rows.sort(key=lambda r: (r["swept"] != "base", r["swept"], r["embed_dim"], r["patch_size"], r["nb_blocks"]))
    with open(output_dir / "sweep.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    caption = (
        f"ViT on MNIST ({data_profile}: {len(train_split)} train / {len(test_split)} test digits), "
        f"{recipe.epochs} epochs, batch {recipe.batch_size}, AdamW lr {recipe.lr}, seed {recipe.seed}, "
        f"device {device.type}, {recipe.threads or torch.get_num_threads()} thread(s)."
    )
    (output_dir / "sweep.md").write_text(markdown_table(rows, caption))
    plot_sweep(rows, BASE, output_dir / "sweep.png")
    plot_positional_encoding(output_dir / "positional_encoding.png")
    attention_figure(base_model, test_split, output_dir / "attention_maps.png")
    return rows


def attention_figure(model: ViT, test_split: MnistSplit, path: Path, digit: int = 7) -> None:
    """The attention maps of the first test ``digit`` that ``model`` classifies correctly (else the first one)."""
    candidates = (test_split.labels == digit).nonzero().flatten()  # (K,)
    correct = candidates[predict(model, test_split.images[candidates]) == digit]
    index = int(correct[0] if len(correct) else candidates[0])
    plot_attention_maps(model, test_split.images[index], int(test_split.labels[index]), path)


def parse_grid(args: argparse.Namespace) -> dict[str, list[int]]:
    grid = dict(FULL_GRID if args.full else GRID)
    for name in grid:
        values = getattr(args, name)
        if values:
            grid[name] = values
    return grid


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m reference.experiments", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="larger grid, full data set, more epochs")
    parser.add_argument("--data-profile", choices=PROFILES, help="default: bundled, or full with --full")
    parser.add_argument("--data-dir", type=Path, help="default: $VITGRADE_DATA_DIR or ~/.cache/vitgrade/data")
    parser.add_argument("--epochs", type=int, help="default: 4, or 10 with --full")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 copes best with a busy machine)")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto")
    parser.add_argument("--embed-dim", dest="embed_dim", type=int, nargs="+", help="override the embed_dim values")
    parser.add_argument("--patch-size", dest="patch_size", type=int, nargs="+", help="override the patch sizes")
    parser.add_argument("--nb-blocks", dest="nb_blocks", type=int, nargs="+", help="override the depths")
    parser.add_argument("--train-limit", type=int, help="train on the first N digits only")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    recipe = Recipe(
        epochs=args.epochs or (10 if args.full else 4),
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        threads=args.threads,
    )
    profile = args.data_profile or ("full" if args.full else "bundled")
    device = resolve_device(args.device)
    grid = parse_grid(args)
    run_sweep(grid, recipe, profile, device, args.output_dir, args.train_limit, not args.quiet, args.data_dir)


if __name__ == "__main__":
    main()
