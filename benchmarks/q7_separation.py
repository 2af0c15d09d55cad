"""Q7's power to separate a correct ViT from the known mistakes: test accuracy and Q7 points of the reference
and of each known mistake that changes the ViT, over several grading seeds, with the grader's own recipe.

    python benchmarks/q7_separation.py [--seeds 0 1 2 3 4] [--mistakes q5.post_norm q6.no_pos_embed ...]

Prints a table (median accuracy, min-max, median Q7 points of 15) with the machine and its load.
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.api import grade_files  # noqa: E402
from grader.diagnostics import MISTAKES  # noqa: E402
from grader.diagnostics.sources import mistake_source  # noqa: E402
from reference.bundle import bundle_submission  # noqa: E402

DEFAULT = [
    "q2.relu",
    "q3.no_scaling",
    "q4.no_scaling",
    "q4.split_without_transpose",
    "q4.softmax_wrong_axis",
    "q5.post_norm",
    "q5.no_attention_residual",
    "q6.no_pos_embed",
    "q6.mean_pooling",
    "q6.cls_last_read_first",
    "q6.probabilities",
]


def q7(source: str, seed: int, folder: Path) -> tuple[float, float]:
    path = folder / "vit.py"
    path.write_text(source)
    report = grade_files([path], device="cpu", seed=seed, select=["q7.accuracy"])
    check = next(c for c in report.checks if c.id == "q7.accuracy")
    return float(check.details.get("accuracy", 0.0)), check.score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--mistakes", nargs="+", default=DEFAULT, choices=sorted(MISTAKES))
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")
    print(f"{'submission':32} {'median acc':>10} {'min-max':>15} {'median Q7 pts':>14}")
    folder = Path(tempfile.mkdtemp(prefix="vitgrade-q7-"))
    rows = [("reference", bundle_submission())] + [(m, mistake_source(MISTAKES[m])) for m in args.mistakes]
    for name, source in rows:
        figures = [q7(source, seed, folder) for seed in args.seeds]
        accuracies, points = [a for a, _ in figures], [p for _, p in figures]
        print(
            f"{name:32} {statistics.median(accuracies):10.2%} "
            f"{min(accuracies):7.2%}-{max(accuracies):6.2%} {statistics.median(points):14.2f}",
            flush=True,
        )
    print(f"load at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
