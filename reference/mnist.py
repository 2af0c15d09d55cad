"""MNIST in memory: the one loader that the reference, the experiments and the grader share.

Two data profiles:
- ``bundled``: 4,000 training and 1,000 test digits of real MNIST shipped with the project
  (``reference/data/bundled``), so that tests and an offline first run work;
- ``full``: the 60,000 / 10,000 set, read by torchvision from ``<data_dir>/full/MNIST/raw``,
  put there once by ``python -m reference.mnist fetch`` (download, or a local folder of IDX files).

Images come back as uint8 tensors (N, 28, 28) and labels as int64 (N,); ``normalize`` turns
images into the float (N, 1, 28, 28) input of the models.
"""

import argparse
import gzip
import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision.datasets import MNIST

log = logging.getLogger(__name__)

PROFILES = ("bundled", "full")
BUNDLED_DIR = Path(__file__).parent / "data" / "bundled"
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081

# MD5 of the decompressed files of the full set (the values torchvision checks too).
FULL_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


@dataclass(frozen=True)
class MnistSplit:
    """One split held in memory: uint8 images (N, 28, 28) and int64 labels (N,)."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


DATA_DIR_VARIABLE = "VITGRADE_DATA_DIR"  # the grader's ``data_dir`` setting reads the same variable


def default_cache_dir() -> Path:
    """``~/.cache/vitgrade``: the one default of the grader's cache dir (its ``cache_dir`` setting) and the
    parent of the default data dir. Defined here, the lowest layer, so that the grader and the reference share it."""
    return Path.home() / ".cache" / "vitgrade"


def unconfigured_data_dir() -> Path:
    """``~/.cache/vitgrade/data``: the data dir when ``VITGRADE_DATA_DIR`` is not set."""
    return default_cache_dir() / "data"


def default_data_dir() -> Path:
    """``$VITGRADE_DATA_DIR``, else ``~/.cache/vitgrade/data`` (stdlib only: the reference's scripts run without
    the grader's settings; inside the grader, the ``data_dir`` setting is passed explicitly)."""
    configured = os.environ.get(DATA_DIR_VARIABLE)
    return Path(configured) if configured else unconfigured_data_dir()


def profile_root(profile: str, data_dir: Path | None = None) -> Path:
    """The torchvision root of a profile (it holds ``MNIST/raw``), made ready for reading."""
    if profile not in PROFILES:
        raise ValueError(f"Unknown data profile {profile!r}; expected one of {PROFILES}.")
    root = (data_dir or default_data_dir()) / profile
    if profile == "bundled":
        _decompress_into(BUNDLED_DIR, root / "MNIST" / "raw")
    elif not all((root / "MNIST" / "raw" / name).is_file() for name in FULL_MD5):
        raise FileNotFoundError(
            f"The full MNIST set is not in {root / 'MNIST' / 'raw'}. "
            "Run `python -m reference.mnist fetch` (downloads) or "
            "`python -m reference.mnist fetch --from DIR` (a folder of IDX files, plain or .gz)."
        )
    return root


def load_split(profile: str, train: bool, data_dir: Path | None = None) -> MnistSplit:
    """Read one split of a profile with torchvision, as tensors in memory."""
    dataset = MNIST(str(profile_root(profile, data_dir)), train=train, download=False)
    return MnistSplit(images=dataset.data.clone(), labels=dataset.targets.clone().long())


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28), standardised with MNIST's mean and std."""
    x = images.float().div(255).unsqueeze(1)  # (N, 1, 28, 28)
    return (x - MNIST_MEAN) / MNIST_STD


def fetch(data_dir: Path | None = None, source: Path | None = None) -> Path:
    """Put the full set in place: copy from ``source`` (IDX, plain or .gz) or download, then verify MD5."""
    root = (data_dir or default_data_dir()) / "full"
    raw = root / "MNIST" / "raw"
    if source is not None:
        _decompress_into(source, raw)
    else:
        MNIST(str(root), train=True, download=True)
        MNIST(str(root), train=False, download=True)
    for name, expected in FULL_MD5.items():
        got = hashlib.md5((raw / name).read_bytes()).hexdigest()
        if got != expected:
            raise ValueError(f"{raw / name}: MD5 {got}, expected {expected}; the file is not the MNIST set.")
    return root


def _decompress_into(source: Path, raw: Path) -> None:
    """Copy IDX files from ``source`` into ``raw`` under the names torchvision reads (no ``.gz``)."""
    raw.mkdir(parents=True, exist_ok=True)
    for name in FULL_MD5:
        target = raw / name
        if target.is_file():
            continue
        plain, packed = source / name, source / f"{name}.gz"
        partial = target.with_suffix(".partial")
        if packed.is_file():
            with gzip.open(packed) as src, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst)
        elif plain.is_file():
            shutil.copyfile(plain, partial)
        else:
            raise FileNotFoundError(f"{source} has neither {name} nor {name}.gz.")
        partial.replace(target)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m reference.mnist", description="MNIST data for vitgrade.")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_cmd = commands.add_parser("fetch", help="install the full MNIST set (download or local IDX folder)")
    fetch_cmd.add_argument("--from", dest="source", type=Path, help="a folder of IDX files, plain or .gz")
    fetch_cmd.add_argument("--data-dir", type=Path, help="default: $VITGRADE_DATA_DIR or ~/.cache/vitgrade/data")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    root = fetch(args.data_dir, args.source)
    log.info("full MNIST ready in %s", root)


if __name__ == "__main__":
    main()
