"""Q6c/Q7: the sweep writes its table and figures; the attention maps come from the reference MHSA."""

import csv

import torch

from reference.experiments import BASE, configurations, main
from reference.mnist import load_split
from reference.plots import cls_attention
from reference.vit import ViT


def test_configurations_vary_one_hyperparameter_at_a_time():
    configs = configurations({"embed_dim": [32, 64], "patch_size": [4, 7], "nb_blocks": [1, 4]}, BASE)
    assert configs[0] == ("base", BASE)
    assert [swept for swept, _ in configs] == ["base", "embed_dim", "patch_size", "nb_blocks"]
    for swept, config in configs[1:]:
        assert [k for k in BASE if config[k] != BASE[k]] == [swept]


def test_cls_attention_maps_shape_and_mass():
    torch.manual_seed(0)
    model = ViT(patch_size=4, embed_dim=32, nb_blocks=2, num_heads=2)
    images = load_split("bundled", train=False).images[:3]
    maps = cls_attention(model, images)
    assert maps.shape == (2, 3, 2, 7, 7)  # (blocks, B, heads, grid, grid)
    mass = maps.sum(dim=(-2, -1))  # [CLS] attention to patches, without the [CLS]-to-[CLS] share
    assert torch.all(mass > 0) and torch.all(mass < 1)
    assert all(not block.attn._forward_pre_hooks for block in model.blocks), "hooks must be removed"


def test_tiny_sweep_writes_results(tmp_path):
    main(["--embed-dim", "32", "--patch-size", "14", "--nb-blocks", "1", "--epochs", "1", "--train-limit", "256",
          "--device", "cpu", "--quiet", "--output-dir", str(tmp_path)])  # fmt: skip
    with open(tmp_path / "sweep.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["swept"] for row in rows] == ["base", "embed_dim", "nb_blocks", "patch_size"]
    assert {row["patch_size"] for row in rows} == {"7", "14"}
    assert all(0.0 <= float(row["test_accuracy"]) <= 1.0 and int(row["params"]) > 0 for row in rows)
    table = (tmp_path / "sweep.md").read_text()
    assert table.count("\n| ") == 5  # header + 4 configurations
    for name in ("sweep.png", "positional_encoding.png", "attention_maps.png"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) < 200_000, f"{name}: {len(data)} bytes"
