"""The written-answer key and its rubric: the key earns every concept, blank or off-topic text earns none."""

import re
import tomllib
from pathlib import Path

import pytest

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


def found(concept: dict, text: str) -> bool:
    return any(re.search(pattern, text, flags=re.IGNORECASE) for pattern in concept["patterns"])


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
        assert 2 <= len(concepts) <= 4, f"{question}: {len(concepts)} concepts"
        total = sum(c["points"] for c in concepts)
        assert total == pytest.approx(spec["points"]), f"{question}: concepts sum to {total}, not {spec['points']}"
        for concept in concepts:
            assert concept["name"] and concept["patterns"], f"{question}: {concept}"
            for pattern in concept["patterns"]:
                re.compile(pattern)


def test_answer_key_earns_every_concept(rubric, answers):
    missing = [
        f"{question}: {concept['name']}"
        for question, spec in rubric.items()
        for concept in spec["concepts"]
        if not found(concept, answers.get(question, ""))
    ]
    assert not missing, f"the key misses {missing}"


@pytest.mark.parametrize("text", ["", "   \n", "TODO", OFF_TOPIC], ids=["empty", "blank", "todo", "off-topic"])
def test_blank_or_off_topic_earns_nothing(rubric, text):
    hits = [
        f"{question}: {concept['name']}"
        for question, spec in rubric.items()
        for concept in spec["concepts"]
        if found(concept, text)
    ]
    assert not hits, f"{text[:30]!r} matched {hits}"
