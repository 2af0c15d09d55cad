"""The report writers: JSON round-trips, Gradescope's fields, JUnit that parses whatever the student wrote."""

import json
import xml.etree.ElementTree as ET

import pytest

from grader.formats import FORMATS, render
from grader.report import CheckResult, Environment, QuestionScore, Report

NASTY = 'expected <1> & "2" ]]> \x00\x1b[31m red \ud800 émoji 🙂'


def check(id: str, question: str, status: str, score: float, max_score: float, **extra) -> CheckResult:
    category = "written" if question == "written" else "shape"
    return CheckResult(
        id=id, question=question, category=category, status=status, score=score, max_score=max_score, **extra
    )


@pytest.fixture
def report() -> Report:
    checks = [
        check("q1.shape", "Q1", "passed", 1, 1, duration_s=0.25),
        check("q1.equivalence", "Q1", "failed", 0, 3, message=NASTY, hint="transpose <B, N>"),
        check("q4.extra", "Q4", "failed", 1, 2, hidden=True, message="secret config 5 heads", details={"k": 1}),
        check("q6.shape", "Q6", "error", 0, 1, message="your code raised ValueError", staff_traceback="Traceback..."),
        check("q8.pretrained", "Q8", "skipped", 0, 0, message="no GPU"),
        check("written.q3", "written", "failed", 1.5, 3, message="concepts found: global; missing: cost"),
    ]
    return Report(
        score=3.5,
        max_score=10,
        gradable=True,
        succeeded=True,
        duration_s=12.6,
        questions=[
            QuestionScore(id=q, score=s, max_score=m)
            for q, s, m in [("Q1", 1, 4), ("Q4", 1, 2), ("Q6", 0, 1), ("Q8", 0, 0), ("written", 1.5, 3)]
        ],
        checks=checks,
        environment=Environment(
            grader_version="0.1.0",
            python="3.11",
            torch="2",
            timm="1",
            device="cpu",
            seed=0,
            data_profile="bundled",
            suite_sha256="ab" * 32,
        ),
        log=NASTY,
    )


def test_json_round_trips_and_student_view_hides_staff_and_hidden_details(report):
    back = Report.model_validate_json(render(report, "json"))
    assert back.checks[1].message == NASTY.replace("\ud800", "?") and back.score == report.score
    public = json.loads(render(report, "json", student_view=True))
    by_id = {c["id"]: c for c in public["checks"]}
    assert by_id["q6.shape"]["staff_traceback"] is None
    assert by_id["q4.extra"]["message"] == "hidden check" and by_id["q4.extra"]["details"] == {}
    assert by_id["q4.extra"]["score"] == 1


def test_gradescope_results_have_the_documented_fields(report):
    results = json.loads(render(report, "gradescope"))
    assert results["score"] == 3.5 and results["execution_time"] == 13
    assert results["stdout_visibility"] in ("hidden", "visible", "after_due_date", "after_published")
    assert isinstance(results["output"], str) and "Score 3.5 / 10" in results["output"]
    tests = {t["name"].split(":")[0]: t for t in results["tests"]}
    assert set(tests) == {c.id for c in report.checks}
    for test in results["tests"]:
        assert set(test) >= {"name", "number", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert 0 <= test["score"] <= test["max_score"] or test["max_score"] == 0
    assert tests["q4.extra"]["visibility"] == "after_due_date"
    assert "secret config" not in tests["q4.extra"]["output"], "hidden checks' messages stay hidden"
    assert tests["q6.shape"]["status"] == "failed" and tests["q6.shape"]["output"].startswith("error:")
    assert "Traceback" not in json.dumps(results), "no staff traceback reaches Gradescope"
    assert [tests[i]["number"] for i in ("q1.shape", "q1.equivalence", "written.q3")] == ["1.1", "1.2", "W.1"]


def test_junit_parses_and_counts_every_outcome(report):
    text = render(report, "junit")
    root = ET.fromstring(text)  # raises on invalid XML: control characters must not get through
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("6", "3", "1", "1")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["Q1", "Q4", "Q6", "Q8", "written"]
    failure = suites["Q1"].find("testcase[@name='q1.equivalence']/failure")
    assert failure is not None and 'expected <1> & "2" ]]>' in failure.get("message")
    assert "\x00" not in text and "\x1b" not in text
    assert suites["Q6"].find("testcase/error") is not None
    assert suites["Q8"].find("testcase/skipped") is not None
    props = {p.get("name"): p.get("value") for p in suites["written"].find("properties")}
    assert float(props["score"]) == 1.5 and float(props["max_score"]) == 3


def test_junit_reports_a_grader_fault_as_an_error(report):
    faulty = report.model_copy(update={"succeeded": False, "message": "The grader failed <here>", "checks": []})
    root = ET.fromstring(render(faulty, "junit"))
    error = root.find("testsuite[@name='grading']/testcase/error")
    assert error is not None and "GRADER FAULT" in error.get("message")


def test_text_table_lists_every_check_and_the_totals(report):
    text = render(report, "text")
    for c in report.checks:
        assert c.id in text
    assert "Score 3.5 / 10" in text and "written  1.5 / 3" in text
    assert max(len(line) for line in text.splitlines()) < 200


def test_text_spells_out_what_to_fix_with_hints(report):
    text = render(report, "text")
    fixes = text.split("What to fix", 1)[1]
    assert "q1.equivalence (failed, 0/3)" in fixes and "hint: transpose <B, N>" in fixes
    assert "q6.shape (error, 0/1)" in fixes and "your code raised ValueError" in fixes
    assert "q1.shape (" not in fixes and "q8.pretrained (" not in fixes  # passed and skipped checks stay in the table
    student = render(report, "text", student_view=True).split("What to fix", 1)[1]
    assert "secret config" not in student and "Traceback" not in student


def test_unknown_format_is_refused(report):
    assert set(FORMATS) == {"json", "gradescope", "junit", "text"}
    with pytest.raises(ValueError, match="Unknown format"):
        render(report, "html")
