"""What the writers share: check descriptions, test numbers and the one-line summary of a report."""

from grader.checks.registry import REGISTRY
from grader.report import CheckResult, Report


def description(check_id: str) -> str:
    """The check's public description (its docstring's first line), or '' for an unknown id."""
    spec = REGISTRY.get(check_id)
    return spec.description if spec is not None else ""


def test_numbers(report: Report) -> dict[str, str]:
    """'3.2' for the second check of Q3, 'W.1' for the first written check."""
    numbers: dict[str, str] = {}
    counts: dict[str, int] = {}
    for check in report.checks:
        counts[check.question] = counts.get(check.question, 0) + 1
        prefix = "W" if check.question == "written" else check.question.removeprefix("Q")
        numbers[check.id] = f"{prefix}.{counts[check.question]}"
    return numbers


def check_text(check: CheckResult) -> str:
    """The message and the hint of a check, as readable lines."""
    parts = [check.message.strip()] if check.message.strip() else []
    if check.hint.strip():
        parts.append(f"Hint: {check.hint.strip()}")
    return "\n".join(parts)


def summary(report: Report) -> str:
    """One line: the score, or why there is none."""
    if not report.succeeded:
        return f"GRADER FAULT: {report.message}"
    if not report.gradable:
        return f"NOT GRADABLE: {report.message}"
    return f"Score {report.score:g} / {report.max_score:g}"
