"""Pairs of documents that share fingerprints: an inverted index, so the cost grows with what is shared.

The template's k-grams are subtracted from every document, and fingerprints found in more than
``common_share`` of the students are dropped as common code. Each fingerprint then lists the documents
holding it, and only documents listed together become a pair: two unrelated documents never cost a
comparison.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations

from service.similarity.models import Document, Fragment, Pair, pair_scores
from service.similarity.tokens import Token
from service.similarity.winnow import fingerprints, kgram_hashes


def template_hashes(template: Iterable[Sequence[Token]], k: int) -> set[int]:
    """Every k-gram hash of the template: subtracted from each document (all k-grams, not only winnowed ones)."""
    return {value for tokens in template for value in kgram_hashes(tokens, k)}


class FingerprintIndex:
    """The fingerprints of every document (``excluded`` and common ones removed), and who holds each."""

    def __init__(
        self,
        documents: Sequence[Document],
        excluded: set[int],
        *,
        k: int,
        window: int,
        common_share: float,
        common_min_students: int,
    ) -> None:
        self.documents = list(documents)
        self.k = k
        self.positions: list[dict[int, list[int]]] = []
        for document in self.documents:
            held: dict[int, list[int]] = defaultdict(list)
            for fingerprint in fingerprints(document.tokens, k=k, window=window):
                if fingerprint.hash not in excluded:
                    held[fingerprint.hash].append(fingerprint.start)
            self.positions.append(held)
        self.holders: dict[int, list[int]] = defaultdict(list)
        for index, held in enumerate(self.positions):
            for value in held:
                self.holders[value].append(index)
        self._drop_common(common_share, common_min_students)

    def _drop_common(self, share: float, min_students: int) -> None:
        students = {d.owner for d in self.documents if not d.archived}
        if len(students) < min_students:
            return
        limit = share * len(students)
        for value, holders in list(self.holders.items()):
            if len({self.documents[i].owner for i in holders}) > limit:
                del self.holders[value]
                for index in holders:
                    self.positions[index].pop(value, None)

    def shared_counts(self) -> dict[tuple[int, int], int]:
        """Distinct shared fingerprints per pair of documents of different owners (never two archived ones)."""
        counts: dict[tuple[int, int], int] = defaultdict(int)
        for holders in self.holders.values():
            if len(holders) < 2:
                continue
            for i, j in combinations(holders, 2):
                a, b = self.documents[i], self.documents[j]
                if a.owner != b.owner and not (a.archived and b.archived):
                    counts[(i, j)] += 1
        return counts

    def pair(self, i: int, j: int, shared: int, max_fragments: int) -> Pair:
        """The pair record of documents ``i`` and ``j``: coverages, similarity and (unless ``max_fragments``
        is 0) the shared fragments; ``longest_fragment`` is counted either way."""
        a, b = self.documents[i], self.documents[j]
        total_a, total_b = len(self.positions[i]), len(self.positions[j])
        fragments = self.fragments(i, j) if max_fragments else []
        longest = fragments[0].tokens if fragments else self.longest_run(i, j)
        return Pair(
            a=a.owner,
            b=b.owner,
            a_source=a.source_id,
            b_source=b.source_id,
            **pair_scores(shared, total_a, total_b),
            shared=shared,
            longest_fragment=longest,
            fragments=fragments[:max_fragments],
        )

    def fragments(self, i: int, j: int) -> list[Fragment]:
        """Shared runs as fragments with line numbers and text, longest first."""
        fragments = [self._fragment(i, j, run) for run in self._runs(i, j)]
        return sorted(fragments, key=lambda f: (-f.tokens, f.a_lines))

    def longest_run(self, i: int, j: int) -> int:
        """Tokens in the longest shared run (what ``fragments`` would put first), without building text."""
        length_a = len(self.documents[i].tokens)
        return max((min(run[-1][0] + self.k, length_a) - run[0][0] for run in self._runs(i, j)), default=0)

    def _runs(self, i: int, j: int) -> list[list[tuple[int, int]]]:
        """Matches on one diagonal (same offset between the documents) chained across gaps shorter than a k-gram."""
        held_a, held_b = self.positions[i], self.positions[j]
        matches = sorted(
            (pa - pb, pa, pb) for value in held_a.keys() & held_b.keys() for pa in held_a[value] for pb in held_b[value]
        )
        runs: list[list[tuple[int, int]]] = []
        for diagonal, pa, pb in matches:
            last = runs[-1][-1] if runs else None
            if last is not None and last[0] - last[1] == diagonal and pa - last[0] <= self.k:
                runs[-1].append((pa, pb))
            else:
                runs.append([(pa, pb)])
        return runs

    def _fragment(self, i: int, j: int, run: list[tuple[int, int]]) -> Fragment:
        a, b = self.documents[i], self.documents[j]
        (a0, b0), (a1, b1) = run[0], run[-1]
        end_a = min(a1 + self.k - 1, len(a.tokens) - 1)
        end_b = min(b1 + self.k - 1, len(b.tokens) - 1)
        a_lines = (a.tokens[a0].line, a.tokens[end_a].line)
        b_lines = (b.tokens[b0].line, b.tokens[end_b].line)
        return Fragment(
            tokens=end_a - a0 + 1,
            a_lines=a_lines,
            b_lines=b_lines,
            a_text=_text(a.lines, a_lines),
            b_text=_text(b.lines, b_lines),
        )


def _text(lines: list[str], span: tuple[int, int]) -> str:
    return "\n".join(lines[span[0] - 1 : span[1]])
