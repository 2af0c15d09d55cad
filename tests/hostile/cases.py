"""The hostile submissions, one file per attack (docs/security.md numbers the attacks).

Each ``attack_*.py`` is a self-contained module source whose docstring names the attack and the
defense. ``HostileCase.source()`` appends it to the reference bundle, so the submission also
defines the whole contract (the attack then overrides or adds names). Load this file by path
(``importlib``) or with ``tests/hostile`` on ``sys.path``; ``CASES`` lists every attack.
"""

from dataclasses import dataclass
from pathlib import Path

HOSTILE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class HostileCase:
    """One attack file."""

    name: str  # the file's stem without "attack_", e.g. "read_reference"
    path: Path

    @property
    def attack(self) -> str:
        """The first line of the file's docstring: what it tries."""
        text = self.path.read_text().split('"""')[1]
        return text.strip().splitlines()[0]

    def attack_source(self) -> str:
        return self.path.read_text()

    def source(self) -> str:
        """The reference bundle followed by the attack: a complete, hostile submission."""
        from reference.bundle import bundle_submission

        return bundle_submission() + "\n\n# --- attack ---\n" + self.attack_source()


CASES = [HostileCase(p.stem.removeprefix("attack_"), p) for p in sorted(HOSTILE_DIR.glob("attack_*.py"))]
BY_NAME = {case.name: case for case in CASES}
