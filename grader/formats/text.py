"""A readable table for a terminal: check, status, score, message; what to fix, in full; the totals."""

import textwrap

from grader.formats.common import summary
from grader.report import CheckStatus, Report

MESSAGE_WIDTH = 70
WRAP_WIDTH = 100


def _one_line(text: str, width: int = MESSAGE_WIDTH) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 3] + "..."


def _what_to_fix(report: Report) -> list[str]:
    """Every check that lost points, with its whole message and hint (the table cuts them short)."""
    lines: list[str] = []
    for check in report.checks:
        if check.status not in (CheckStatus.failed, CheckStatus.error) or not (check.message or check.hint):
            continue
        lines += ["", f"{check.id} ({check.status.value}, {check.score:g}/{check.max_score:g})"]
        lines += textwrap.wrap(check.message, WRAP_WIDTH, initial_indent="  ", subsequent_indent="  ")
        if check.hint:
            lines += textwrap.wrap(check.hint, WRAP_WIDTH, initial_indent="  hint: ", subsequent_indent="        ")
    return ["", "What to fix", "-----------", *lines[1:]] if lines else []


def to_text(report: Report) -> str:
    """The report as aligned text lines."""
    rows = [("check", "status", "score", "message")]
    for check in report.checks:
        rows.append((check.id, check.status.value, f"{check.score:g}/{check.max_score:g}", _one_line(check.message)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip() for a, b, c, d in rows]
    lines.insert(1, "-" * (sum(widths) + 6 + MESSAGE_WIDTH // 2))
    if not report.checks:
        lines = []
    lines += _what_to_fix(report)
    lines.append("")
    lines += [f"{q.id:<8} {q.score:g} / {q.max_score:g}" for q in report.questions]
    lines.append("")
    lines.append(summary(report))
    if report.message and report.succeeded and report.gradable:
        lines.append(report.message)
    env = report.environment
    lines.append(
        f"grader {env.grader_version}, torch {env.torch}, timm {env.timm}, device {env.device}, seed {env.seed}, "
        f"data {env.data_profile}, suite {env.suite_sha256[:12]}, {report.duration_s:.1f}s"
    )
    return "\n".join(lines).lstrip("\n") + "\n"
