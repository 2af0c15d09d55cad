"""Gradescope's ``results.json``: top-level score and output, one test per check.

Fields follow Gradescope's autograder specification: ``score``, ``execution_time`` (seconds),
``output``, ``stdout_visibility``, and ``tests`` of ``{name, number, score, max_score, status,
output, visibility}`` with ``status`` passed/failed and ``visibility`` visible/hidden/after_due_date.
Hidden checks become ``after_due_date`` tests: the student sees them once the deadline has passed.
"""

import json

from grader.formats.common import check_text, description, summary, test_numbers
from grader.report import CheckStatus, Report


def to_gradescope(report: Report) -> str:
    """The results.json text for ``report`` (pass the student view: Gradescope shows it to students)."""
    numbers = test_numbers(report)
    tests = []
    for check in report.checks:
        about = description(check.id)
        output = check_text(check)
        if check.status is CheckStatus.skipped:
            output = f"skipped: {output}" if output else "skipped"
        elif check.status is CheckStatus.error:
            output = f"error: {output}"
        tests.append(
            {
                "name": f"{check.id}: {about}" if about else check.id,
                "number": numbers[check.id],
                "score": check.score,
                "max_score": check.max_score,
                "status": "failed" if check.status in (CheckStatus.failed, CheckStatus.error) else "passed",
                "output": output,
                "visibility": "after_due_date" if check.hidden else "visible",
            }
        )
    lines = [summary(report)]
    lines += [f"{q.id}: {q.score:g} / {q.max_score:g}" for q in report.questions]
    results = {
        "score": report.score,
        "execution_time": max(0, round(report.duration_s)),
        "output": "\n".join(lines),
        "stdout_visibility": "hidden",
        "visibility": "visible",
        "tests": tests,
    }
    return json.dumps(results, indent=2) + "\n"
