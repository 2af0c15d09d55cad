"""What a check sees: the submission's sandbox, seeded generators, the device and the data profile."""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from reference.mnist import default_cache_dir


@dataclass
class CheckContext:
    """Everything a check needs, and nothing it could leak: the reference stays in the parent.

    ``sandbox`` is a ``grader.sandbox.client.Sandbox`` (typed loosely to keep this module free of it).
    """

    sandbox: Any
    submission: Any
    device: str = "cpu"
    seed: int = 0
    data_profile: str = "bundled"
    cache_dir: Path = field(default_factory=default_cache_dir)
    check_id: str = ""

    @property
    def defined_names(self) -> set[str]:
        """Public names the student's module defines."""
        return set(self.sandbox.defined_names)

    def generator(self, salt: str = "") -> torch.Generator:
        """A CPU generator seeded from (seed, check id, salt): every random input is reproducible."""
        digest = hashlib.sha256(f"{self.seed}:{self.check_id}:{salt}".encode()).digest()
        return torch.Generator().manual_seed(int.from_bytes(digest[:8], "big") & (2**63 - 1))

    def randn(self, *shape: int, salt: str = "") -> torch.Tensor:
        """Standard normal float32 inputs from this check's generator."""
        return torch.randn(*shape, generator=self.generator(salt))
