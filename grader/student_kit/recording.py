"""A sandbox stand-in that answers the grader's requests with the reference and records them (trusted side).

The public checks run unchanged on it; every request (operation, arguments, input tensors) and the
reference's answer become the kit's fixtures. It runs the reference bundle through the child harness
in this process: only the reference ever runs here, never a student's code.
"""

import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load, save

from grader.sandbox.harness import Harness
from reference.bundle import bundle_submission


@dataclass
class Recorded:
    """One request of a check and the reference's answer."""

    op: str
    args: dict[str, Any]
    inputs: dict[str, torch.Tensor]
    values: dict[str, Any]
    outputs: dict[str, torch.Tensor]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    values: dict[str, Any]
    tensors: dict[str, torch.Tensor]


class RecordingSandbox:
    """The reference behind the sandbox's ``request``; ``records`` holds what was asked since ``start``."""

    def __init__(self) -> None:
        self.directory = tempfile.TemporaryDirectory()
        path = Path(self.directory.name) / "reference_submission.py"
        path.write_text(bundle_submission())
        self.harness = Harness(str(path), "cpu", torch.get_num_threads())
        self.harness.import_module()
        if self.harness.import_error:
            raise RuntimeError(f"the reference bundle failed to import: {self.harness.import_error}")
        self.defined_names = self.harness.op_names({}, {})[0]["names"]
        self.records: list[Recorded] = []

    def start(self) -> None:
        self.records = []

    def request(self, op: str, args: dict, tensors: dict | None = None, timeout: float | None = None) -> Reply:
        header = {"id": secrets.token_hex(8), "op": op, "args": args}
        inputs = {k: v.detach().contiguous().clone() for k, v in (tensors or {}).items()}
        reply, blob = self.harness.handle(header, save(inputs) if inputs else b"")
        if not reply["ok"]:
            raise RuntimeError(f"the reference failed on a public check's request: {reply['error']}")
        outputs = load(blob) if blob else {}
        self.records.append(Recorded(op, dict(args), inputs, dict(reply["values"]), dict(outputs)))
        return Reply(reply["values"], outputs)

    def close(self) -> None:
        self.directory.cleanup()
