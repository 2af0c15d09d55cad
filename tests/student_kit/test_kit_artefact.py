"""The wheel students install: pip installs it, it runs without the repository, and it holds nothing
of the answer key (no reference source, no hidden configuration, no rubric, not the scoring seed)."""

import ast
import inspect
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import torch
from safetensors import safe_open

import grader.checks.q4_multi_head_attention as q4
import grader.checks.q6_vit as q6
from grader.checks.context import CheckContext
from grader.student_kit.annotate import REFERENCE_CLASSES
from grader.student_kit.public import kit_checks, public_seed
from reference.bundle import bundle_submission

REPO = Path(__file__).parents[2]
FORBIDDEN_PACKAGES = {"reference", "grader", "service", "student_template"}


def _texts(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as archive:
        return {
            n: archive.read(n).decode("utf-8", "replace") for n in archive.namelist() if not n.endswith(".safetensors")
        }


def _metadata(wheel: Path, tmp_path: Path) -> dict:
    with zipfile.ZipFile(wheel) as archive:
        path = Path(archive.extract("vitgrade_student/data/fixtures.safetensors", tmp_path))
    with safe_open(str(path), framework="pt") as handle:
        return json.loads(handle.metadata()["vitgrade"])


def test_the_wheel_holds_only_the_kit(kit_wheel):
    with zipfile.ZipFile(kit_wheel) as archive:
        names = archive.namelist()
    assert all(n.split("/")[0] in ("vitgrade_student", "vitgrade_student-0.1.0.dist-info") for n in names), names
    assert "vitgrade_student/data/fixtures.safetensors" in names


def test_the_wheel_has_no_reference_source_and_no_rubric(kit_wheel):
    texts = "\n".join(_texts(kit_wheel).values())
    for cls in REFERENCE_CLASSES.values():
        assert f"class {cls.__name__}(" not in texts
        forward = inspect.getsource(cls.forward).strip().splitlines()
        body = [line.strip() for line in forward[1:] if len(line.strip()) > 25 and not line.strip().startswith('"""')]
        assert body and not any(line in texts for line in body), cls.__name__
    rubric = (REPO / "reference" / "rubric.toml").read_text()
    phrases = [line.strip() for line in rubric.splitlines() if len(line.strip()) > 30]
    assert phrases and not any(p in texts for p in phrases)
    assert "train_predict" not in texts and "recipe" not in texts
    standins = _texts(kit_wheel)["vitgrade_student/standins.py"]  # Q4's stand-in is torch's own attention
    assert "multi_head_attention_forward" in standins and "softmax" not in standins and "sqrt" not in standins


def test_the_kit_imports_nothing_of_the_grader(kit_wheel):
    for name, text in _texts(kit_wheel).items():
        if not name.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not roots & FORBIDDEN_PACKAGES, (name, roots)


def test_no_hidden_configuration_and_not_the_scoring_seed(kit_wheel, tmp_path):
    meta = _metadata(kit_wheel, tmp_path)
    assert not {"q4.extra", "q6.extra"} & set(meta["checks"])
    assert meta["seed"] == public_seed(0) != 0
    hidden = [case.kwargs for case in q4.EXTRA_CASES + q6.EXTRA_CASES]
    for check in meta["checks"].values():
        for request in check["requests"]:
            assert request["args"].get("kwargs") not in hidden
    ops = {r["op"] for check in meta["checks"].values() for r in check["requests"]}
    assert ops == {"forward", "call"}
    scored = CheckContext(sandbox=None, submission=None, seed=0, check_id="q3.equivalence").randn(
        2, 7, 32, salt="input:0"
    )
    shipped = CheckContext(sandbox=None, submission=None, seed=meta["seed"], check_id="q3.equivalence")
    assert not torch.equal(scored, shipped.randn(2, 7, 32, salt="input:0"))


def test_pip_installs_the_wheel_and_it_runs_without_the_repository(kit_wheel, tmp_path):
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target), str(kit_wheel)]
    subprocess.run(pip, check=True, capture_output=True, timeout=300)
    assert (target / "bin" / "vitgrade-submit").is_file()
    (tmp_path / "student.py").write_text(bundle_submission())
    script = (
        "import sys, vitgrade_student as kit\n"
        "results = kit.check_all('student.py')\n"
        "assert results.passed, str(results)\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in {'reference', 'grader', 'service'})\n"
        "assert not leaked, leaked\n"
        "assert kit.__file__.startswith(sys.argv[1]), kit.__file__\n"
        "print(results.summary())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run(
        [sys.executable, "-c", script, str(target)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"{len(kit_checks())}/{len(kit_checks())} public checks passed locally" in run.stdout
