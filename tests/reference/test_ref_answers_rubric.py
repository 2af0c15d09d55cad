"""The written-answer key and its rubric: the key earns every concept, blank or off-topic text earns none.

Concepts are matched the way the grader matches them (RE2 on normalised sentences, ``with`` patterns,
contradictions), and every rubric total equals the written check's points in ``grader/checks/points.py``.
"""

import re
import time
import tomllib
from pathlib import Path

import pytest
import re2

from grader.checks.points import POINTS
from grader.checks.written_profile import describe
from grader.checks.written_rubric import Concept, load_rubric
from grader.checks.written_text import compile_linear, normalise

REFERENCE = Path(__file__).parents[2] / "reference"
HEADINGS = ("Q3", "Q4", "Q5", "Q6a", "Q6b", "Q6c", "Q7", "Q8a", "Q8b", "Q8c", "Q8d")
GRADED_AT_LEAST = {"Q3", "Q4", "Q5", "Q6a", "Q6b", "Q6c", "Q7", "Q8a", "Q8d"}
OFF_TOPIC = (
    "To make a risotto, warm the stock in a pan, toast the rice in butter with a chopped onion, then add "
    "the wine and stir gently until it is absorbed. Serve with parmesan and black pepper."
)


def sections(markdown: str) -> dict[str, str]:
    """``## Q..`` heading -> the text up to the next ``## `` heading."""
    parts = re.split(r"^## +(Q\w+) *$", markdown, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


@pytest.fixture(scope="module")
def rubric() -> dict:
    return tomllib.loads((REFERENCE / "rubric.toml").read_text())["questions"]


@pytest.fixture(scope="module")
def answers() -> dict[str, str]:
    return sections((REFERENCE / "answers.md").read_text())


def found(concept: dict, text: str, question: str = "") -> bool:
    """The concept is stated (and not contradicted) in ``text``, as the grader decides it."""
    rubric = load_rubric()[question] if question else None
    matcher = next((c for c in rubric.concepts if c.name == concept["name"]), None) if rubric else None
    if matcher is None:
        matcher = Concept(concept["name"], 1.0, tuple(concept["patterns"]), tuple(concept.get("with", [])))
    kept = describe(normalise(text), rubric.prompt if rubric else "").kept
    return matcher.stated(kept) and not matcher.denied(kept)


def test_answer_key_has_every_heading_once(answers):
    text = (REFERENCE / "answers.md").read_text()
    for heading in HEADINGS:
        assert len(re.findall(rf"^## {heading} *$", text, flags=re.MULTILINE)) == 1, f"## {heading}"
        assert len(answers[heading].split()) > 40, f"## {heading} is too short"
    assert "SWEEP_TABLE" not in text and "BENCHMARK_RESULTS" not in text, "placeholders left in the key"


def test_rubric_shape(rubric):
    assert GRADED_AT_LEAST <= set(rubric) <= set(HEADINGS)
    for question, spec in rubric.items():
        concepts = spec["concepts"]
        assert 2 <= len(concepts) <= 6, f"{question}: {len(concepts)} concepts"
        total = sum(c["points"] for c in concepts)
        assert total == pytest.approx(spec["points"]), f"{question}: concepts sum to {total}, not {spec['points']}"
        assert spec["prompt"], f"{question}: no prompt (the question's text)"
        for concept in concepts:
            assert concept["name"] and concept["patterns"], f"{question}: {concept}"
            assert not concept.get("contradicted_by") or concept.get("contradiction"), f"{question}: {concept['name']}"


def test_rubric_totals_are_the_written_checks_points(rubric):
    written = {"Q" + key.split(".")[1][1:]: value for key, value in POINTS.items() if key.startswith("written.")}
    assert {q: spec["points"] for q, spec in rubric.items()} == pytest.approx(written)


def test_every_pattern_compiles_under_re2(rubric):
    """The grader's engine is RE2: linear time whatever the pattern (it rejects look-around and back-references)."""
    for question, spec in rubric.items():
        for concept in spec["concepts"]:
            for key in ("patterns", "with", "contradicted_by"):
                for pattern in concept.get(key, []):
                    try:
                        compile_linear(pattern)
                    except re2.error as error:
                        pytest.fail(f"{question} {concept['name']} {key}: {pattern!r} is not RE2: {error}")


def test_the_engine_does_not_backtrack():
    """A pattern that backtracks exponentially in Python's re (nested quantifiers) is answered at once."""
    start = time.perf_counter()
    assert compile_linear(r"(a+)+$").search("a" * 5_000 + "b") is None
    assert compile_linear(r"softmax\s*\\?!?\s*(\\left)?\s*\(").search("softmax" + " " * 50_000 + "#") is None
    assert time.perf_counter() - start < 1.0


def test_answer_key_earns_every_concept(rubric, answers):
    missing = [
        f"{question}: {concept['name']}"
        for question, spec in rubric.items()
        for concept in spec["concepts"]
        if not found(concept, answers.get(question, ""), question)
    ]
    assert not missing, f"the key misses {missing}"


@pytest.mark.parametrize("text", ["", "   \n", "TODO", OFF_TOPIC], ids=["empty", "blank", "todo", "off-topic"])
def test_blank_or_off_topic_earns_nothing(rubric, text):
    hits = [
        f"{question}: {concept['name']}"
        for question, spec in rubric.items()
        for concept in spec["concepts"]
        if found(concept, text, question)
    ]
    assert not hits, f"{text[:30]!r} matched {hits}"
