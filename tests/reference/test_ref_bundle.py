"""The reference as one submission file defines every name of the student API contract."""

import types

import torch

from reference.bundle import bundle_submission

CONTRACT = (
    "sinusoidal_positional_encoding",
    "PatchEmbedding",
    "MLP",
    "SelfAttention",
    "MultiHeadSelfAttention",
    "TransformerBlock",
    "ViT",
    "vit_small_for_mnist",
)


def test_bundle_defines_the_contract_and_imports_no_reference(tmp_path):
    source = bundle_submission()
    assert "from reference" not in source and "import reference" not in source
    module = types.ModuleType("submission")
    path = tmp_path / "submission.py"
    path.write_text(source)
    exec(compile(source, str(path), "exec"), module.__dict__)  # the reference's own code, in the test process
    missing = [name for name in CONTRACT if not hasattr(module, name)]
    assert not missing, f"bundle lacks {missing}"
    model = module.ViT(patch_size=4, embed_dim=32, nb_blocks=1, num_heads=2)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
