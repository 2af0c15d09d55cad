"""Calibrate the semantic signal's threshold and margin on the TA-marked corpus (never on the held-out sets).

    PYTHONPATH=$PWD python tests/grader/checks/written_calibration.py [corpus folder] [--at T M] [--alone]

For each (threshold, margin) of a grid, scores every answer of the corpus (regex + semantic; with
``--alone`` the semantic signal alone, the patterns ignored but their contradictions kept) and prints
the mean over the sets of the summed absolute difference with the TA (points of 25) and the worst
per-question over-credit; ``--at`` prints the figures of one setting. Embeddings are cached per unit, so the
grid costs one pass of the model.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from written_agreement import WRITTEN, agreement, marks_of  # noqa: E402

from grader.checks.written import load_rubric, same_text_as, score_answer  # noqa: E402
from grader.checks.written_semantic import SemanticSettings  # noqa: E402
from grader.intake.submission import load_submission  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "written_corpus"


def score_folder(folder: Path, config: SemanticSettings) -> dict[str, float]:
    answers = dict(load_submission([folder / "answers.md"]).answers or {})
    rubrics, scores = load_rubric(), {}
    for question, points in WRITTEN.items():
        text = answers.get(question, "").strip()
        if not text:
            scores[question] = 0.0
            continue
        outcome = score_answer(rubrics[question], text, duplicated=same_text_as(question, answers), semantic=config)
        scores[question] = outcome.fraction * points
    return scores


def figures(root: Path, config: SemanticSettings) -> dict:
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    return agreement({f.name: (score_folder(f, config), marks_of(f)) for f in folders}, 0.3)


def main(argv: list[str]) -> None:
    if "--alone" in argv:  # the corpus's patterns were written against it: calibrate the signal on its own
        from grader.checks.written_rubric import Concept

        Concept.stated = lambda self, sentences: False
    root = Path(argv[0]) if argv and not argv[0].startswith("--") else CORPUS
    if "--at" in argv:
        at = argv.index("--at")
        config = SemanticSettings(semantic=True, threshold=float(argv[at + 1]), margin=float(argv[at + 2]))
        print(json.dumps(figures(root, config), indent=1))
        return
    off = figures(root, SemanticSettings(semantic=False))
    print(f"regex only: {off['mean_abs_diff_per_set_summed']:.3f} per set")
    for threshold in (0.55, 0.6, 0.625, 0.65, 0.675, 0.7, 0.75, 0.8):
        for margin in (0.0, 0.05, 0.1):
            fig = figures(root, SemanticSettings(semantic=True, threshold=threshold, margin=margin))
            over = max(fig["mean_over_credit_share_by_question"].values())
            mad = fig["mean_abs_diff_per_set_summed"]
            print(f"T={threshold:.3f} M={margin:.2f}: {mad:.3f} per set, max over {over:+.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
