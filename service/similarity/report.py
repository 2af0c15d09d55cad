"""A similarity report over a class: code and written answers, template subtracted, pairs and clusters."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from service.similarity.engine import FingerprintIndex, template_hashes
from service.similarity.models import Cluster, Document, KindReport, Pair, SimilarityParams, pair_scores
from service.similarity.template import Template
from service.similarity.tokens import Untokenisable, code_tokens
from service.similarity.words import answer_tokens


@dataclass
class Source:
    """What one student handed in (one submission), as the report reads it."""

    owner: str
    source_id: str
    code: str | None
    answers: dict[str, str] = field(default_factory=dict)  # question key -> text
    archived: bool = False
    problem: str = ""  # why the submission could not be read (reported, never compared)


def similarity_report(
    sources: Sequence[Source], template: Template, params: SimilarityParams | None = None
) -> tuple[KindReport, KindReport]:
    """(code report, answers report) for ``sources``."""
    params = params or SimilarityParams()
    return code_report(sources, template, params), answers_report(sources, template, params)


def code_report(sources: Sequence[Source], template: Template, params: SimilarityParams) -> KindReport:
    """Pairs of students whose code shares token runs beyond the template and the common code."""
    documents, unreadable = [], {}
    for source in sources:
        if source.problem:
            unreadable[source.owner] = f"{source.source_id}: {source.problem}"
            continue
        if not source.code:
            continue
        try:
            tokens = code_tokens(source.code)
        except Untokenisable as error:
            unreadable[source.owner] = f"{source.source_id}: {error}"
            continue
        documents.append(Document(source.owner, source.source_id, tokens, source.code.splitlines(), source.archived))
    excluded = template_hashes([_template_code_tokens(text) for text in template.code], params.code_k)
    index = FingerprintIndex(
        documents,
        excluded,
        k=params.code_k,
        window=params.code_window,
        common_share=params.common_share,
        common_min_students=params.common_min_students,
    )
    pairs = _best_pairs(index, params)
    return KindReport(
        kind="code",
        documents=len(documents),
        pairs=pairs,
        clusters=clusters(pairs, params.cluster_threshold),
        unreadable=unreadable,
    )


def answers_report(sources: Sequence[Source], template: Template, params: SimilarityParams) -> KindReport:
    """Pairs of students whose written answers share word runs, question by question."""
    questions = sorted({key for source in sources for key in source.answers})
    excluded = template_hashes([answer_tokens(text) for text in template.answers], params.answer_k)
    merged: dict[tuple[str, str], list[Pair]] = {}
    documents = 0
    for question in questions:
        docs = [
            Document(
                s.owner, s.source_id, answer_tokens(s.answers[question]), s.answers[question].splitlines(), s.archived
            )
            for s in sources
            if s.answers.get(question, "").strip()
        ]
        documents += len(docs)
        index = FingerprintIndex(
            docs,
            excluded,
            k=params.answer_k,
            window=params.answer_window,
            common_share=params.common_share,
            common_min_students=params.common_min_students,
        )
        for pair in _best_pairs(index, params.model_copy(update={"report_threshold": 0.0})):
            for fragment in pair.fragments:
                fragment.part = question
            pair.parts = {question: pair.similarity}
            merged.setdefault((pair.a, pair.b), []).append(pair)
    pairs = [_merge(parts) for parts in merged.values()]
    pairs = sorted((p for p in pairs if p.similarity >= params.report_threshold), key=_pair_order)
    return KindReport(
        kind="answers", documents=documents, pairs=pairs, clusters=clusters(pairs, params.cluster_threshold)
    )


def clusters(pairs: Sequence[Pair], threshold: float) -> list[Cluster]:
    """Connected components of the pairs at or above ``threshold`` (union-find), largest first."""
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        parent.setdefault(name, name)
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    strong = [p for p in pairs if p.similarity >= threshold]
    for pair in strong:
        parent[find(pair.a)] = find(pair.b)
    groups: dict[str, list[str]] = {}
    for name in list(parent):
        groups.setdefault(find(name), []).append(name)
    result = []
    for members in groups.values():
        inside = [p.similarity for p in strong if p.a in members]
        result.append(Cluster(members=sorted(members), max_similarity=max(inside)))
    return sorted(result, key=lambda c: (-len(c.members), -c.max_similarity, c.members))


def _template_code_tokens(text: str):
    try:
        return code_tokens(text)
    except Untokenisable:
        return []


def _best_pairs(index: FingerprintIndex, params: SimilarityParams) -> list[Pair]:
    """One pair per two students (their most similar documents), at or above the report threshold, sorted."""
    best: dict[tuple[str, str], tuple[int, int, int]] = {}
    for (i, j), shared in index.shared_counts().items():
        a, b = index.documents[i], index.documents[j]
        if a.owner > b.owner:
            i, j = j, i
            a, b = b, a
        total = len(index.positions[i]) + len(index.positions[j])
        key = (a.owner, b.owner)
        current = best.get(key)
        if current is None or shared / total > current[2] / (
            len(index.positions[current[0]]) + len(index.positions[current[1]])
        ):
            best[key] = (i, j, shared)
    ranked = sorted(
        (
            (2 * shared / total, i, j, shared)
            for i, j, shared in best.values()
            if (total := len(index.positions[i]) + len(index.positions[j]))
            and 2 * shared / total >= params.report_threshold
        ),
        key=lambda item: (-item[0], index.documents[item[1]].owner, index.documents[item[2]].owner),
    )
    return [
        index.pair(i, j, shared, params.max_fragments if rank < params.fragment_pairs else 0)
        for rank, (_, i, j, shared) in enumerate(ranked)
    ]


def _merge(parts: list[Pair]) -> Pair:
    """One answers pair from its per-question pairs: fingerprint counts added up, fragments pooled."""
    first = parts[0]
    shared = sum(p.shared for p in parts)
    total_a = sum(p.shared / p.a_coverage for p in parts if p.a_coverage)
    total_b = sum(p.shared / p.b_coverage for p in parts if p.b_coverage)
    fragments = sorted((f for p in parts for f in p.fragments), key=lambda f: -f.tokens)
    return Pair(
        a=first.a,
        b=first.b,
        a_source=first.a_source,
        b_source=first.b_source,
        **pair_scores(shared, total_a, total_b),
        shared=shared,
        longest_fragment=max((f.tokens for f in fragments), default=0),
        fragments=fragments,
        parts={k: v for p in parts for k, v in p.parts.items()},
    )


def _pair_order(pair: Pair) -> tuple[float, str, str]:
    return (-pair.similarity, pair.a, pair.b)
