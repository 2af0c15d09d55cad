"""JUnit XML: one ``testsuite`` per question, one ``testcase`` per check, for CI systems to render.

A failed check is a ``failure``, an error an ``error``, a skipped check ``skipped``; the score of each
check and suite is in ``properties``. Student text is escaped by ElementTree, and characters that
XML 1.0 cannot carry at all (NUL, most control characters, lone surrogates) are replaced first.
"""

import re
import xml.etree.ElementTree as ET

from grader.formats.common import check_text, description, summary
from grader.report import CheckResult, CheckStatus, Report

NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """Text that XML 1.0 can hold: forbidden characters become U+FFFD."""
    return NOT_XML.sub("\ufffd", text)


def _properties(parent: ET.Element, values: dict[str, object]) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(props, "property", name=name, value=clean(str(value)))


def _testcase(suite: ET.Element, check: CheckResult) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=f"vitgrade.{check.question}", name=check.id, time=f"{check.duration_s:.3f}"
    )
    _properties(case, {"score": check.score, "max_score": check.max_score, "category": check.category.value})
    text = clean(check_text(check))
    first = clean(check.message.strip().splitlines()[0] if check.message.strip() else check.status.value)
    if check.status is CheckStatus.failed:
        ET.SubElement(case, "failure", message=first, type="failed").text = text
    elif check.status is CheckStatus.error:
        ET.SubElement(case, "error", message=first, type="error").text = text
    elif check.status is CheckStatus.skipped:
        ET.SubElement(case, "skipped", message=first)
    about = description(check.id)
    ET.SubElement(case, "system-out").text = clean(
        f"{check.id}: {about}\nscore {check.score:g} / {check.max_score:g}\n{text}".strip()
    )


def to_junit(report: Report) -> str:
    """The report as a JUnit XML document (``testsuites`` root)."""
    root = ET.Element("testsuites", name="vitgrade", time=f"{report.duration_s:.3f}")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    by_question: dict[str, list[CheckResult]] = {}
    for check in report.checks:
        by_question.setdefault(check.question, []).append(check)
    for question in [q.id for q in report.questions] or list(by_question):
        checks = by_question.get(question, [])
        suite_counts = {
            "tests": len(checks),
            "failures": sum(c.status is CheckStatus.failed for c in checks),
            "errors": sum(c.status is CheckStatus.error for c in checks),
            "skipped": sum(c.status is CheckStatus.skipped for c in checks),
        }
        suite = ET.SubElement(
            root,
            "testsuite",
            name=question,
            time=f"{sum(c.duration_s for c in checks):.3f}",
            **{key: str(value) for key, value in suite_counts.items()},
        )
        _properties(suite, {"score": sum(c.score for c in checks), "max_score": sum(c.max_score for c in checks)})
        for check in checks:
            _testcase(suite, check)
        for key, value in suite_counts.items():
            counts[key] += value
    if not report.succeeded or not report.gradable:
        suite = ET.SubElement(root, "testsuite", name="grading", tests="1", failures="0", errors="1", skipped="0")
        case = ET.SubElement(suite, "testcase", classname="vitgrade.grading", name="grading")
        ET.SubElement(case, "error", message=clean(summary(report))).text = clean(report.message)
        counts["tests"] += 1
        counts["errors"] += 1
    for key, value in counts.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
