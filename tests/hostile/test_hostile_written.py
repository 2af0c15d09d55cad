"""Hostile written answers: a backtracking bomb and a keyword soup, graded through the real intake and checks.

The bomb runs in a child process with a timeout, so a regression makes this test fail instead of hanging.
"""

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from grader.api import grade_files
from grader.checks.points import POINTS

REPO = Path(__file__).resolve().parents[2]
WRITTEN_TOTAL = sum(value for key, value in POINTS.items() if key.startswith("written."))
BOUND_S = 5.0
GUARD_S = 60.0


def bomb_markdown(run: int = 10_000) -> str:
    """Lines that a pattern with nested optional whitespace starts to match, then a long run of spaces and a
    character that makes the match fail: a backtracking engine tries every split of the run."""
    heading_lines = []
    for heading in ("Q3", "Q7"):  # 40 KB: under the size above which intake checks a zip member's ratio
        body = "\n".join(prefix + " " * run + "#" for prefix in ("softmax", "N^"))
        heading_lines.append(f"## {heading}\n\nMy answer: {body}\n")
    return "\n".join(heading_lines)


GRADE_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from grader.api import grade_files
    results = []
    for path in sys.argv[1:]:
        start = time.perf_counter()
        report = grade_files([path], device="cpu", select=["written.*"])
        results.append({"path": path, "elapsed": time.perf_counter() - start, "gradable": report.gradable,
                        "statuses": [c.status.value for c in report.checks],
                        "warnings": report.submission.get("warnings", [])})
    print(json.dumps(results))
    """
)


def grade_in_child(paths: list[Path]) -> list[dict]:
    """Grade each file's written answers in one child; a child that runs past the guard fails the test (no hang)."""
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(paths[0].parent)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", GRADE_SCRIPT, *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=GUARD_S,
            env=env,
            cwd=REPO,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"grading the written answers ran past {GUARD_S:g}s (catastrophic backtracking)")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_backtracking_bomb_in_answers_is_graded_fast(tmp_path):
    """A 40 KB answers.md (and a 1 KB zip of it) that backtracking patterns take hours on: graded in seconds."""
    text = bomb_markdown()
    assert len(text.encode()) > 20_000
    markdown = tmp_path / "answers.md"
    markdown.write_text(text)
    packed = tmp_path / "answers.zip"
    with zipfile.ZipFile(packed, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("answers.md", text)
    assert packed.stat().st_size < 2_000, "the zip is the small upload the attack needs"
    for result in grade_in_child([markdown, packed]):
        assert result["gradable"], result
        assert result["elapsed"] < BOUND_S, f"{result['path']}: {result['elapsed']:.1f}s, bound {BOUND_S:g}s"
        assert "error" not in result["statuses"], result
        assert any("characters" in w and "Q3" in w for w in result["warnings"]), result["warnings"]


SOUP = {
    "Q3": "global long-range all tokens content-dependent data-dependent dynamic weights quadratic O(N^2) N x N "
    "memory compute softmax(QK^T/sqrt(d))V",
    "Q4": "split D/h d_h heads concat concatenation W_O output projection softmax sqrt head_i = per-head attention",
    "Q5": "pre-norm LayerNorm LN( residual skip-connection x + MHSA MLP GELU feed-forward before sub-layer",
    "Q6a": "CLS learned token prepended first position aggregates gathers summary global representation all "
    "patches classification head logits classifier",
    "Q6b": "permutation invariant equivariant bag of patches order positional information where each patch "
    "spatial location learned trainable parameters sinusoidal fixed sin cos frequencies extrapolation",
    "Q6c": "embed_dim width capacity parameters cost; patch_size number of tokens smaller patch more tokens "
    "detail; nb_blocks depth deeper more layers parameters; accuracy 97% | 64 | 98.1 |",
    "Q7": "lr 0.001 epochs 10 batch 128 embed_dim 64; 98% accuracy; augmentation longer training dropout "
    "weight decay; quadratic O(N^2 d) N^2; swin window linear attention performer linformer token merging "
    "larger patches pooling flash attention",
    "Q8a": "224 196 197 fixed size resolution 3 channels RGB in_chans one channel grayscale; CNN global average "
    "pooling adaptive pooling any size fully convolutional first conv channels",
    "Q8d": "DeiT distillation CCT conv stem hybrid inductive bias locality augmentation mixup cutmix randaugment "
    "regularization pretraining self-supervised MAE DINO transfer learning",
}


@pytest.mark.parametrize("layout", ["inline", "bullets"])
def test_keyword_soup_under_every_heading_earns_at_most_a_third(tmp_path, layout):
    parts = []
    for heading, soup in SOUP.items():
        words = soup.replace(";", " ").split()
        body = soup if layout == "inline" else "\n".join(f"- {word}" for word in words)
        parts.append(f"## {heading}\n\n{body}\n")
    path = tmp_path / "answers.md"
    path.write_text("\n".join(parts))
    report = grade_files([path], device="cpu", select=["written.*"])
    checks = {check.id: check for check in report.checks}
    assert set(checks) == {key for key in POINTS if key.startswith("written.")}
    for check_id, result in checks.items():
        assert result.score <= result.max_score / 3 + 1e-6, f"{check_id}: {result.score}/{result.max_score}"
        assert result.details["needs_review"] is True, check_id
        assert result.details["confidence"] == "low", check_id
        assert "keywords" in result.message, result.message
    assert report.score <= WRITTEN_TOTAL / 3 + 1e-6


DRESSED_SOUP = {
    # every idea name the rubric knows, as a list: more items than the question's ideas (+2) is a bag of terms
    "Q8d": "DeiT, distillation, teacher, CCT, conv stem, hybrid, locality, mixup, CutMix, RandAugment, dropout, MAE, "
    "DINO, BEiT, transfer learning",
    # a label over a run of terms is not a list of answers
    "Q7": "Improve: augmentation dropout mixup cutmix randaugment schedule warmup longer training. Reduce: swin window "
    "linear attention performer linformer token merging larger patches pooling",
    # two-word noun phrases are terms, not notes
    "Q3": "global receptive field, long range, content dependent, dynamic weights, quadratic cost, attention maps, "
    "memory footprint",
}


@pytest.mark.parametrize("layout", ["inline", "bullets"])
@pytest.mark.parametrize("question", sorted(DRESSED_SOUP))
def test_keyword_soup_dressed_as_a_list_or_notes_earns_at_most_a_third(tmp_path, question, layout):
    """Lists that answer a question asking for names, and terse notes, are answers; a bag of terms in their
    shape is not (regression guard for the list and note rules)."""
    soup = DRESSED_SOUP[question]
    body = soup if layout == "inline" else "\n".join(f"- {item.strip()}" for item in soup.split(","))
    path = tmp_path / "answers.md"
    path.write_text(f"## {question}\n\n{body}\n")
    report = grade_files([path], device="cpu", select=[f"written.{question.lower()}"])
    (result,) = report.checks
    assert result.score <= result.max_score / 3 + 1e-6, (question, result.score, result.message)
    assert result.details["keyword_soup"] is True and result.details["confidence"] == "low", result.details
