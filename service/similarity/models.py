"""The similarity report as data: documents in, pairs, fragments and clusters out.

The wording is *similarity*: a pair is a reason for a person to look, never a verdict.
"""

from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from service.similarity.tokens import Token


@dataclass
class Document:
    """One thing compared: a student's code, or one written answer, as normalised tokens."""

    owner: str  # the student (several documents of one owner are never paired with each other)
    source_id: str  # the submission id, or the archive entry's name
    tokens: list[Token]
    lines: list[str] = field(default_factory=list)  # the original text, for side-by-side fragments
    archived: bool = False  # from an earlier term: paired with current documents only


class SimilarityParams(BaseModel):
    """How documents are fingerprinted and which pairs are reported."""

    code_k: int = Field(17, ge=3, le=200, description="Tokens per k-gram for code.")
    code_window: int = Field(10, ge=1, le=200, description="Winnowing window (in k-grams) for code.")
    answer_k: int = Field(6, ge=2, le=100, description="Words per k-gram for written answers.")
    answer_window: int = Field(4, ge=1, le=100, description="Winnowing window (in k-grams) for written answers.")
    common_share: float = Field(
        0.5, gt=0, le=1, description="Fingerprints found in more than this share of students are ignored as common."
    )
    common_min_students: int = Field(
        8, ge=2, description="The common-code filter applies only with at least this many students."
    )
    report_threshold: float = Field(0.2, ge=0, le=1, description="Pairs below this similarity are not reported.")
    cluster_threshold: float = Field(0.6, ge=0, le=1, description="Pairs at or above this similarity form clusters.")
    max_fragments: int = Field(20, ge=1, le=1000, description="Shared fragments kept per pair.")
    fragment_pairs: int = Field(
        300, ge=0, le=100_000, description="Only the most similar pairs get their fragments (the costly part)."
    )


class Fragment(BaseModel):
    """A run of tokens the two documents share: line ranges (1-based, inclusive) and the text of both sides."""

    tokens: int
    a_lines: tuple[int, int]
    b_lines: tuple[int, int]
    a_text: str
    b_text: str
    part: str = Field("", description="The written question the fragment comes from (empty for code).")


class Pair(BaseModel):
    """Two students whose documents share fingerprints beyond the template and the common code."""

    a: str
    b: str
    a_source: str
    b_source: str
    similarity: float = Field(description="Shared fingerprints of both over all fingerprints of both (0..1).")
    a_coverage: float = Field(description="Share of a's fingerprints also found in b.")
    b_coverage: float = Field(description="Share of b's fingerprints also found in a.")
    shared: int = Field(description="Distinct fingerprints in common.")
    longest_fragment: int = Field(description="Tokens (code) or words (answers) in the longest shared fragment.")
    fragments: list[Fragment] = Field(default_factory=list)
    parts: dict[str, float] = Field(default_factory=dict, description="Per written question: its similarity.")


def pair_scores(shared: float, total_a: float, total_b: float) -> dict[str, float]:
    """A pair's ``similarity`` = 2 * shared / (total_a + total_b) and each side's coverage = shared / total, rounded
    (0 where a total is 0)."""
    return {
        "similarity": round(2 * shared / (total_a + total_b), 4) if total_a + total_b else 0.0,
        "a_coverage": round(shared / total_a, 4) if total_a else 0.0,
        "b_coverage": round(shared / total_b, 4) if total_b else 0.0,
    }


class Cluster(BaseModel):
    """Students connected by pairs at or above the cluster threshold."""

    members: list[str]
    max_similarity: float


class KindReport(BaseModel):
    """The result for one kind of document: ``code`` or ``answers``."""

    kind: str
    documents: int
    pairs: list[Pair]
    clusters: list[Cluster]
    unreadable: dict[str, str] = Field(default_factory=dict, description="owner -> why the file was skipped")
