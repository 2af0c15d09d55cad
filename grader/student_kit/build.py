"""Build the student kit's fixtures: the public Q1-Q6 checks run on the reference at the kit's seed.

``build_fixtures(path, seed)`` runs every public check (``public.public_checks``) against
``RecordingSandbox``, requires each to pass, adds what the local checks recover from the inputs and
the outputs of the known mistakes, and writes one safetensors file whose metadata (JSON under
``vitgrade``) is read by ``vitgrade_student.fixtures``. Tensors are stored once by content.
"""

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from safetensors.torch import save_file

from grader.checks.context import CheckContext
from grader.checks.outcome import CheckFailed, Outcome
from grader.diagnostics import MISTAKES
from grader.student_kit import annotate, public
from grader.student_kit.recording import Recorded, RecordingSandbox
from reference.bundle import bundle_submission
from vitgrade_student import __version__
from vitgrade_student.fixtures import FORMAT  # the format the kit reads: one number for both sides


class _Store:
    """Tensors by content: the same weights sent in several requests are stored once."""

    def __init__(self) -> None:
        self.tensors: dict[str, torch.Tensor] = {}

    def put(self, tensor: torch.Tensor) -> str:
        tensor = tensor.detach().to("cpu").contiguous()
        digest = hashlib.sha256(str((tensor.dtype, tuple(tensor.shape))).encode() + tensor.numpy().tobytes())
        key = "t/" + digest.hexdigest()[:24]
        self.tensors.setdefault(key, tensor.clone())
        return key


def _request_meta(record: Recorded, store: _Store) -> dict[str, Any]:
    with_outputs = record.op == "call" or bool(record.args.get("load_state"))
    meta: dict[str, Any] = {
        "op": record.op,
        "args": record.args,
        "in": {name: store.put(t) for name, t in record.inputs.items()},
        "out": {
            name: store.put(t) for name, t in record.outputs.items() if with_outputs and not name.startswith("state.")
        },
        "values": {k: v for k, v in record.values.items() if k in ("state_shapes", "num_params", "attributes")},
        "extra": {k: v for k, v in record.extra.items() if k not in ("variants", "accepted")},
        "accepted": [
            {"note": a["note"], **{k: store.put(a[k]) for k in ("output", "input_grad") if k in a}}
            for a in record.extra.get("accepted", [])
        ],
        "variants": {mid: store.put(t) for mid, t in record.extra.get("variants", {}).items()},
    }
    if "output" in record.outputs:
        meta["output_shape"] = list(record.outputs["output"].shape)
    return meta


def build_fixtures(path: Path, seed: int) -> dict[str, Any]:
    """Write the fixtures to ``path``; returns their metadata."""
    store, checks = _Store(), {}
    sandbox = RecordingSandbox()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: faster, and the same summation order on every machine
    try:
        for spec in public.kit_checks():
            sandbox.start()
            ctx = CheckContext(
                sandbox=sandbox,
                submission=SimpleNamespace(module_source=bundle_submission()),
                seed=seed,
                check_id=spec.id,
            )
            try:
                outcome = spec.func(ctx)
            except CheckFailed as failure:
                raise RuntimeError(f"the reference fails {spec.id} at seed {seed}: {failure.message}") from None
            if isinstance(outcome, Outcome) and outcome.fraction < 1.0:
                raise RuntimeError(f"the reference gets {outcome.fraction:.0%} of {spec.id} at seed {seed}")
            annotate.annotate(spec.id, sandbox.records)
            tol = public.tolerance_of(spec)
            checks[spec.id] = {
                "question": spec.question,
                "category": str(spec.category.value if hasattr(spec.category, "value") else spec.category),
                "points": spec.points,
                "tolerance": [tol.atol, tol.rtol],
                "default_hint": public.default_hint_of(spec),
                "requests": [_request_meta(r, store) for r in sandbox.records],
            }
    finally:
        torch.set_num_threads(threads)
        sandbox.close()
    meta = {
        "format": FORMAT,
        "version": __version__,
        "seed": seed,
        "checks": checks,
        "order": list(checks),  # the grader's order
        "mistakes": {m.id: {"name": m.name, "hint": m.hint, "question": m.question} for m in MISTAKES.values()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(store.tensors, str(path), metadata={"vitgrade": json.dumps(meta)})
    return meta
