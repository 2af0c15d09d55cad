"""Winnowing (Schleimer, Wilkerson and Aiken, 2003): a document's fingerprints are the minimum k-gram hash
of every window of ``window`` consecutive k-grams.

Any run of at least ``k + window - 1`` tokens shared by two documents shares at least one fingerprint,
and nothing shorter than ``k`` tokens ever does. Hashes are blake2b (8 bytes), so fingerprints are the
same in every process, whatever ``PYTHONHASHSEED`` is.
"""

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import blake2b

from service.similarity.tokens import Token


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A selected k-gram: its hash and the index of its first token in the document."""

    hash: int
    start: int


def kgram_hashes(tokens: Sequence[Token], k: int) -> list[int]:
    """The stable hash of every k-gram of the token texts (empty when there are fewer than k tokens)."""
    texts = [t.text for t in tokens]
    return [
        int.from_bytes(blake2b("\x1f".join(texts[i : i + k]).encode(), digest_size=8).digest(), "big")
        for i in range(len(texts) - k + 1)
    ]


def winnow(hashes: Sequence[int], window: int) -> list[Fingerprint]:
    """The rightmost minimum of every window of ``window`` hashes, each position recorded once (linear time)."""
    if not hashes:
        return []
    window = min(window, len(hashes))
    candidates: deque[int] = deque()  # positions whose hashes increase strictly from left to right
    selected: list[Fingerprint] = []
    for position, value in enumerate(hashes):
        while candidates and hashes[candidates[-1]] >= value:
            candidates.pop()
        candidates.append(position)
        if candidates[0] <= position - window:
            candidates.popleft()
        if position >= window - 1 and (not selected or selected[-1].start != candidates[0]):
            selected.append(Fingerprint(hashes[candidates[0]], candidates[0]))
    return selected


def fingerprints(tokens: Sequence[Token], *, k: int, window: int) -> list[Fingerprint]:
    """The winnowed fingerprints of ``tokens``."""
    return winnow(kgram_hashes(tokens, k), window)
