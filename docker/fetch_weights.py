"""Build-time download of ImageNet ViT-S weights (Q8c, ``--build-arg VIT_S_WEIGHTS_URL=...``).

    python docker/fetch_weights.py URL DEST_DIR [SHA256]

Writes ``DEST_DIR/vit_small_patch16_224.safetensors`` (or ``.pth``), checks the SHA-256 when given,
and checks that the file is a ViT-S/16 state dict (``pos_embed`` of shape (1, 197, 384)) before keeping it.
Use it with ``python -m reference.finetune_timm --pretrained --weights-file <that file>``.
"""

import hashlib
import logging
import sys
import urllib.request
from pathlib import Path

log = logging.getLogger("fetch_weights")
EXPECTED_POS_EMBED = (1, 197, 384)
NAME = "vit_small_patch16_224"


def _suffix(url: str) -> str:
    path = url.split("?", 1)[0].lower()
    for suffix in (".safetensors", ".pth", ".bin", ".pt"):
        if path.endswith(suffix):
            return ".safetensors" if suffix == ".safetensors" else ".pth"
    raise SystemExit(f"{url}: expected a .safetensors, .pth, .pt or .bin file")


def _pos_embed_shape(path: Path) -> tuple[int, ...] | None:
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            names = set(handle.keys())
            return tuple(handle.get_slice("pos_embed").get_shape()) if "pos_embed" in names else None
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    state = state.get("model", state.get("state_dict", state)) if isinstance(state, dict) else {}
    tensor = state.get("pos_embed")
    return tuple(tensor.shape) if tensor is not None else None


def fetch(url: str, dest_dir: Path, sha256: str = "") -> Path:
    """Download ``url`` into ``dest_dir``, verify it and return the file's path."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"{NAME}{_suffix(url)}"
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=120) as answer, partial.open("wb") as out:
        while chunk := answer.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if sha256 and digest.hexdigest() != sha256.lower():
        partial.unlink()
        raise SystemExit(f"{url}: SHA-256 {digest.hexdigest()}, expected {sha256}")
    partial.replace(target)
    shape = _pos_embed_shape(target)
    if shape != EXPECTED_POS_EMBED:
        target.unlink()
        raise SystemExit(f"{url}: pos_embed of shape {shape}, expected {EXPECTED_POS_EMBED} (ViT-S/16 at 224)")
    log.info("ViT-S weights in %s (sha256 %s)", target, digest.hexdigest())
    return target


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    fetch(argv[0], Path(argv[1]), argv[2] if len(argv) == 3 else "")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
