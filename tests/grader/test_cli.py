"""``python -m grader``: the binding CLI contract: arguments, outputs and exit codes 0 / 1 / 2."""

import dataclasses
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

from grading_support import ROOT, TEMPLATE, reference_files

from grader.checks.registry import REGISTRY
from grader.cli import main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([*argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_grading_that_ran_exits_0_and_select_keeps_only_matching_checks(capsys):
    code, out, _ = run_cli(capsys, *map(str, reference_files()), "--select", "q[1-3].*", "--device", "cpu")
    report = json.loads(out)
    assert code == 0
    ids = [c["id"] for c in report["checks"]]
    assert ids and {i.split(".")[0] for i in ids} == {"q1", "q2", "q3"}
    assert report["score"] == report["max_score"] > 0
    assert [q["id"] for q in report["questions"]] == ["Q1", "Q2", "Q3"]


def test_not_gradable_exits_1_with_the_reason(capsys, tmp_path):
    broken = tmp_path / "vit.py"
    broken.write_text("import torch\n\n\ndef broken(x):\n    return torch.relu(x\n")
    code, out, _ = run_cli(capsys, str(broken), "--select", "q1.*")
    report = json.loads(out)
    assert code == 1
    assert report["gradable"] is False and report["succeeded"] is True and report["score"] == 0
    assert report["message"], "the student is told why"


def test_fail_under_turns_a_low_score_into_exit_1(capsys):
    code, out, _ = run_cli(capsys, *map(str, TEMPLATE), "--select", "q1.*", "--fail-under", "1")
    assert code == 1 and json.loads(out)["score"] == 0
    code, _, _ = run_cli(capsys, *map(str, TEMPLATE), "--select", "q1.*", "--fail-under", "0")
    assert code == 0


def test_grader_fault_exits_2(capsys, monkeypatch):
    def broken(ctx):
        raise RuntimeError("a bug in the grader")

    monkeypatch.setitem(REGISTRY, "q1.shape", dataclasses.replace(REGISTRY["q1.shape"], func=broken))
    code, out, _ = run_cli(capsys, *map(str, TEMPLATE), "--select", "q1.shape")
    report = json.loads(out)
    assert code == 2 and report["succeeded"] is False
    assert report["checks"][0]["status"] == "error"


def test_output_file_and_formats(capsys, tmp_path):
    files = [*map(str, TEMPLATE), "--select", "q1.shape", "written.q3"]
    target = tmp_path / "report.xml"
    code, out, _ = run_cli(capsys, *files, "--format", "junit", "--output", str(target))
    assert code == 0 and out == "", "with --output nothing goes to stdout"
    root = ET.fromstring(target.read_text())
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "2"
    assert {s.get("name") for s in root.iter("testsuite")} == {"Q1", "written"}
    code, out, _ = run_cli(capsys, *files, "--format", "gradescope")
    results = json.loads(out)
    assert code == 0 and results["score"] == 0 and len(results["tests"]) == 2
    assert {t["status"] for t in results["tests"]} == {"failed"}
    code, out, _ = run_cli(capsys, *files, "--format", "text")
    assert code == 0 and "q1.shape" in out and "Score 0 / " in out


def test_progress_goes_to_stderr_never_stdout(capsys):
    code, out, err = run_cli(capsys, *map(str, TEMPLATE), "--select", "q1.shape", "--progress")
    assert code == 0
    json.loads(out)  # stdout is the report alone
    assert "[1/1] q1.shape: failed" in err


def test_module_entry_point(tmp_path):
    target = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "grader", *map(str, TEMPLATE), "--select", "written.q3", "-o", str(target)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert json.loads(target.read_text())["checks"][0]["id"] == "written.q3"
