"""The shipped fixtures: what each public check asks of your code, and what the reference answered.

One safetensors file (``data/fixtures.safetensors``) built by the course's grader from the reference
solution at a seed of its own (never the one the service scores with). Its metadata (JSON under the
key ``vitgrade``) lists, per public check, the requests in the order the grader makes them: the
operation (``forward`` or ``call``), its arguments, the names of the input tensors, and the
reference's answer (values, output tensors, or only the output's shape when your own initialisation
is used), plus the outputs of the known mistakes where they help name yours.
"""

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from vitgrade_student.compare import Tolerance

FORMAT = 1
DEFAULT_PATH = Path(__file__).parent / "data" / "fixtures.safetensors"


class FixturesMissing(RuntimeError):
    """The package was installed without its fixtures (built by the course's service)."""


@dataclass(frozen=True)
class Request:
    """One request of a check and the reference's answer to it."""

    op: str
    args: dict[str, Any]
    inputs: dict[str, torch.Tensor]
    outputs: dict[str, torch.Tensor]  # the reference's output tensors (requests that load weights, calls)
    values: dict[str, Any]  # the reference's values: state_shapes, num_params, attributes
    output_shape: tuple[int, ...] | None = None
    variants: dict[str, torch.Tensor] = field(default_factory=dict)  # mistake id -> that variant's output
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the permutation a property check used
    accepted: list[dict[str, Any]] = field(default_factory=list)  # accepted variants: note, output, input_grad

    @property
    def is_probe(self) -> bool:
        """A request without an input: the grader only reads the module's parameter set (and LayerNorm eps)."""
        return self.op == "forward" and "input" not in self.inputs


@dataclass(frozen=True)
class CheckData:
    """One public check: its question, category, points, tolerance, hint and requests."""

    id: str
    question: str
    category: str
    points: float
    tolerance: Tolerance | None
    default_hint: str
    requests: list[Request]

    @property
    def runs(self) -> list[Request]:
        """The requests that run an input (probes left out)."""
        return [request for request in self.requests if not request.is_probe]


@dataclass(frozen=True)
class Fixtures:
    """Everything the local checks know: per-check data and the catalogue of named mistakes."""

    seed: int
    version: str
    checks: dict[str, CheckData]
    mistakes: dict[str, dict[str, str]]  # id -> name, hint, question


def load_fixtures(path: str | Path | None = None) -> Fixtures:
    """Read the fixtures file: ``path``, else ``$VITGRADE_KIT_FIXTURES``, else the package's own."""
    return _load(str(Path(path or os.environ.get("VITGRADE_KIT_FIXTURES") or DEFAULT_PATH)))


@lru_cache(maxsize=4)
def _load(path: str) -> Fixtures:
    if not Path(path).is_file():
        raise FixturesMissing(
            f"No check data at {path}: install the kit from your course's service "
            "(pip install <service>/student-kit/...whl), which ships it."
        )
    with safe_open(path, framework="pt") as handle:
        meta = json.loads((handle.metadata() or {}).get("vitgrade", "{}"))
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 - safe_open has no iterator
    if meta.get("format") != FORMAT:
        raise FixturesMissing(f"{path} has fixtures format {meta.get('format')!r}; this package reads {FORMAT}.")
    checks = {}
    for check_id in meta["order"]:
        data = meta["checks"][check_id]
        requests = [
            Request(
                op=r["op"],
                args=r["args"],
                inputs={name: tensors[key] for name, key in r["in"].items()},
                outputs={name: tensors[key] for name, key in r["out"].items()},
                values=r.get("values", {}),
                output_shape=tuple(r["output_shape"]) if r.get("output_shape") is not None else None,
                variants={mid: tensors[key] for mid, key in r.get("variants", {}).items()},
                extra=r.get("extra", {}),
                accepted=[
                    {"note": a["note"], **{k: tensors[a[k]] for k in ("output", "input_grad") if k in a}}
                    for a in r.get("accepted", [])
                ],
            )
            for r in data["requests"]
        ]
        tol = data.get("tolerance")
        checks[check_id] = CheckData(
            id=check_id,
            question=data["question"],
            category=data["category"],
            points=float(data["points"]),
            tolerance=Tolerance(*tol) if tol else None,
            default_hint=data.get("default_hint", ""),
            requests=requests,
        )
    return Fixtures(seed=int(meta["seed"]), version=meta["version"], checks=checks, mistakes=meta["mistakes"])
