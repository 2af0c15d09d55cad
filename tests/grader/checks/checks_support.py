"""Test support for the Q1-Q6 checks: a tiny check runner, an in-process fake sandbox, mistake sources.

The fake runs the real child harness (``grader/sandbox/harness.py``) in this process, on sources the
tests wrote themselves (the reference and its known-mistake variants): a fake inside a unit test,
never a way to run student code. The real ``Sandbox`` is used by the integration tests.
"""

import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from safetensors.torch import load, save

import grader.checks.q1_patch_embedding
import grader.checks.q2_mlp
import grader.checks.q3_self_attention
import grader.checks.q4_multi_head_attention
import grader.checks.q5_transformer_block
import grader.checks.q6_vit
import grader.checks.static  # noqa: F401 - importing registers the checks
from grader.checks.context import CheckContext
from grader.checks.registry import REGISTRY, CheckFailed, Outcome, Skip
from grader.diagnostics.sources import check_for, mistake_source  # noqa: F401 - the tests import them from here
from grader.sandbox.errors import StudentError
from grader.sandbox.harness import Harness

Q1_Q6_CHECKS = sorted(
    check_id for check_id in REGISTRY if check_id.split(".")[0] in {"q1", "q2", "q3", "q4", "q5", "q6", "static"}
)


@dataclass
class FakeReply:
    values: dict[str, Any]
    tensors: dict[str, torch.Tensor]


class InProcessSandbox:
    """The harness's ops served in this process, with the protocol's serialisation (safetensors) kept."""

    def __init__(self, module_source: str):
        self.directory = tempfile.TemporaryDirectory()
        path = Path(self.directory.name) / "submission.py"
        path.write_text(module_source)
        self.harness = Harness(str(path), "cpu", torch.get_num_threads())
        self.harness.import_module()
        self.defined_names = self.harness.op_names({}, {})[0]["names"]
        self.requests: list[str] = []

    def request(self, op: str, args: dict, tensors: dict | None = None, timeout: float | None = None) -> FakeReply:
        self.requests.append(op)
        header = {"id": secrets.token_hex(8), "op": op, "args": args}
        payload = save({k: v.contiguous() for k, v in tensors.items()}) if tensors else b""
        reply, blob = self.harness.handle(header, payload)
        if not reply["ok"]:
            error = reply["error"]
            raise StudentError(error["kind"], error["message"], error["traceback"])
        return FakeReply(reply["values"], load(blob) if blob else {})

    def close(self) -> None:
        self.directory.cleanup()


@dataclass
class Verdict:
    status: str  # passed, failed, error, skipped
    fraction: float = 0.0
    message: str = ""
    hint: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def grade(check_id: str, sandbox: Any, source: str, seed: int = 0) -> Verdict:
    """Run one registered check the way the runner does (StudentError -> failed/error)."""
    spec = REGISTRY[check_id]
    ctx = CheckContext(sandbox=sandbox, submission=SimpleNamespace(module_source=source), seed=seed, check_id=check_id)
    try:
        outcome = spec.func(ctx)
    except CheckFailed as failure:
        return Verdict("failed", 0.0, failure.message, failure.hint, failure.details)
    except Skip as skip:
        return Verdict("skipped", message=str(skip))
    except StudentError as error:
        status = "failed" if error.kind == "not_implemented" else "error"
        return Verdict(status, 0.0, f"{error.kind}: {error.message}")
    if outcome is None:
        return Verdict("passed", 1.0)
    assert isinstance(outcome, Outcome)
    status = "passed" if outcome.fraction >= 1.0 else "failed"
    return Verdict(status, outcome.fraction, outcome.message, outcome.hint, outcome.details)
