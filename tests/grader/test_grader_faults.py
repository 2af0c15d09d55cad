"""Grader faults are never the student's: a sandbox that cannot start, or an environment error raised with no
frame of the student's code, gives ``succeeded=False``, an honest message and exit code 2, while genuine
student errors (their own import, their constructor's signature) stay the student's."""

import json

from grading_support import reference_files

from grader.api import grade_files
from grader.cli import main
from grader.faults import exception_type, has_student_frame, is_environment_fault
from grader.report import CheckStatus
from grader.sandbox import SandboxLimits
from grader.settings import GraderSettings
from reference.bundle import bundle_submission

NO_START = GraderSettings(limits=SandboxLimits(start_timeout_s=0.001))  # test-only: no child can say hello in 1 ms
BROKEN_ENVIRONMENT = """
import functools

# A module the library imports lazily is missing (as with a virtual environment reached through a symlink):
# the ModuleNotFoundError is raised by the import machinery, with no frame of this file on the stack.
sinusoidal_positional_encoding = functools.partial(__import__, "numpy.ctypeslib_of_a_broken_venv")
"""
STUDENT_ERRORS = """
class MLP(MLP):
    def forward(self, x):
        import einops_is_not_installed_here  # the student's own import: their fault

        return super().forward(x)


class PatchEmbedding(nn.Module):  # no keyword arguments: the grader's call raises TypeError, their fault
    def __init__(self):
        super().__init__()
"""


def _module(tmp_path, attack: str):
    path = tmp_path / "vit.py"
    path.write_text(bundle_submission() + "\n\n" + attack)
    return path


def test_a_sandbox_that_cannot_start_is_a_grader_fault():
    report = grade_files(list(reference_files()), device="cpu", select=["q1.*", "written.q3"], settings=NO_START)
    assert report.succeeded is False and report.gradable is True
    assert "not your fault" in report.message and "did not start" in report.message, report.message
    code = [c for c in report.checks if c.question != "written"]
    assert code and all(c.status is CheckStatus.error and "not your fault" in c.message for c in code)
    assert not any(c.message.startswith("your code") for c in code)


def test_the_cli_exits_2_when_the_sandbox_cannot_start(tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    monkeypatch.setenv("VITGRADE_LIMITS", json.dumps({"start_timeout_s": 0.001}))
    code = main([*map(str, reference_files()), "--select", "q1.shape", "--device", "cpu", "-o", str(target)])
    assert code == 2
    report = json.loads(target.read_text())
    assert report["succeeded"] is False and "not your fault" in report["message"]


def test_an_environment_error_in_library_frames_only_is_a_grader_fault(tmp_path):
    report = grade_files([_module(tmp_path, BROKEN_ENVIRONMENT)], device="cpu", select=["q1.shape", "q6.sinusoidal"])
    by_id = {c.id: c for c in report.checks}
    assert report.succeeded is False and "q6.sinusoidal" in report.message
    fault = by_id["q6.sinusoidal"]
    assert fault.status is CheckStatus.error and "not your fault" in fault.message
    assert "ModuleNotFoundError" in fault.staff_traceback and not fault.message.startswith("your code")
    assert by_id["q1.shape"].status is CheckStatus.passed


def test_genuine_student_errors_stay_the_students(tmp_path):
    report = grade_files([_module(tmp_path, STUDENT_ERRORS)], device="cpu", select=["q1.shape", "q2.shape"])
    by_id = {c.id: c for c in report.checks}
    assert report.succeeded is True, report.message
    assert by_id["q2.shape"].status is CheckStatus.error and "einops_is_not_installed_here" in by_id["q2.shape"].message
    assert by_id["q1.shape"].score == 0 and "TypeError" in by_id["q1.shape"].message


def test_a_student_import_at_module_level_is_the_students(tmp_path):
    path = tmp_path / "vit.py"
    path.write_text("import torch\nimport einops_is_not_installed_here\n")
    report = grade_files([path], device="cpu", select=["q1.shape"])
    assert report.succeeded is True and report.checks[0].status is CheckStatus.failed
    assert "einops_is_not_installed_here" in report.checks[0].message


def test_the_classifier_reads_frames_and_exception_types():
    library_only = "Traceback (submission frames only):\nModuleNotFoundError: No module named 'numpy.ctypeslib'\n"
    student = 'Traceback (submission frames only):\n  File "submission.py", line 3, in forward\nImportError: x\n'
    assert exception_type("ModuleNotFoundError: No module named 'numpy.ctypeslib'") == "ModuleNotFoundError"
    assert exception_type("builtins.PermissionError: denied") == "PermissionError"
    assert has_student_frame(student) and not has_student_frame(library_only)
    assert is_environment_fault("ModuleNotFoundError: No module named 'numpy.ctypeslib'", library_only)
    assert not is_environment_fault("ImportError: x", student)
    assert not is_environment_fault("TypeError: __init__() got an unexpected keyword argument 'img_size'", "")
    assert not is_environment_fault("RuntimeError: mat1 and mat2 shapes cannot be multiplied", "")
