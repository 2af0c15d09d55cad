"""Device names: parsing, resolution against what torch sees, and what a sandboxed child is given."""

import pytest

from grader.devices import (
    DeviceError,
    child_device,
    child_environment,
    device_kind,
    parse_device,
    parse_devices,
    resolve_device,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("cpu", "cpu"), ("cuda", "cuda"), ("cuda:0", "cuda:0"), (" CUDA:3 ", "cuda:3"), ("auto", "auto")],
)
def test_accepted_names(text, expected):
    assert str(parse_device(text)) == expected


@pytest.mark.parametrize("text", ["gpu", "cuda:", "cuda:-1", "cpu:0", "auto:1", "cuda:x", "", "mps", "cuda:1,cuda:2"])
def test_unknown_names_say_what_is_accepted(text):
    with pytest.raises(DeviceError, match="expected cpu, cuda, cuda:N"):
        parse_device(text)


def test_a_list_of_slots():
    assert parse_devices("cuda:0, cuda:1,,") == ["cuda:0", "cuda:1"]
    assert parse_devices("cpu") == ["cpu"]
    with pytest.raises(DeviceError):
        parse_devices(" , ")
    with pytest.raises(DeviceError):
        parse_devices("cuda:0,tpu")


def test_resolution_against_the_machine():
    assert resolve_device("auto", cuda_available=False, cuda_count=0) == "cpu"
    assert resolve_device("auto", cuda_available=True, cuda_count=2) == "cuda"
    assert resolve_device("cuda:1", cuda_available=True, cuda_count=2) == "cuda:1"
    assert resolve_device("cpu", cuda_available=True, cuda_count=2) == "cpu"
    with pytest.raises(DeviceError, match="sees no CUDA device"):
        resolve_device("cuda", cuda_available=False, cuda_count=0)
    with pytest.raises(DeviceError, match=r"sees 2 CUDA device\(s\): cuda:0..cuda:1"):
        resolve_device("cuda:2", cuda_available=True, cuda_count=2)


def test_each_slot_child_sees_only_its_gpu_and_a_cpu_child_none():
    assert child_environment("cuda:1") == {"CUDA_VISIBLE_DEVICES": "1"}
    assert child_device("cuda:1") == "cuda"
    assert child_environment("cpu") == {"CUDA_VISIBLE_DEVICES": ""}
    assert child_device("cpu") == "cpu"
    assert child_environment("cuda") == {}
    assert device_kind("cuda:3") == "cuda" and device_kind("cpu") == "cpu"


def test_a_slot_child_sees_its_gpu_among_those_the_grader_sees():
    from grader.sandbox.process import visible_gpus

    assert visible_gpus("cuda:1", None) == {"CUDA_VISIBLE_DEVICES": "1"}
    assert visible_gpus("cuda:1", "4,6") == {"CUDA_VISIBLE_DEVICES": "6"}  # the grader itself sees GPUs 4 and 6
    assert visible_gpus("cuda", "4,6") == {"CUDA_VISIBLE_DEVICES": "4,6"}
    assert visible_gpus("cuda", None) == {}
    assert visible_gpus("cpu", "4,6") == {"CUDA_VISIBLE_DEVICES": ""}


def test_a_cpu_child_is_started_without_gpus_and_with_its_device_name(tmp_path):
    from grader.sandbox.process import child_env

    class Plan:
        namespaced, workdir, child_workdir = True, str(tmp_path), "/tmp/work"

    from grader.sandbox import SandboxLimits

    assert child_env(Plan(), SandboxLimits(), "cpu")["CUDA_VISIBLE_DEVICES"] == ""
    assert child_env(Plan(), SandboxLimits(), "cuda:2")["CUDA_VISIBLE_DEVICES"] in {"2"} | set(
        __import__("os").environ.get("CUDA_VISIBLE_DEVICES", "").split(",")
    )


def test_the_cli_and_the_worker_settings_accept_cuda_n_and_explain_a_bad_name(capsys):
    import pytest as _pytest

    from grader.cli import _device
    from service.config import Settings

    assert _device("cuda:1") == "cuda:1"
    with _pytest.raises(Exception, match="expected cpu, cuda, cuda:N"):
        _device("gpu0")
    assert Settings(devices="cuda:0, cuda:1").slot_devices == ["cuda:0", "cuda:1"]
    assert Settings(grader={"device": "cpu"}, worker_concurrency=2).slot_devices == ["cpu", "cpu"]


def test_grading_on_a_gpu_this_machine_lacks_is_a_grader_fault():
    import torch

    from grader.runner import GraderFault, resolve_device

    missing = f"cuda:{torch.cuda.device_count()}"
    with pytest.raises(GraderFault, match="torch sees"):
        resolve_device(missing)
    assert resolve_device("cpu") == "cpu"
