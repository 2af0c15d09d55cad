"""Q7's yardstick: the reference ViT trained with the grader's recipe on the same device, cached.

The reference is graded like a student: ``reference.bundle.bundle_submission()`` runs in a sandbox, the
same ``train`` op trains it on the same data and returns its weights, and the parent predicts the test
digits itself with the reference ``ViT`` loaded with them (``trusted_logits``), as for a student. The
accuracy is cached as JSON in ``<cache_dir>/baseline/`` under a key made of everything that can
change it: device, data profile, recipe, torch and timm versions, grader version, the harness's
training code, this module's evaluation code and the reference's source.
"""

import hashlib
import json
import logging
import time
from pathlib import Path

import timm
import torch
from pydantic import BaseModel, Field

import grader
from grader.cache import write_atomically
from grader.devices import device_kind
from grader.sandbox import Sandbox, SandboxError
from grader.sandbox.harness import normalize
from grader.settings import GraderSettings
from grader.weights import checked_state, expected_shapes, one_thread, state_from_reply
from reference.bundle import bundle_submission
from reference.mnist import MnistSplit, load_split
from reference.vit import ViT

log = logging.getLogger(__name__)
HARNESS = Path(__file__).parent / "sandbox" / "harness.py"


class BaselineError(RuntimeError):
    """The reference could not be trained: a grader fault, never blamed on the submission."""


class AccuracyRecipe(BaseModel):
    """How the grader trains every ViT for Q7: the model's kwargs, the data used and the optimiser."""

    model: dict = Field(description="ViT keyword arguments")
    train_size: int | None = Field(description="first N training digits used (None: all)")
    epochs: int = Field(ge=1, description="passes over the training digits")
    batch_size: int = Field(ge=1, description="samples per AdamW step")
    lr: float = Field(gt=0, description="peak learning rate (linear warmup, then cosine decay)")
    weight_decay: float = Field(ge=0, description="AdamW weight decay")
    warmup_fraction: float = Field(ge=0, le=1, description="share of the steps spent warming up")
    seed: int = Field(description="seeds the model's init and the batch order in the child")
    threads: int = Field(ge=1, description="torch CPU threads in the child")

    def wire(self) -> dict:
        """The ``recipe`` argument of the ``train`` op."""
        return self.model_dump(exclude={"model", "train_size"})


class Baseline(BaseModel):
    """One cached reference accuracy and what it was computed under."""

    accuracy: float = Field(description="the reference's test accuracy, in [0, 1]")
    seconds: float = Field(description="wall time of the reference's training and prediction in the child")
    key: dict = Field(description="everything the accuracy depends on")


def training_data(profile: str, recipe: AccuracyRecipe, data_dir: Path) -> tuple[MnistSplit, MnistSplit]:
    """The profile's train split (first ``train_size`` digits) and test split."""
    train = load_split(profile, train=True, data_dir=data_dir)
    test = load_split(profile, train=False, data_dir=data_dir)
    if recipe.train_size is not None:
        train = MnistSplit(images=train.images[: recipe.train_size], labels=train.labels[: recipe.train_size])
    return train, test


def train_weights(box: Sandbox, recipe: AccuracyRecipe, train: MnistSplit, timeout: float):
    """Ask the child to train its ViT on the training digits and return its weights; no test digit goes there."""
    tensors = {"train_images": train.images, "train_labels": train.labels}
    args = {"kwargs": recipe.model, "recipe": recipe.wire()}
    return box.request("train", args, tensors=tensors, timeout=timeout)


def describe(model: dict) -> str:
    """``the contract's ViT(img_size=28, ...)`` for messages."""
    return "the contract's ViT(" + ", ".join(f"{k}={v!r}" for k, v in model.items()) + ")"


def contract_weights(recipe: AccuracyRecipe, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The reply's ``state.*`` checked against the reference ``ViT(**recipe.model)`` (``grader.weights``)."""
    expected = expected_shapes(ViT(**recipe.model))
    return checked_state(expected, state_from_reply(tensors), describe(recipe.model))


def reference_vit(recipe: AccuracyRecipe, state: dict[str, torch.Tensor]) -> ViT:
    """The reference ``ViT(**recipe.model)`` loaded (strictly) with ``state``, in eval mode."""
    model = ViT(**recipe.model)
    model.load_state_dict(state, strict=True)
    return model.eval()


def module_logits(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Logits (N, num_classes) of the uint8 ``images`` (N >= 1) by a trusted module, 500 at a time, here."""
    with one_thread(), torch.no_grad():
        return torch.cat([model(normalize(images[i : i + 500], torch)) for i in range(0, len(images), 500)])


def trusted_logits(recipe: AccuracyRecipe, state: dict[str, torch.Tensor], images: torch.Tensor) -> torch.Tensor:
    """Logits (N, num_classes) of the uint8 ``images``, computed here by the reference ViT loaded with ``state``."""
    model = reference_vit(recipe, state)
    if len(images) == 0:
        return torch.zeros(0, recipe.model.get("num_classes", 10))
    return module_logits(model, images)


def accuracy_of(predictions: object, labels: torch.Tensor) -> float:
    """Share of correct predictions; the parent checks the child's tensor before using it."""
    if type(predictions) is not torch.Tensor:
        raise TypeError(f"predictions: expected a torch.Tensor, got {type(predictions).__name__}")
    if predictions.dtype != torch.int64 or tuple(predictions.shape) != tuple(labels.shape):
        raise ValueError(
            f"predictions: expected int64 of shape {tuple(labels.shape)}, "
            f"got {predictions.dtype} of shape {tuple(predictions.shape)}"
        )
    return float((predictions == labels).double().mean())


def cache_key(device: str, profile: str, recipe: AccuracyRecipe) -> dict:
    """Everything the reference accuracy depends on: the device's kind, not which GPU (``cuda:1`` shares ``cuda``'s)."""
    return {
        "device": device_kind(device),
        "data_profile": profile,
        "recipe": recipe.model_dump(),
        "torch": torch.__version__,
        "timm": timm.__version__,
        "grader": grader.__version__,
        "harness_sha256": hashlib.sha256(HARNESS.read_bytes()).hexdigest(),
        "evaluation_sha256": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
        "reference_sha256": hashlib.sha256(bundle_submission().encode()).hexdigest(),
    }


def reference_accuracy(device: str, profile: str, recipe: AccuracyRecipe, settings: GraderSettings) -> Baseline:
    """The cached reference accuracy for (device, profile, recipe, versions), computed on a miss."""
    key = cache_key(device, profile, recipe)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    path = Path(settings.cache_dir) / "baseline" / f"{digest}.json"
    if path.is_file():
        try:
            return Baseline.model_validate_json(path.read_text())
        except ValueError:
            log.warning("ignoring unreadable baseline cache %s", path)
    baseline = compute_baseline(device, profile, recipe, settings, key)
    write_atomically(path, baseline.model_dump_json(indent=2).encode())
    return baseline


def compute_baseline(device: str, profile: str, recipe: AccuracyRecipe, settings: GraderSettings, key: dict):
    """Train the reference in a sandbox exactly as a student's ViT is trained, and score it here."""
    train, test = training_data(profile, recipe, settings.data_dir)
    timeout = settings.accuracy_timeout_s if profile == "bundled" else settings.accuracy_timeout_full_s
    began = time.perf_counter()
    try:
        placement = settings.sandbox_placement()
        with Sandbox(bundle_submission(), device=device, limits=settings.limits, seed=recipe.seed, **placement) as box:
            if box.import_error:
                raise BaselineError(f"the reference bundle failed to import in the sandbox: {box.import_error}")
            reply = train_weights(box, recipe, train, timeout)
        state = contract_weights(recipe, reply.tensors)
    except (SandboxError, ValueError) as error:  # the reference's failure is the grader's, never the student's
        raise BaselineError(f"training the reference for the Q7 baseline failed: {error}") from error
    accuracy = accuracy_of(trusted_logits(recipe, state, test.images).argmax(dim=1), test.labels)
    log.info("reference accuracy %.4f on %s/%s in %.1fs", accuracy, device, profile, time.perf_counter() - began)
    return Baseline(accuracy=accuracy, seconds=round(time.perf_counter() - began, 3), key=key)
