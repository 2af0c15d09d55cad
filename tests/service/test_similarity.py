"""Similarity of code and written answers: copies found, honest solutions apart, the template ignored."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from similarity_fixtures import independent_solution, reference_solution, renamed, reordered

from service.similarity import SimilarityParams, Source, Untokenisable, code_tokens, load_template, similarity_report
from service.similarity.winnow import fingerprints, winnow

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = load_template()
ALL_PAIRS = SimilarityParams(report_threshold=0.0)


def code_pairs(*sources: Source, params: SimilarityParams = ALL_PAIRS) -> dict[frozenset, object]:
    code, _ = similarity_report(list(sources), TEMPLATE, params)
    return {frozenset((p.a, p.b)): p for p in code.pairs}


def test_verbatim_and_renamed_reordered_copies_score_at_least_0_9():
    original = reference_solution()
    pairs = code_pairs(
        Source("alice", "a1", original),
        Source("bob", "b1", original),
        Source("carol", "c1", reordered(renamed(original))),
    )
    assert pairs[frozenset({"alice", "bob"})].similarity == 1.0
    disguised = pairs[frozenset({"alice", "carol"})]
    assert disguised.similarity >= 0.9, disguised.model_dump(exclude={"fragments"})


def test_two_independent_correct_solutions_stay_well_below_copies():
    pairs = code_pairs(Source("alice", "a1", reference_solution()), Source("dave", "d1", independent_solution()))
    pair = pairs.get(frozenset({"alice", "dave"}))
    assert pair is None or pair.similarity < 0.3, pair


def test_a_file_that_only_repeats_the_template_scores_near_zero():
    template_only = (REPO / "student_template" / "vit.py").read_text()
    pairs = code_pairs(Source("erin", "e1", template_only), Source("frank", "f1", template_only))
    pair = pairs.get(frozenset({"erin", "frank"}))
    assert pair is None or pair.similarity < 0.05, pair


def test_comments_and_docstrings_do_not_change_the_tokens():
    source = 'def f(x):\n    """Doc."""\n    return x + 1  # add one\n'
    plain = "def g(y):\n    return y + 2\n"
    assert [t.text for t in code_tokens(source)] == [t.text for t in code_tokens(plain)]


def test_the_result_is_symmetric():
    original, disguised = reference_solution(), reordered(renamed(original := reference_solution()), seed=3)
    forward = code_pairs(Source("alice", "a1", original), Source("bob", "b1", disguised))
    backward = code_pairs(Source("bob", "b1", disguised), Source("alice", "a1", original))
    one, other = forward[frozenset({"alice", "bob"})], backward[frozenset({"alice", "bob"})]
    assert one.similarity == other.similarity
    assert {one.a_coverage, one.b_coverage} == {other.a_coverage, other.b_coverage}
    assert one.longest_fragment == other.longest_fragment


def test_a_student_is_never_paired_with_themselves_and_counts_once():
    original = reference_solution()
    pairs = code_pairs(
        Source("alice", "a1", original),
        Source("alice", "a2", original),
        Source("bob", "b1", original),
        Source("bob", "b2", independent_solution()),
    )
    assert list(pairs) == [frozenset({"alice", "bob"})]
    assert pairs[frozenset({"alice", "bob"})].similarity == 1.0


def test_an_untokenisable_file_is_reported_not_a_crash():
    code, _ = similarity_report(
        [Source("alice", "a1", reference_solution()), Source("bob", "b1", 'x = """never closed\n')], TEMPLATE
    )
    assert "bob" in code.unreadable and "not tokenisable" in code.unreadable["bob"]
    with pytest.raises(Untokenisable):
        code_tokens("def f(:\n  return (")


def test_fragments_give_line_numbers_and_text_of_both_sides():
    original = reference_solution()
    pair = code_pairs(Source("alice", "a1", original), Source("bob", "b1", "\n\n\n" + original))[
        frozenset({"alice", "bob"})
    ]
    longest = pair.fragments[0]
    assert longest.tokens == pair.longest_fragment > 50
    assert longest.b_lines[0] == longest.a_lines[0] + 3
    lines = original.splitlines()
    assert longest.a_text == "\n".join(lines[longest.a_lines[0] - 1 : longest.a_lines[1]])


def test_archived_sources_pair_with_current_students_only():
    original = reference_solution()
    pairs = code_pairs(
        Source("old1", "x1", original, archived=True),
        Source("old2", "x2", original, archived=True),
        Source("alice", "a1", original),
    )
    assert set(pairs) == {frozenset({"old1", "alice"}), frozenset({"old2", "alice"})}


def test_common_code_shared_by_most_students_is_ignored():
    shared_helper = "\n\ndef helper(values, scale):\n" + "".join(
        f"    values = [v * scale + {i} for v in values if v > {i}]\n" for i in range(12)
    )
    sources = [Source(f"s{i}", f"id{i}", independent_solution() + shared_helper) for i in range(8)]
    sources += [Source("x", "idx", reference_solution()), Source("y", "idy", reference_solution())]
    students = {f"s{i}" for i in range(8)}
    params = SimilarityParams(report_threshold=0.0, common_share=0.5, common_min_students=8)
    pairs = code_pairs(*sources, params=params)
    assert pairs[frozenset({"x", "y"})].similarity == 1.0
    assert not [key for key in pairs if key <= students]  # what 8 of 10 share is common code
    unfiltered = code_pairs(*sources, params=params.model_copy(update={"common_min_students": 100}))
    assert unfiltered[frozenset({"s0", "s1"})].similarity == 1.0


def test_copied_written_answers_are_found_and_the_template_is_not():
    answer = (
        "Self-attention lets every token weigh every other token of the image, so the receptive field is "
        "global from the first layer, while a convolution only mixes a local neighbourhood; the cost grows "
        "with the square of the number of tokens."
    )
    other = "Attention compares all pairs of patches, convolutions use small kernels and shared weights."
    template_text = (REPO / "student_template" / "answers.md").read_text()
    _, answers = similarity_report(
        [
            Source("alice", "a1", None, {"Q3": answer, "Q4": "my own words here about heads"}),
            Source("bob", "b1", None, {"Q3": answer.replace("weigh", "weight"), "Q4": "something else entirely"}),
            Source("carol", "c1", None, {"Q3": other}),
            Source("dave", "d1", None, {"Q3": template_text}),
            Source("erin", "e1", None, {"Q3": template_text}),
        ],
        TEMPLATE,
        ALL_PAIRS,
    )
    pairs = {frozenset((p.a, p.b)): p for p in answers.pairs}
    copied = pairs[frozenset({"alice", "bob"})]
    assert copied.parts["Q3"] >= 0.6 and copied.fragments[0].part == "Q3"
    assert frozenset({"alice", "carol"}) not in pairs
    assert frozenset({"dave", "erin"}) not in pairs


def test_winnowing_keeps_a_fingerprint_in_every_window():
    hashes = [9, 3, 7, 3, 8, 1, 6, 6, 2, 5]
    chosen = winnow(hashes, 4)
    for start in range(len(hashes) - 3):
        assert any(start <= f.start < start + 4 for f in chosen)
    assert [f.hash for f in chosen] == [3, 1, 2]  # rightmost minimum of each window, each position once
    assert fingerprints(code_tokens("x = 1\n"), k=50, window=4) == []


def test_fingerprints_do_not_depend_on_the_hash_seed(tmp_path):
    script = (
        "import json, sys\n"
        "from service.similarity import Source, load_template, similarity_report, SimilarityParams\n"
        "from similarity_fixtures import reference_solution, renamed, independent_solution\n"
        "s = [Source('a', '1', reference_solution()), Source('b', '2', renamed(reference_solution())),"
        " Source('c', '3', independent_solution())]\n"
        "code, _ = similarity_report(s, load_template(), SimilarityParams(report_threshold=0.0))\n"
        "print(json.dumps(code.model_dump()))\n"
    )
    outputs = []
    for seed in ("1", "12345"):
        env = {
            **os.environ,
            "PYTHONHASHSEED": seed,
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests" / "service")]),
        }
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]
