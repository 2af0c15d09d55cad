"""The student template has the reference's names, signatures and state_dict layout, and unwritten bodies."""

import inspect

import pytest
import torch

import reference
from student_template import vit as template

CLASSES = ["PatchEmbedding", "MLP", "SelfAttention", "MultiHeadSelfAttention", "TransformerBlock", "ViT"]
FUNCTIONS = ["sinusoidal_positional_encoding", "vit_small_for_mnist"]

# (class name, constructor kwargs): several configurations per class, defaults included.
CONFIGS = [
    ("PatchEmbedding", {}),
    ("PatchEmbedding", {"img_size": 32, "patch_size": 4, "in_chans": 3, "embed_dim": 48}),
    ("MLP", {"in_features": 64, "hidden_features": 256}),
    ("MLP", {"in_features": 12, "hidden_features": 7}),
    ("SelfAttention", {"embed_dim": 32}),
    ("MultiHeadSelfAttention", {"embed_dim": 64, "num_heads": 4}),
    ("MultiHeadSelfAttention", {"embed_dim": 48, "num_heads": 3}),
    ("TransformerBlock", {"embed_dim": 64, "num_heads": 4}),
    ("TransformerBlock", {"embed_dim": 32, "num_heads": 2, "mlp_ratio": 2.0}),
    ("ViT", {}),
    ("ViT", {"patch_size": 4, "embed_dim": 48, "nb_blocks": 2, "num_heads": 3, "num_classes": 5}),
    ("ViT", {"img_size": 32, "patch_size": 8, "in_chans": 3, "nb_blocks": 1, "mlp_ratio": 2.0}),
]


def test_template_defines_exactly_the_contract_names():
    public = {name for name, value in vars(template).items() if not name.startswith("_") and callable(value)}
    contract = set(reference.__all__)
    assert contract <= public, f"missing from the template: {sorted(contract - public)}"
    assert set(CLASSES + FUNCTIONS) == contract


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("method", ["__init__", "forward"])
def test_method_signatures_match_the_reference(name: str, method: str):
    got = inspect.signature(getattr(getattr(template, name), method))
    expected = inspect.signature(getattr(getattr(reference, name), method))
    assert got == expected, f"{name}.{method}: template {got}, reference {expected}"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_signatures_match_the_reference(name: str):
    got, expected = inspect.signature(getattr(template, name)), inspect.signature(getattr(reference, name))
    assert got == expected, f"{name}: template {got}, reference {expected}"


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_state_dict_matches_the_reference_and_loads_strictly(name: str, kwargs: dict):
    student = getattr(template, name)(**kwargs)
    answer = getattr(reference, name)(**kwargs)
    got = {key: tuple(value.shape) for key, value in student.state_dict().items()}
    expected = {key: tuple(value.shape) for key, value in answer.state_dict().items()}
    assert got == expected
    student.load_state_dict(answer.state_dict(), strict=True)
    for key, value in answer.state_dict().items():
        assert torch.equal(student.state_dict()[key], value), key


def test_attributes_named_by_the_contract():
    model = template.ViT(patch_size=4, embed_dim=32, nb_blocks=2, num_heads=2)
    assert model.patch_embed.num_patches == 49
    assert isinstance(model.cls_token, torch.nn.Parameter) and model.cls_token.shape == (1, 1, 32)
    assert isinstance(model.pos_embed, torch.nn.Parameter) and model.pos_embed.shape == (1, 50, 32)
    assert isinstance(model.blocks, torch.nn.Sequential) and len(model.blocks) == 2
    assert isinstance(model.blocks[0].attn, template.MultiHeadSelfAttention)
    assert model.blocks[0].mlp.fc1.out_features == 128


NOT_IMPLEMENTED = [
    ("Q1", lambda: template.PatchEmbedding()(torch.zeros(1, 1, 28, 28))),
    ("Q2", lambda: template.MLP(8, 16)(torch.zeros(1, 3, 8))),
    ("Q3", lambda: template.SelfAttention(8)(torch.zeros(1, 3, 8))),
    ("Q4", lambda: template.MultiHeadSelfAttention(8, 2)(torch.zeros(1, 3, 8))),
    ("Q5", lambda: template.TransformerBlock(8, 2)(torch.zeros(1, 3, 8))),
    ("Q6", lambda: template.sinusoidal_positional_encoding(5, 8)),
    ("Q6", lambda: template.ViT()(torch.zeros(1, 1, 28, 28))),
    ("Q6", lambda: template.ViT(pos_embedding="sinusoidal")),
    ("Q8", lambda: template.vit_small_for_mnist()),
]


@pytest.mark.parametrize(
    ("question", "call"), NOT_IMPLEMENTED, ids=[f"{q}-{i}" for i, (q, _) in enumerate(NOT_IMPLEMENTED)]
)
def test_bodies_raise_not_implemented_naming_the_question(question: str, call):
    with pytest.raises(NotImplementedError, match=rf"^{question}: "):
        call()


def test_template_constructors_validate_like_the_reference():
    with pytest.raises(ValueError, match="divisible"):
        template.MultiHeadSelfAttention(10, 3)
    with pytest.raises(ValueError, match="pos_embedding"):
        template.ViT(pos_embedding="rotary")
