"""Winnowing (Schleimer, Wilkerson and Aiken, 2003): a document's fingerprints are the minimum k-gram hash
of every window of ``window`` consecutive k-grams.

Any run of at least ``k + window - 1`` tokens shared by two documents shares at least one fingerprint,
and nothing shorter than ``k`` tokens ever does. Hashes never use Python's ``hash()``, so fingerprints are the
same in every process, whatever ``PYTHONHASHSEED`` is: each token text gets a blake2b code, and a k-gram
the rolling polynomial hash of its codes modulo 2^64.
"""

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from hashlib import blake2b

from service.similarity.tokens import Token


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A selected k-gram: its hash and the index of its first token in the document."""

    hash: int
    start: int


_MASK = (1 << 64) - 1
_BASE = 0x100000001B3  # the FNV-1a 64-bit prime, an odd multiplier for the polynomial hash


@lru_cache(maxsize=1 << 16)
def token_code(text: str) -> int:
    """A stable 64-bit code of one token text (blake2b: the same in every process)."""
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "big")


def _mix(value: int) -> int:
    """splitmix64's finaliser: spreads a polynomial hash so that minima are not biased to some tokens."""
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def kgram_hashes(tokens: Sequence[Token], k: int) -> list[int]:
    """The stable hash of every k-gram of the token texts (a rolling polynomial over the token codes,
    modulo 2^64; empty when there are fewer than k tokens)."""
    codes = [token_code(t.text) for t in tokens]
    if len(codes) < k:
        return []
    top = pow(_BASE, k - 1, 1 << 64)
    value = 0
    for code in codes[:k]:
        value = (value * _BASE + code) & _MASK
    hashes = [_mix(value)]
    for i in range(k, len(codes)):
        value = ((value - codes[i - k] * top) * _BASE + codes[i]) & _MASK
        hashes.append(_mix(value))
    return hashes


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
