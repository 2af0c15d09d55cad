"""Q8c: the ViT-S fine-tuning entry point runs on a CPU with a local checkpoint (no hub)."""

import json

import pytest
import safetensors.torch
import timm
import torch

from reference.finetune_timm import main
from reference.timm_vit import TIMM_VIT_SMALL


def test_finetune_tiny_budget_with_local_weights(tmp_path, capsys):
    torch.manual_seed(0)
    weights = tmp_path / "vit_small.safetensors"
    safetensors.torch.save_file(timm.create_model(TIMM_VIT_SMALL).state_dict(), str(weights))
    output = tmp_path / "summary.json"
    main(["--pretrained", "--weights-file", str(weights), "--device", "cpu", "--epochs", "1", "--batch-size", "4",
          "--train-limit", "8", "--test-limit", "8", "--threads", "1", "--quiet", "--output", str(output)])  # fmt: skip
    summary = json.loads(output.read_text())
    assert summary == json.loads(capsys.readouterr().out)
    assert summary["steps"] == 2 and summary["train_size"] == 8 and summary["test_size"] == 8
    assert summary["model"]["pretrained"] is True and summary["model"]["weights_file"] == str(weights)
    assert 21_000_000 < summary["params"] < 22_500_000, summary["params"]
    assert summary["final_loss"] is not None and summary["final_loss"] == summary["final_loss"]  # finite, not NaN


def test_weights_file_needs_pretrained(tmp_path):
    with pytest.raises(SystemExit):
        main(["--weights-file", str(tmp_path / "w.safetensors")])


def test_help_renders():
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
