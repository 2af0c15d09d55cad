"""Written answers: headings in their accepted forms, empty sections missing, questions and comments left out."""

import time

import pytest

from grader.intake import load_submission
from grader.intake.answers import ANSWER_KEYS, parse_answers, question_key


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("Q3", "Q3"),
        ("q3", "Q3"),
        ("Q3: attention versus convolution", "Q3"),
        ("Q3 answer", "Q3"),
        ("Q6a", "Q6a"),
        ("Q6 a", "Q6a"),
        ("Q6.a", "Q6a"),
        ("q6A", "Q6a"),
        ("Q6 (b) positions", "Q6b"),
        ("Q8-d", "Q8d"),
        ("**Q7**", "Q7"),
    ],
)
def test_heading_forms_normalise(title: str, key: str):
    assert question_key(title) == (key, True)


@pytest.mark.parametrize("title", ["Q9", "Q6", "Q8", "Q1", "Q10"])
def test_question_headings_outside_the_answers_are_recognised_but_unused(title: str):
    assert question_key(title) == (None, True)


@pytest.mark.parametrize("title", ["Question 3: self-attention", "Results", "Qualitative results", ""])
def test_other_headings_are_not_questions(title: str):
    assert question_key(title) == (None, False)


def test_answers_file_with_every_variant(fixture_file):
    submission = load_submission([fixture_file("answers_variants.md", "answers.md")])
    assert submission.module_source is None
    assert submission.answers == {
        "Q3": "Self-attention relates every token to every other token: a global receptive field.",
        "Q6a": "The [CLS] token gathers the image's information for the classifier.",
        "Q6b": "The positional embedding tells the model where each patch was.",
        "Q7": "### Results\n\nWe reached 97% test accuracy.\n\n"
        "```python\n# this comment is not a heading\nlr = 1e-3\n```",
        "Q8b": "timm resamples the position embedding.",
    }
    assert "Q6c" not in submission.answers  # an empty section is missing
    assert any("'## Q9' ignored" in warning for warning in submission.warnings)


def test_section_ends_at_a_heading_of_the_same_level():
    text = "## Q3\n\nanswer\n\n## Appendix\n\nnot an answer\n\n### Q4\n\nfour\n\n# Part 2\n\nnot four"
    answers, warnings = parse_answers(text, "answers.md")
    assert answers == {"Q3": "answer", "Q4": "four"} and warnings == []


def test_repeated_heading_joins_the_sections():
    answers, warnings = parse_answers("## Q7\n\nfirst\n\n## Q5\n\nblock\n\n## Q7\n\nsecond", "lab.ipynb")
    assert answers["Q7"] == "first\n\nsecond"
    assert warnings == ["lab.ipynb: Q7 has two sections; they were joined."]


def test_answers_come_in_question_order():
    answers, _ = parse_answers("## Q8d\n\nd\n\n## Q3\n\nthree\n\n## Q6c\n\nc", "answers.md")
    assert list(answers) == ["Q3", "Q6c", "Q8d"]
    assert set(answers) <= set(ANSWER_KEYS)


def test_md_answers_win_over_the_notebook(write_file, write_notebook):
    notebook = write_notebook([("code", "import torch"), ("markdown", "## Q3\n\nfrom the notebook\n\n## Q4\n\nheads")])
    answers = write_file("answers.md", "## Q3\n\nfrom answers.md\n")
    submission = load_submission([notebook, answers])
    assert submission.answers == {"Q3": "from answers.md", "Q4": "heads"}
    assert "Q3 is answered in answers.md and in vit_lab.ipynb: used answers.md." in submission.warnings


def test_md_without_headings_is_warned(write_file):
    submission = load_submission(
        [write_file("vit.py", "import torch\n"), write_file("answers.md", "I forgot headings")]
    )
    assert submission.answers == {}
    assert any("answers.md has no answered sections" in warning for warning in submission.warnings)


@pytest.mark.parametrize(
    "text",
    [
        "## Q3" + " \t" * 50_000 + "x\n",  # cubic for a regex with a lazy title and optional closing hashes
        "## Q3" + " " * 100_000 + "!\n",  # quadratic for adjacent optional whitespace in the question pattern
        "## Q3\n" + "<!--" * 100_000,  # quadratic for a lazy DOTALL comment pattern
    ],
    ids=["heading-whitespace", "question-whitespace", "unclosed-comments"],
)
def test_hostile_markdown_is_parsed_in_linear_time(text: str):
    started = time.perf_counter()
    parse_answers(text, "answers.md")
    assert time.perf_counter() - started < 5.0  # takes milliseconds; a backtracking regex took minutes
