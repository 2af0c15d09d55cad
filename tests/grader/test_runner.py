"""The runner and grader.outcomes: what a check does -> what the report says; selection; budgets; no module."""

import dataclasses

import pytest

from grader.checks.registry import REGISTRY, CheckFailed, CheckSpec, Outcome, Skip
from grader.intake import Submission
from grader.outcomes import run_check
from grader.report import CheckCategory, CheckStatus
from grader.runner import GradingContext, grade_submission, select_checks
from grader.sandbox.errors import SandboxCrashed, SandboxTimeout, StudentError
from grader.settings import GraderSettings

STUDENT_TRACE = "\n".join(f'  File "vit.py", line {i}, in forward' for i in range(40)) + "\nZeroDivisionError: boom"


def spec_raising(outcome) -> CheckSpec:
    def func(ctx):
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return CheckSpec("q3.fake", "Q3", CheckCategory.equivalence, 4.0, func)


def run(outcome):
    return run_check(spec_raising(outcome), GradingContext(sandbox=None, submission=None, check_id="q3.fake"))


def test_none_is_full_credit():
    result, ok = run(None)
    assert ok and result.status is CheckStatus.passed and result.score == result.max_score == 4.0


def test_outcome_is_partial_credit_with_figures():
    result, ok = run(Outcome(0.25, message="close", details={"max_abs_error": 0.1}))
    assert ok and result.status is CheckStatus.failed and result.score == 1.0
    assert result.message == "close" and result.details == {"max_abs_error": 0.1}


def test_check_failed_is_zero_with_message_hint_and_details():
    result, ok = run(CheckFailed("expected (2, 5), got (5, 2)", hint="transpose", details={"got": [5, 2]}))
    assert ok and result.status is CheckStatus.failed and result.score == 0
    assert (result.message, result.hint, result.details) == (
        "expected (2, 5), got (5, 2)",
        "transpose",
        {"got": [5, 2]},
    )


def test_skip_neither_gives_nor_takes_points():
    result, ok = run(Skip("no GPU here"))
    assert ok and result.status is CheckStatus.skipped and result.score == result.max_score == 0
    assert result.message == "no GPU here"


def test_not_implemented_is_a_failure_not_an_error():
    result, ok = run(StudentError("not_implemented", "MultiHeadSelfAttention.forward", ""))
    assert ok and result.status is CheckStatus.failed
    assert result.message == "not implemented yet: MultiHeadSelfAttention.forward"


def test_student_exception_is_an_error_with_a_short_traceback_and_the_full_one_for_staff():
    result, ok = run(StudentError("exception", "ZeroDivisionError: boom", STUDENT_TRACE))
    assert ok and result.status is CheckStatus.error and result.score == 0
    assert "ZeroDivisionError: boom" in result.message
    assert "line 39" in result.message and "line 5," not in result.message, "only the last lines are shown"
    assert result.staff_traceback == STUDENT_TRACE


def test_wrong_state_dict_is_a_failure():
    result, _ = run(StudentError("state_dict", "Missing key(s): q.weight", ""))
    assert result.status is CheckStatus.failed and "q.weight" in result.message


def test_timeout_and_crash_are_errors_that_say_what_happened():
    result, ok = run(SandboxTimeout("request forward", 30.0))
    assert ok and result.status is CheckStatus.error and "took longer than 30s" in result.message
    result, ok = run(SandboxCrashed("killed by SIGKILL", -9))
    assert ok and result.status is CheckStatus.error and "your process died" in result.message


def test_any_other_exception_is_a_grader_fault():
    result, ok = run(KeyError("bug in the grader"))
    assert not ok and result.status is CheckStatus.error
    assert "not your fault" in result.message and "KeyError" in (result.staff_traceback or "")


def test_select_keeps_matching_ids_in_question_order():
    ids = [spec.id for spec in select_checks(["q[1-3].*"])]
    assert ids and all(i.split(".")[0] in {"q1", "q2", "q3"} for i in ids)
    assert ids == sorted(ids, key=lambda i: i[:2])
    assert {s.id for s in select_checks(["*.shape"])} == {i for i in REGISTRY if i.endswith(".shape")}
    assert select_checks(["nothing.*"]) == []


def test_answers_only_submission_fails_the_code_checks_and_grades_the_answers():
    submission = Submission(module_source=None, answers={"Q3": "Attention is global, quadratic in N."})
    report = grade_submission(submission, device="cpu", select=["q1.shape", "written.q3"])
    by_id = {c.id: c for c in report.checks}
    assert report.succeeded and report.gradable
    assert by_id["q1.shape"].status is CheckStatus.failed and "no Python module" in by_id["q1.shape"].message
    assert by_id["written.q3"].status in (CheckStatus.passed, CheckStatus.failed)
    assert by_id["written.q3"].details["auto_checked"] is True
    assert report.environment.isolation == []


def test_module_that_exits_at_import_fails_every_code_check_with_the_reason():
    submission = Submission(module_source="import sys\nsys.exit(0)\n", answers={})
    report = grade_submission(submission, device="cpu", select=["q1.*", "written.q4"])
    code = [c for c in report.checks if c.question != "written"]
    assert report.succeeded and code
    assert all(c.status is CheckStatus.failed and "failed to import" in c.message for c in code), code
    assert "failed to import" in report.message
    written = next(c for c in report.checks if c.id == "written.q4")
    assert written.message == "no answer found under ## Q4"


def test_grader_fault_in_a_check_marks_the_report_not_succeeded(monkeypatch):
    def broken(ctx):
        raise RuntimeError("grader bug")

    spec = REGISTRY["written.q3"]
    monkeypatch.setitem(REGISTRY, "written.q3", dataclasses.replace(spec, func=broken))
    report = grade_submission(Submission(module_source=None, answers={"Q3": "x"}), select=["written.q3"])
    assert not report.succeeded and "written.q3" in report.message
    assert report.checks[0].status is CheckStatus.error and "grader bug" in report.checks[0].staff_traceback
    assert report.student_view().checks[0].staff_traceback is None


def test_progress_reports_each_check_started_and_finished():
    seen = []
    grade_submission(
        Submission(module_source=None, answers={}),
        select=["written.q3", "written.q4"],
        progress=lambda *event: seen.append(event),
    )
    assert seen == [
        ("written.q3", 0, 2, "running"),
        ("written.q3", 1, 2, "failed"),
        ("written.q4", 1, 2, "running"),
        ("written.q4", 2, 2, "failed"),
    ]


def test_past_the_submission_budget_checks_are_not_run(monkeypatch):
    settings = GraderSettings(submission_budget_s=1e-9)
    report = grade_submission(Submission(module_source=None, answers={}), select=["written.*"], settings=settings)
    assert report.checks and all(c.status is CheckStatus.error and "budget" in c.message for c in report.checks)
    assert report.succeeded is False and all("not your fault" in c.message for c in report.checks)


def test_cuda_without_a_gpu_is_a_grader_fault():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    from grader.runner import GraderFault

    with pytest.raises(GraderFault, match="no CUDA device"):
        grade_submission(Submission(module_source=None, answers={}), device="cuda", select=["written.q3"])


def test_suite_hash_changes_with_a_weight_and_not_with_the_order():
    from grader.suite import suite_sha256

    specs = select_checks()
    base = suite_sha256(specs)
    assert base == suite_sha256(list(reversed(specs)))
    heavier = [dataclasses.replace(s, points=s.points + 1) if s.id == "q3.shape" else s for s in specs]
    assert suite_sha256(heavier) != base
    assert len(base) == 64


def test_settings_come_from_vitgrade_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("VITGRADE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("VITGRADE_DEVICE", "cpu")
    monkeypatch.setenv("VITGRADE_SUBMISSION_BUDGET_S", "5")
    monkeypatch.setenv("VITGRADE_LIMITS", '{"request_timeout_s": 7}')
    settings = GraderSettings()
    assert settings.cache_dir == tmp_path and settings.device == "cpu" and settings.submission_budget_s == 5
    assert settings.limits.request_timeout_s == 7 and settings.limits.start_timeout_s > 0


def test_grade_files_turns_a_broken_intake_into_an_honest_fault_report(monkeypatch, tmp_path):
    import grader.api

    def broken(paths):
        raise RuntimeError("intake bug")

    monkeypatch.setattr(grader.api, "load_submission", broken)
    report = grader.api.grade_files([tmp_path / "vit.py"], select=["q1.*"])
    assert not report.succeeded and report.gradable and report.score == 0
    assert "not your fault" in report.message and "intake bug" in report.message
    assert report.max_score == sum(spec.points for spec in select_checks(["q1.*"]))
