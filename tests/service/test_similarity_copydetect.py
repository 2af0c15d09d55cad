"""Cross-check: our code similarity orders the fixture pairs as copydetect (an independent tool) does."""

from itertools import combinations

import pytest
from similarity_fixtures import independent_solution, reference_solution, renamed, reordered

from service.similarity import SimilarityParams, Source, load_template, similarity_report

copydetect = pytest.importorskip("copydetect")


def fixture_files() -> dict[str, str]:
    original = reference_solution()
    return {
        "original": original,
        "verbatim": original,
        "disguised": reordered(renamed(original), seed=1),
        "independent": independent_solution(),
        "independent_renamed": renamed(independent_solution(), seed=2),
    }


def copydetect_similarity(tmp_path, one: str, other: str) -> float:
    paths = []
    for name, text in (("one", one), ("other", other)):
        path = tmp_path / f"{name}.py"
        path.write_text(text)
        paths.append(path)
    prints = [copydetect.CodeFingerprint(str(p), k=25, win_size=1) for p in paths]
    _, (a, b), _ = copydetect.compare_files(*prints)
    return (a + b) / 2


def test_copydetect_and_vitgrade_agree_on_which_pairs_are_copies(tmp_path):
    files = fixture_files()
    code, _ = similarity_report(
        [Source(name, name, text) for name, text in files.items()],
        load_template(),
        SimilarityParams(report_threshold=0),
    )
    ours = {frozenset((p.a, p.b)): p.similarity for p in code.pairs}
    copies = {
        frozenset(p)
        for p in (
            ("original", "verbatim"),
            ("original", "disguised"),
            ("verbatim", "disguised"),
            ("independent", "independent_renamed"),
        )
    }
    for one, other in combinations(files, 2):
        key = frozenset((one, other))
        theirs = copydetect_similarity(tmp_path, files[one], files[other])
        mine = ours.get(key, 0.0)
        if key in copies:
            assert theirs >= 0.8 and mine >= 0.9, (key, theirs, mine)
        else:
            assert theirs < 0.5 and mine < 0.3, (key, theirs, mine)
