"""How long a submission's requests may take: generous multiples of the reference's measured time, with floors.

The grader times the reference ViT (the contract's default configuration; the fastest of five requests, so
that a moment of load does not set the limits) once per process and device, in
a sandbox child like a student's (same threads, isolation and protocol: the parent's own torch, with more
threads fighting for a loaded CPU, would measure something else): ``forward_s`` is one forward and
backward request on a batch of 8, ``per_sample_s`` the cost of one more training sample (the same request
at batch 128: the difference over 120 samples, without building the model and the protocol's overhead).
Every limit is a multiple of those, never below a floor:

- a ``forward`` / ``call`` request: ``max(floor, request_multiple * forward_s)``;
- a ``timm`` request (ViT-S, with the pretrained loading): ``timm_factor`` times that;
- a ``train`` request: ``max(training_floor, training_multiple * per_sample_s * samples)`` where
  ``samples`` is epochs times training images; a ``predict`` request (a forward over many images):
  ``max(module, training_multiple * per_sample_s * images / 3)``;
- all the module requests of one submission together (Q7's training excluded, sandbox starts and
  restarts included): ``max(module_budget_floor, module_budget_multiple * forward_s)``.

On this project's 2-core CPU the floors decide (a reference forward is a few milliseconds), so that a
submission looping everywhere costs at most about two minutes of a worker; on a slower or loaded
machine the measured times raise every limit together.
"""

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, Field

from grader.sandbox.limits import SandboxLimits

log = logging.getLogger(__name__)


class TimingSettings(BaseModel):
    """Multiples of the reference's time, and the floors under them (``VITGRADE_TIMING='{...}'``)."""

    request_floor_s: float = Field(10.0, gt=0, description="least time a forward/call request is given")
    request_multiple: float = Field(200.0, gt=0, description="forward/call limit in reference forwards")
    timm_factor: float = Field(2.0, gt=0, description="a timm request's limit in forward/call limits")
    training_floor_s: float = Field(30.0, gt=0, description="least time Q7's training request is given")
    training_multiple: float = Field(6.0, gt=0, description="Q7 training limit in reference training times")
    module_budget_floor_s: float = Field(45.0, gt=0, description="least time for all module requests together")
    module_budget_multiple: float = Field(1000.0, gt=0, description="that budget in reference forwards")


@dataclass(frozen=True)
class ReferenceTime:
    """The reference's measured times on one device."""

    device: str
    forward_s: float  # one forward + backward of the default ViT on (8, 1, 28, 28)
    per_sample_s: float  # one more training sample: forward + backward at batch 128 less batch 8, over 120


def _timed_request(box: Any, batch: int, repeats: int) -> float:
    """The fastest of ``repeats`` forward + backward requests of the default ViT (after one warm-up): what the
    machine can do, not a moment of load (the multiples leave room for load)."""
    generator = torch.Generator().manual_seed(batch)
    x = torch.randn(batch, 1, 28, 28, generator=generator)  # (B, 1, 28, 28)
    tensors = {"input": x, "grad_output": torch.randn(batch, 10, generator=generator)}  # logits (B, 10)
    args = {"name": "ViT", "kwargs": {}, "seed": 0, "load_state": False, "backward": True, "train_mode": True}
    times = []
    for i in range(repeats + 1):
        began = time.perf_counter()
        box.request("forward", {**args, "return_state": False, "attributes": []}, tensors=tensors)
        if i:
            times.append(time.perf_counter() - began)
    return min(times)


def reference_time(
    device: str,
    limits: SandboxLimits | None = None,
    *,
    uid_base: int | None = None,
    hide: Sequence[str | Path] | None = None,
) -> ReferenceTime:
    """The reference ViT's times on ``device``, measured once per process (and device and limits) where student
    code runs: in a sandbox child (same threads, isolation and protocol, and placement: ``uid_base`` and ``hide``
    as ``GraderSettings.sandbox_placement()`` gives them) that imports the reference bundle.

    A sandbox that cannot start, or a reference that fails here, is a grader fault (``TimingError``)."""
    limits = limits or SandboxLimits()
    generous = {"request_timeout_s": 300.0, "import_timeout_s": 120.0, "total_timeout_s": 1800.0}
    generous["start_timeout_s"] = max(limits.start_timeout_s, 60.0)
    hidden = None if hide is None else tuple(str(path) for path in hide)
    return _reference_time(device, limits.model_copy(update=generous).model_dump_json(), uid_base, hidden)


@lru_cache(maxsize=8)
def _reference_time(device: str, limits_json: str, uid_base: int | None, hide: tuple[str, ...] | None) -> ReferenceTime:
    from grader.sandbox import Sandbox, SandboxError
    from reference.bundle import bundle_submission

    limits = SandboxLimits.model_validate_json(limits_json)
    try:
        with Sandbox(bundle_submission(), device=device, limits=limits, uid_base=uid_base, hide=hide) as box:
            if box.import_error:
                raise TimingError(f"the reference bundle failed to import in the sandbox: {box.import_error}")
            small, large = _timed_request(box, 8, 5), _timed_request(box, 128, 5)
    except SandboxError as error:
        raise TimingError(f"timing the reference in the sandbox failed: {error}") from error
    # The cost of one more sample, without what every request pays once (building the model, the protocol).
    per_sample = (large - small) / 120 if large > small else large / 128
    measured = ReferenceTime(device, small, per_sample)
    log.info("reference time on %s: forward %.4fs, %.5fs per sample", device, measured.forward_s, measured.per_sample_s)
    return measured


class TimingError(RuntimeError):
    """The reference could not be timed: a grader fault, never blamed on the submission."""


@dataclass(frozen=True)
class RequestLimits:
    """The limits of one submission's requests, from ``TimingSettings`` and the reference's time."""

    module_s: float
    timm_s: float
    per_sample_s: float
    training_floor_s: float
    training_multiple: float
    module_budget_s: float

    def for_request(self, op: str, args: dict[str, Any], tensors: dict[str, torch.Tensor] | None) -> float:
        """The wall-clock limit of one request."""
        if op == "timm":
            return self.timm_s
        if op == "train":
            return self.training_s(args, tensors or {})
        if op == "predict":
            images = (tensors or {}).get("images")
            count = len(images) if images is not None else 0
            return _tenths(max(self.module_s, self.training_multiple * self.per_sample_s * count / 3))
        return self.module_s

    def training_s(self, args: dict[str, Any], tensors: dict[str, torch.Tensor]) -> float:
        """Q7's limit: a multiple of what the reference needs for the same number of samples."""
        recipe = args.get("recipe") if isinstance(args.get("recipe"), dict) else {}
        epochs = recipe.get("epochs", 1)
        epochs = epochs if isinstance(epochs, int) and epochs > 0 else 1
        train = tensors.get("train_images")
        samples = epochs * (len(train) if train is not None else 0)
        return _tenths(max(self.training_floor_s, self.training_multiple * self.per_sample_s * samples))


def _tenths(seconds: float) -> float:
    """Rounded up to a tenth of a second: limits that read well in messages."""
    return math.ceil(seconds * 10) / 10


def request_limits(
    device: str, timing: TimingSettings, limits: SandboxLimits, placement: Mapping[str, Any] | None = None
) -> RequestLimits:
    """The limits for a submission graded on ``device``; no forward/call limit exceeds ``request_timeout_s``.
    ``placement``: the sandbox's ``uid_base`` and ``hide`` (``GraderSettings.sandbox_placement()``)."""
    measured = reference_time(device, limits, **(placement or {}))
    ceiling_s = limits.request_timeout_s
    module_s = _tenths(min(ceiling_s, max(timing.request_floor_s, timing.request_multiple * measured.forward_s)))
    return RequestLimits(
        module_s=module_s,
        timm_s=timing.timm_factor * module_s,
        per_sample_s=measured.per_sample_s,
        training_floor_s=timing.training_floor_s,
        training_multiple=timing.training_multiple,
        module_budget_s=_tenths(max(timing.module_budget_floor_s, timing.module_budget_multiple * measured.forward_s)),
    )
