"""Run one source through the grader's public checks (in-process harness) and through the kit's local ones."""

from pathlib import Path
from types import SimpleNamespace

from checks_support import InProcessSandbox, Verdict

from grader.checks.context import CheckContext
from grader.checks.registry import REGISTRY
from grader.outcomes import run_check as grader_run_check
from vitgrade_student.checks import run_check
from vitgrade_student.fixtures import Fixtures
from vitgrade_student.results import LocalResult
from vitgrade_student.runtime import namespace_of


class Pair:
    """One source, graded by the grader (``grader_verdict``) and checked by the kit (``local``)."""

    def __init__(self, source: str, directory: Path, fixtures: Fixtures):
        self.source, self.fixtures = source, fixtures
        path = directory / "student_vit.py"
        path.write_text(source)
        self.names = namespace_of(path)
        self.box = InProcessSandbox(source)

    def grader_verdict(self, check_id: str, seed: int | None = None) -> Verdict:
        """The runner's own verdict (``grader.outcomes``), the report's message and hint."""
        seed = self.fixtures.seed if seed is None else seed
        submission = SimpleNamespace(module_source=self.source)
        ctx = CheckContext(sandbox=self.box, submission=submission, seed=seed, check_id=check_id)
        result, grader_ok = grader_run_check(REGISTRY[check_id], ctx)
        if not grader_ok:
            raise AssertionError(f"grader fault in {check_id}: {result.message}")
        fraction = result.score / result.max_score if result.max_score else 0.0
        return Verdict(str(result.status.value), fraction, result.message, result.hint, dict(result.details or {}))

    def local(self, check_id: str) -> LocalResult:
        return run_check(check_id, self.names, self.fixtures)

    def close(self) -> None:
        self.box.close()
