"""The ops of the protocol against real children: the reference, the template and small hand-made modules."""

from pathlib import Path

import pytest
import torch

from grader.sandbox import Sandbox, SandboxCrashed, SandboxLimits, SandboxTimeout, StudentError
from grader.sandbox.harness import normalize
from reference import MultiHeadSelfAttention, TransformerBlock, ViT, sinusoidal_positional_encoding
from reference.bundle import bundle_submission

ROOT = Path(__file__).resolve().parents[3]
LIMITS = SandboxLimits(request_timeout_s=60, start_timeout_s=300, memory_bytes=3 * 2**30)
MHSA = {"name": "MultiHeadSelfAttention", "kwargs": {"embed_dim": 16, "num_heads": 4}, "seed": 3}


@pytest.fixture(scope="module")
def box():
    with Sandbox(bundle_submission(), limits=LIMITS) as sandbox:
        yield sandbox


def test_names_and_isolation(box):
    assert box.import_error is None
    assert {"ViT", "MultiHeadSelfAttention", "vit_small_for_mnist", "sinusoidal_positional_encoding"} <= set(
        box.defined_names
    )
    assert "torch" not in box.defined_names  # modules are not "defined names"
    assert "rlimits" in box.isolation and "no_new_privs" in box.isolation


def test_forward_matches_the_reference_with_loaded_weights(box):
    reference = TransformerBlock(16, 4)
    state = {f"state.{k}": v for k, v in reference.state_dict().items()}
    x = torch.randn(2, 5, 16)
    grad = torch.randn(2, 5, 16)
    args = {"name": "TransformerBlock", "kwargs": {"embed_dim": 16, "num_heads": 4}, "load_state": True}
    reply = box.request("forward", {**args, "backward": True}, tensors={**state, "input": x, "grad_output": grad})
    x_ref = x.clone().requires_grad_(True)
    out = reference(x_ref)
    out.backward(grad)
    assert torch.allclose(reply.tensors["output"], out.detach(), atol=1e-5)
    assert torch.allclose(reply.tensors["input_grad"], x_ref.grad, atol=1e-5)
    assert reply.values["num_params"] == sum(p.numel() for p in reference.parameters())


def test_forward_returns_the_modules_own_init_under_the_seed(box):
    first = box.request("forward", {**MHSA, "return_state": True, "attributes": ["num_heads", "q.out_features"]})
    second = box.request("forward", {**MHSA, "return_state": True})
    torch.manual_seed(3)
    expected = MultiHeadSelfAttention(16, 4).state_dict()
    for key, value in expected.items():
        assert torch.equal(first.tensors[f"state.{key}"], value), key
        assert torch.equal(second.tensors[f"state.{key}"], value), key
    assert first.values["state_shapes"]["q.weight"] == [16, 16]
    assert first.values["attributes"]["q.out_features"] == 16


def test_strict_load_failure_is_a_state_dict_error(box):
    state = {"state.q.weight": torch.zeros(16, 16), "state.extra": torch.zeros(1)}
    with pytest.raises(StudentError) as caught:
        box.request("forward", {**MHSA, "load_state": True}, tensors={**state, "input": torch.randn(1, 2, 16)})
    assert caught.value.kind == "state_dict"
    assert "Missing key" in caught.value.message and "extra" in caught.value.message


def test_missing_name(box):
    with pytest.raises(StudentError) as caught:
        box.request("forward", {"name": "NoSuchThing", "kwargs": {}})
    assert caught.value.kind == "missing_name" and "NoSuchThing" in caught.value.message


def test_student_exception_carries_a_short_traceback(box):
    with pytest.raises(StudentError) as caught:
        box.request("forward", {"name": "ViT", "kwargs": {"pos_embedding": "bogus"}})
    assert caught.value.kind == "exception"
    assert "ValueError" in caught.value.message
    assert "submission.py" in caught.value.traceback and "harness" not in caught.value.traceback


def test_call(box):
    reply = box.request("call", {"name": "sinusoidal_positional_encoding", "args": [7, 8]})
    assert torch.allclose(reply.tensors["output"], sinusoidal_positional_encoding(7, 8))


def test_timm_op(box):
    x = torch.randn(2, 1, 28, 28)
    reply = box.request("timm", {"kwargs": {"num_classes": 10}}, tensors={"input": x})
    assert reply.tensors["output"].shape == (2, 10)
    assert reply.tensors["state.pos_embed"].shape == (1, 50, 384)
    assert reply.tensors["state.patch_embed.proj.weight"].shape == (384, 1, 4, 4)
    assert len([k for k in reply.tensors if k.startswith("state.")]) == 152  # the whole state dict of ViT-S
    assert reply.values == {}


def test_train_is_deterministic_and_predict_sees_only_weights_and_images(box):
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (48, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (48,), generator=generator)
    tensors = {"train_images": images, "train_labels": labels}
    recipe = {"epochs": 2, "batch_size": 16, "lr": 3e-3, "weight_decay": 0.05, "warmup_fraction": 0.2}
    kwargs = {"embed_dim": 16, "nb_blocks": 1, "num_heads": 2}
    args = {"kwargs": kwargs, "recipe": {**recipe, "seed": 5, "threads": 1}}
    first = box.request("train", args, tensors=tensors)
    second = box.request("train", args, tensors=tensors)
    state = {k: v for k, v in first.tensors.items() if k.startswith("state.")}
    assert {k[6:] for k in state} == set(ViT(**kwargs).state_dict())
    assert all(torch.equal(v, second.tensors[k]) for k, v in state.items())
    assert first.values["final_loss"] == second.values["final_loss"]
    untrained = ViT(**kwargs).state_dict()
    assert not torch.equal(state["state.head.weight"], untrained["head.weight"]), "the weights were trained"
    reply = box.request("predict", {"kwargs": kwargs}, tensors={**state, "images": images[:20]})
    model = ViT(**kwargs)
    model.load_state_dict({k[6:]: v for k, v in state.items()})
    with torch.no_grad():
        expected = model.eval()(normalize(images[:20], torch))
    assert torch.allclose(reply.tensors["logits"], expected, atol=1e-5)


def test_place_file_is_visible_to_the_child():
    source = (
        "import torch\n\ndef read(path):\n    return torch.tensor(list(open(path, 'rb').read()), dtype=torch.uint8)\n"
    )
    with Sandbox(source, limits=LIMITS) as sandbox:
        path = sandbox.place_file("weights.bin", b"\x01\x02\x03")
        reply = sandbox.request("call", {"name": "read", "args": [path]})
        assert reply.tensors["output"].tolist() == [1, 2, 3]
        with pytest.raises(ValueError):
            sandbox.place_file("../escape", b"")


def test_template_raises_not_implemented():
    with Sandbox((ROOT / "student_template" / "vit.py").read_text(), limits=LIMITS) as sandbox:
        assert sandbox.import_error is None
        with pytest.raises(StudentError) as caught:
            sandbox.request("forward", {**MHSA}, tensors={"input": torch.randn(1, 3, 16)})
        assert caught.value.kind == "not_implemented"


def test_syntax_error_is_an_import_error():
    with Sandbox("def broken(:\n    pass\n", limits=LIMITS) as sandbox:
        assert sandbox.import_error is not None and "SyntaxError" in sandbox.import_error
        assert sandbox.defined_names == []
        with pytest.raises(StudentError):
            sandbox.request("call", {"name": "broken"})


def test_log_is_captured_and_capped():
    source = "print('hello from the student')\nfor _ in range(5000):\n    print('y' * 100)\n"
    with Sandbox(source, limits=LIMITS.model_copy(update={"log_bytes": 4096})) as sandbox:
        log = sandbox.log
    assert log.startswith("hello from the student")
    assert "log truncated" in log and len(log) < 4096 + 200


def test_timeout_then_restart():
    source = "import time\n\ndef slow(seconds):\n    time.sleep(seconds)\n    import torch\n    return torch.ones(1)\n"
    with Sandbox(source, limits=LIMITS) as sandbox:
        with pytest.raises(SandboxTimeout):
            sandbox.request("call", {"name": "slow", "args": [30]}, timeout=1)
        reply = sandbox.request("call", {"name": "slow", "args": [0]})
        assert reply.tensors["output"].tolist() == [1.0]


def test_total_budget_is_enforced():
    source = "import time\n\ndef slow(seconds):\n    time.sleep(seconds)\n"
    with Sandbox(source, limits=LIMITS.model_copy(update={"total_timeout_s": 2.0, "start_timeout_s": 300})) as sandbox:
        if sandbox.start_seconds >= 2.0:
            pytest.skip("the start alone used the budget on this machine")
        with pytest.raises(SandboxTimeout):
            sandbox.request("call", {"name": "slow", "args": [30]})
        with pytest.raises(SandboxTimeout, match="budget"):
            sandbox.request("call", {"name": "slow", "args": [0]})


def test_exit_mid_request_is_a_crash():
    source = "import sys, os\n\ndef leave():\n    os._exit(3)\n"
    with Sandbox(source, limits=LIMITS) as sandbox:
        with pytest.raises(SandboxCrashed) as caught:
            sandbox.request("call", {"name": "leave"})
        assert caught.value.status == 3


@pytest.mark.parametrize("start_method", ["zygote", "exec"])
def test_child_never_holds_the_reference_or_the_grader(start_method):
    source = (
        "import sys, torch\n\n"
        "def secrets():\n"
        "    names = [m for m in sys.modules if m.split('.')[0] in ('reference', 'grader', 'service')]\n"
        "    return torch.tensor([len(names)])\n"
    )
    with Sandbox(source, limits=LIMITS, start_method=start_method) as sandbox:
        assert sandbox.defined_names == ["secrets"]
        assert "rlimits" in sandbox.isolation
        assert sandbox.request("call", {"name": "secrets"}).tensors["output"].tolist() == [0]


def test_concurrent_sandboxes_get_distinct_uids_and_answers():
    import threading

    results: dict[int, object] = {}

    def run(index: int) -> None:
        try:
            with Sandbox(
                f"import torch\n\ndef which():\n    return torch.tensor([{index}])\n", limits=LIMITS
            ) as sandbox:
                value = sandbox.request("call", {"name": "which"}).tensors["output"].item()
                results[index] = (value, [m for m in sandbox.isolation if m.startswith("uid:")])
        except Exception as error:  # noqa: BLE001 - reported below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(not isinstance(r, Exception) for r in results.values()), results
    assert [results[i][0] for i in range(3)] == [0, 1, 2]
    uids = [tuple(results[i][1]) for i in range(3)]
    assert len(set(uids)) == 3 or uids == [(), (), ()]
